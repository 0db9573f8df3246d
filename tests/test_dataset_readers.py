"""Reading public dataset layouts, quirks and broken files included, without ever stopping on a bad file."""

from __future__ import annotations

import pytest

from core.data import DatasetError, detect_kind, read_dataset
from core.imageio import load_mask
from core.request import Box
from tests import dataset_layouts as layouts


def _by_name(dataset):
    return {s.image.name: s for s in dataset.samples}


def _messages(dataset):
    return {(p.path.name, p.message.split(";")[0].split(":")[0]) for p in dataset.problems}


def test_neu_det_flat_reads_boxes_in_pixel_coordinates(tmp_path):
    dataset = read_dataset(layouts.neu_det_flat(tmp_path / "NEU-DET"))
    assert dataset.kind == "neu-det"
    sample = _by_name(dataset)["crazing_1.jpg"]
    # VOC is 1-based inclusive; Box is 0-based with an exclusive end.
    assert sample.boxes == (Box("crazing", 1, 1, 193, 194),)
    assert sample.defect_class == "crazing" and sample.source == "neu-det"


def test_neu_det_filename_without_jpg_still_finds_its_image(tmp_path):
    dataset = read_dataset(layouts.neu_det_flat(tmp_path / "NEU-DET"))
    assert len(_by_name(dataset)["crazing_2.jpg"].boxes) == 2


def test_neu_det_reports_every_broken_file_and_keeps_going(tmp_path):
    dataset = read_dataset(layouts.neu_det_flat(tmp_path / "NEU-DET"))
    messages = _messages(dataset)
    assert ("inclusion_1.xml", "box inclusion (149, 29, 215, 60) reaches outside the 200x200 image") in messages
    assert ("patches_9.xml", "annotation without image (patches_9.jpg)") in messages
    assert ("pitted_surface_1.jpg", "unreadable image") in messages
    assert ("scratches_1.xml", "unknown class 'dent'") in messages
    assert ("rolled-in_scale_1.jpg", "image without annotation") in messages
    assert ("patches_2.xml", "unreadable annotation") in messages
    # The box past the edge is clipped to the image, the unknown class dropped, the good ones kept.
    samples = _by_name(dataset)
    assert samples["inclusion_1.jpg"].boxes == (Box("inclusion", 149, 29, 200, 60),)
    assert [b.defect_class for b in samples["scratches_1.jpg"].boxes] == ["scratches"]
    assert "pitted_surface_1.jpg" not in samples
    assert samples["rolled-in_scale_1.jpg"].defect_class == "rolled-in_scale"


def test_neu_det_train_validation_split_is_found_inside_its_download_folder(tmp_path):
    dataset = read_dataset(layouts.neu_det_split(tmp_path))
    assert dataset.kind == "neu-det" and dataset.root.name == "NEU-DET"
    assert sorted(s.image.name for s in dataset.samples) == ["crazing_1.jpg", "crazing_241.jpg", "scratches_1.jpg"]
    assert all(s.boxes == (Box(s.defect_class, 2, 3, 100, 120),) for s in dataset.samples)
    assert dataset.problems == []


def test_neu_cls_prefixes_become_the_six_neu_class_names(tmp_path):
    dataset = read_dataset(layouts.neu_cls(tmp_path / "NEU-CLS"))
    assert dataset.kind == "neu-cls"
    assert {s.image.stem: s.defect_class for s in dataset.samples} == {
        "Cr_1": "crazing",
        "In_12": "inclusion",
        "Pa_3": "patches",
        "PS_4": "pitted_surface",
        "RS_5": "rolled-in_scale",
        "Sc_300": "scratches",
    }
    assert [p.path.name for p in dataset.problems] == ["Xx_1.bmp"]


def test_sd_saliency_pairs_images_with_masks_including_palette_bmp(tmp_path):
    dataset = read_dataset(layouts.sd_saliency(tmp_path / "SD-saliency-900"))
    assert dataset.kind == "sd-saliency"
    samples = {s.image.stem: s for s in dataset.samples}
    assert {k: s.defect_class for k, s in samples.items()} == {"In_1": "In", "Sc_2": "Sc", "Pa_3": "Pa"}
    palette_mask = load_mask(samples["Sc_2"].mask)
    assert palette_mask.sum() == 4 * 200 and palette_mask[:, 100:104].all()
    assert load_mask(samples["In_1"].mask).sum() == 40 * 60
    assert samples["Pa_3"].mask is None
    assert [(p.path.name, p.message) for p in dataset.problems] == [("Pa_3.bmp", "no mask in Ground truth/")]


def test_xsdd_reads_class_folders_with_mixed_jpg_and_png(tmp_path):
    dataset = read_dataset(layouts.xsdd(tmp_path))
    assert dataset.kind == "x-sdd"
    assert sorted((s.image.name, s.defect_class) for s in dataset.samples) == [
        ("red_iron_1.jpg", "red_iron"),
        ("red_iron_2.png", "red_iron"),
        ("slag_inclusion_1.jpg", "slag_inclusion"),
    ]


def test_gc10_handles_lable_folder_yaozhed_alias_duplicates_and_missing_xml(tmp_path):
    dataset = read_dataset(layouts.gc10(tmp_path / "GC10-DET"))
    assert dataset.kind == "gc10"
    samples = _by_name(dataset)
    assert set(samples) == {"img_01_3402617700_00001.jpg", "img_10_4406743300_00003.jpg"}
    first = samples["img_01_3402617700_00001.jpg"]
    assert first.image.parent.name == "1"  # the first folder's copy of a duplicated name
    assert {b.defect_class for b in first.boxes} == {"1_chongkong", "2_hanfeng"}
    assert [b.defect_class for b in samples["img_10_4406743300_00003.jpg"].boxes] == ["10_yaozhe"]
    messages = _messages(dataset)
    assert ("img_01_3402617700_00001.jpg", "duplicate image name, also at " + str(first.image)) in messages
    assert ("img_01_3402617700_00002.jpg", "image without annotation in lable/") in messages
    assert ("img_10_4406743300_00003.xml", "unknown class 'd'") in messages
    assert ("img_05_4406743300_00009.xml", "annotation without image (img_05_4406743300_00009.jpg)") in messages


def test_mvtec_good_images_are_clean_and_defects_carry_their_masks(tmp_path):
    dataset = read_dataset(layouts.mvtec(tmp_path / "mvtec_anomaly_detection"))
    assert dataset.kind == "mvtec"
    classes = sorted((s.image.parent.name, s.defect_class) for s in dataset.samples)
    assert classes == [("color", "metal_nut/color"), ("good", None), ("good", None), ("scratch", "metal_nut/scratch")]
    scratch = next(s for s in dataset.samples if s.defect_class == "metal_nut/scratch")
    assert load_mask(scratch.mask)[10:14, 10:30].all()
    assert [p.message for p in dataset.problems] == ["no mask in ground_truth/"]


def test_plain_class_folders_treat_good_as_clean(tmp_path):
    dataset = read_dataset(layouts.class_folders(tmp_path / "mine"))
    assert dataset.kind == "folders"
    assert sorted((s.image.name, s.defect_class) for s in dataset.samples) == [
        ("a.png", "scratches"),
        ("b.jpg", "scratches"),
        ("c.png", None),
    ]


@pytest.mark.parametrize(
    ("builder", "kind"),
    [
        (layouts.neu_det_flat, "neu-det"),
        (layouts.neu_det_split, "neu-det"),
        (layouts.neu_cls, "neu-cls"),
        (layouts.sd_saliency, "sd-saliency"),
        (layouts.xsdd, "x-sdd"),
        (layouts.gc10, "gc10"),
        (layouts.mvtec, "mvtec"),
        (layouts.class_folders, "folders"),
    ],
)
def test_auto_detect_recognises_every_layout(tmp_path, builder, kind):
    found = detect_kind(builder(tmp_path / "data"))
    assert found is not None and found[0] == kind


def test_a_kind_given_by_hand_skips_detection(tmp_path):
    root = layouts.neu_cls(tmp_path / "NEU-CLS")
    as_folders = read_dataset(root, kind="folders")  # no class folders there: nothing, but no error
    assert as_folders.samples == [] and all("outside any class folder" in p.message for p in as_folders.problems)
    as_gc10 = read_dataset(root, kind="gc10")
    assert as_gc10.samples == [] and [p.message for p in as_gc10.problems] == ["no gc10 data found here"]


def test_unreadable_folders_raise_a_one_line_reason(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        read_dataset(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="no known dataset layout"):
        read_dataset(tmp_path / "empty")
    with pytest.raises(DatasetError, match="unknown dataset kind"):
        read_dataset(tmp_path / "empty", kind="coco")


def test_odd_voc_flags_and_float_coordinates_are_read_like_labelling_tools_mean_them(tmp_path):
    from core.annotations import read_voc

    text = layouts.neu_xml("cr", "crazing_1.jpg", [("crazing", 2, 2, 50, 60)])
    text = text.replace("<truncated>0</truncated>", "<truncated>Unspecified</truncated>")
    text = text.replace("<xmax>50</xmax>", "<xmax>50.4</xmax>").replace("<difficult>0</difficult>", "<difficult/>")
    path = tmp_path / "a.xml"
    path.write_text(text)
    (obj,) = read_voc(path).objects
    assert (obj.truncated, obj.difficult) == (0, 0)
    assert obj.to_box() == Box("crazing", 1, 1, 50, 60)


def test_voc_written_for_boxes_reads_back_to_the_same_boxes(tmp_path):
    from core.annotations import read_voc, voc_for_boxes, write_voc

    boxes = (Box("scratches", 0, 5, 200, 17), Box("scratches", 40, 41, 42, 190))
    path = tmp_path / "scratches_1.xml"
    path.write_text(write_voc(voc_for_boxes("scratches_1.jpg", 200, 200, boxes)))
    annotation = read_voc(path)
    assert annotation.folder == "sc" and annotation.depth == 1
    assert tuple(o.to_box() for o in annotation.objects) == boxes
    assert [o.truncated for o in annotation.objects] == [1, 0]


def test_a_neu_cls_file_named_by_the_code_our_voc_files_write_reads_back_as_that_class(tmp_path):
    """NEU's class codes have one home: the code a VOC <folder> gets is the one a NEU-CLS name is read by."""
    from core.annotations import voc_for_boxes
    from core.names import NEU_CLASSES

    for number, name in enumerate(NEU_CLASSES, start=1):
        code = voc_for_boxes("x.png", 200, 200, [Box(name, 1, 1, 9, 9)]).folder
        assert len(code) == 2
        layouts.gray_image(tmp_path / f"{code.upper() if number % 2 else code.title()}_{number}.bmp")
    dataset = read_dataset(tmp_path, kind="neu-cls")
    assert [s.defect_class for s in sorted(dataset.samples, key=lambda s: int(s.image.stem.split("_")[1]))] == list(
        NEU_CLASSES
    )
    assert dataset.problems == []
