"""The labeled-folder export, read back the way detector-training tools read it."""

from __future__ import annotations

import errno
import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import core.export as export_module
from core.annotations import mask_boxes
from core.export import (
    CLEAN_FOLDER,
    MIXED_FOLDER,
    AlreadyExportedError,
    DatasetExporter,
    ExportError,
    foreign_entries,
)
from core.export_formats import ExportOptions
from core.fsutil import write_synced
from core.imageio import load_image
from core.request import CLEANUP_CLASS, InpaintRequest, InpaintResult, MaskLayer, VariantResult, mask_sha256, sample_key
from tests.conftest import TEST_CLASSES

SAMPLE_FOLDERS = ("images", "masks", "annotations", "labels")


def _result(
    layers: list[tuple[tuple[int, int, int, int], str]],
    size=(120, 80),
    seed=7,
    variants=1,
    source_path: Path | None = None,
) -> InpaintResult:
    width, height = size
    image = np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8)
    mask_layers = []
    for (x0, y0, x1, y1), name in layers:
        mask = np.zeros((height, width), bool)
        mask[y0:y1, x0:x1] = True
        mask_layers.append(MaskLayer(mask, name))
    request = InpaintRequest(image, mask_layers, seed=seed, variants=variants, source_path=source_path)
    out = []
    for offset, seed_i in enumerate(request.seeds):
        labels = {layer.defect_class: layer.mask for layer in mask_layers if not layer.is_cleanup}
        boxes = [b for name, m in labels.items() for b in mask_boxes(m, name)]
        out.append(
            VariantResult(seed_i, np.clip(image.astype(int) + offset + 1, 0, 255).astype(np.uint8), labels, boxes)
        )
    return InpaintResult(request, out, "test-bundle", "f" * 64, 0.1)


def _sample_files(root: Path) -> list[Path]:
    return sorted(
        p for folder in SAMPLE_FOLDERS if (root / folder).exists() for p in (root / folder).rglob("*") if p.is_file()
    )


def _read_yolo(path: Path) -> list[tuple[int, float, float, float, float]]:
    rows = []
    for line in path.read_text().splitlines():
        index, *numbers = line.split()
        rows.append((int(index), *(float(n) for n in numbers)))
    return rows


def test_export_writes_the_labeled_folder_contract(tmp_path):
    exporter = DatasetExporter(tmp_path / "out", TEST_CLASSES)
    result = _result([((10, 20, 40, 30), "scratches")], source_path=Path("/data/NEU/crazing_1.bmp"))
    sample_id = exporter.export(result)
    root = tmp_path / "out"
    assert sample_id == "crazing_1_scratches_s7"

    image = Image.open(root / "images" / "scratches" / f"{sample_id}.png")
    assert image.size == (120, 80)
    assert np.array_equal(np.asarray(image), result.variants[0].image)
    mask = Image.open(root / "masks" / "scratches" / f"{sample_id}.png")
    assert mask.mode == "L" and mask.size == (120, 80)
    values = np.asarray(mask)
    assert set(np.unique(values)) == {0, 255} and (values == 255).sum() == 30 * 10

    voc = ET.parse(root / "annotations" / f"{sample_id}.xml").getroot()
    assert voc.tag == "annotation"
    assert voc.findtext("folder") == "scratches" and voc.findtext("filename") == f"{sample_id}.png"
    assert voc.find("source") is not None
    assert [voc.findtext(f"size/{t}") for t in ("width", "height", "depth")] == ["120", "80", "3"]
    assert voc.findtext("segmented") == "0"
    (obj,) = voc.findall("object")
    assert obj.findtext("name") == "scratches" and obj.findtext("pose") == "Unspecified"
    assert obj.findtext("truncated") == "0" and obj.findtext("difficult") == "0"
    box = [int(obj.findtext(f"bndbox/{t}")) for t in ("xmin", "ymin", "xmax", "ymax")]
    assert box == [11, 21, 40, 30]  # VOC: 1-based, inclusive

    ((index, cx, cy, w, h),) = _read_yolo(root / "labels" / f"{sample_id}.txt")
    assert TEST_CLASSES[index] == "scratches"
    assert (cx, cy, w, h) == pytest.approx((25 / 120, 25 / 80, 30 / 120, 10 / 80), abs=1e-6)
    assert (root / "classes.txt").read_text().splitlines() == TEST_CLASSES

    (line,) = (root / "manifest.jsonl").read_text().splitlines()
    record = json.loads(line)
    assert record["id"] == sample_id and record["class"] == "scratches" and record["seed"] == 7
    assert record["source_path"] == "/data/NEU/crazing_1.bmp" and len(record["source_sha256"]) == 64
    assert record["settings"] == result.request.to_record()
    assert record["bundle"] == "test-bundle" and record["bundle_fingerprint"] == "f" * 64
    assert record["mask_sha256"] == mask_sha256(result.request.layers)
    assert record["time"].endswith("+00:00") and record["app_version"]
    assert record["key"] == sample_key(record["source_sha256"], ["scratches"], 7, record["mask_sha256"])


def test_export_never_overwrites_existing_files(tmp_path):
    exporter = DatasetExporter(tmp_path, TEST_CLASSES)
    result = _result([((10, 20, 40, 30), "patches")])
    first = exporter.export(result)
    before = {p: p.read_bytes() for p in _sample_files(tmp_path)}
    # A stray file from some other tool owns the next id's annotation: it must be skipped, not replaced.
    stray = tmp_path / "annotations" / f"{first}-1.xml"
    stray.write_text("not ours")
    # Other pixels under the same id (another mask, the same seed): new samples, new suffixes.
    second = exporter.export(_result([((12, 20, 40, 30), "patches")]))
    third = DatasetExporter(tmp_path, TEST_CLASSES).export(_result([((14, 20, 40, 30), "patches")]))
    assert (first, second, third) == ("image_patches_s7", "image_patches_s7-2", "image_patches_s7-3")
    assert all(p.read_bytes() == data for p, data in before.items())
    assert stray.read_text() == "not ours"
    assert len((tmp_path / "manifest.jsonl").read_text().splitlines()) == 3


def test_export_leaves_no_partial_sample_when_disk_fills(tmp_path, monkeypatch):
    exporter = DatasetExporter(tmp_path, TEST_CLASSES)
    exporter.export(_result([((5, 5, 20, 20), "crazing")], seed=1))
    kept = {p: p.read_bytes() for p in _sample_files(tmp_path)}
    manifest = (tmp_path / "manifest.jsonl").read_bytes()
    real_write = write_synced  # what export writes with
    calls = []

    def fills_up(path, data):
        calls.append(path)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real_write(path, data)

    monkeypatch.setattr(export_module, "write_synced", fills_up)
    with pytest.raises(ExportError, match="no space left on device"):
        exporter.export(_result([((10, 20, 40, 30), "scratches"), ((60, 10, 90, 40), "inclusion")], seed=2))
    assert len(calls) == 3
    assert {p: p.read_bytes() for p in _sample_files(tmp_path)} == kept
    assert (tmp_path / "manifest.jsonl").read_bytes() == manifest
    assert not [p for p in tmp_path.rglob(".*.tmp")]


def test_a_failing_manifest_append_removes_the_sample(tmp_path, monkeypatch):
    exporter = DatasetExporter(tmp_path, TEST_CLASSES)

    def full(path, text):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(export_module, "append_line_synced", full)
    with pytest.raises(ExportError, match="nothing of it was kept"):
        exporter.export(_result([((10, 20, 40, 30), "scratches")]))
    assert _sample_files(tmp_path) == []


def test_unwritable_folder_is_a_clear_error(tmp_path, monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        if os.access(locked, os.W_OK):  # root ignores permissions: simulate what the OS would say

            def denied(path, data):
                raise PermissionError(errno.EACCES, "Permission denied", str(path))

            monkeypatch.setattr(export_module, "write_synced", denied)
        exporter = DatasetExporter(locked / "out", TEST_CLASSES)
        with pytest.raises(ExportError, match="permission denied.*choose a folder you can write to"):
            exporter.export(_result([((10, 20, 40, 30), "scratches")]))
        assert _sample_files(locked) == []
        assert not [p for p in locked.rglob(".*.tmp")]
    finally:
        locked.chmod(0o755)


def test_classes_txt_in_another_order_is_refused(tmp_path):
    DatasetExporter(tmp_path, TEST_CLASSES).export(_result([((10, 20, 40, 30), "scratches")]))
    with pytest.raises(ExportError, match="YOLO class indices would not match"):
        DatasetExporter(tmp_path, list(reversed(TEST_CLASSES)))
    assert DatasetExporter(tmp_path, TEST_CLASSES).counts() == {"scratches": 1}


def _check_image_folder(root: Path, classes: list[str]) -> dict[str, list[str]]:
    """What torchvision's ImageFolder needs: class folders only, image files only, each sample once."""
    layout: dict[str, list[str]] = {}
    for entry in sorted((root / "images").iterdir()):
        assert entry.is_dir(), f"{entry} is not a class folder"
        assert entry.name in classes or entry.name in (CLEAN_FOLDER, MIXED_FOLDER)
        files = sorted(p.name for p in entry.iterdir() if not p.name.startswith("."))
        assert all(name.endswith(".png") for name in files)
        layout[entry.name] = files
    all_ids = [name for files in layout.values() for name in files]
    assert len(all_ids) == len(set(all_ids)), "an image appears under two classes"
    return layout


def test_multi_class_image_is_filed_under_mixed_with_every_class_labeled(tmp_path):
    exporter = DatasetExporter(tmp_path, TEST_CLASSES, ExportOptions(formats=("voc", "yolo", "yolo-seg")))
    result = _result([((10, 20, 40, 30), "inclusion"), ((60, 40, 100, 70), "patches")])
    sample_id = exporter.export(result)
    exporter.export(_result([((5, 5, 30, 30), "patches")]))
    layout = _check_image_folder(tmp_path, TEST_CLASSES)
    # No single class folder would be true for it: not inclusion/ (its first layer), not patches/.
    assert layout[MIXED_FOLDER] == [f"{sample_id}.png"] and f"{sample_id}.png" not in layout["patches"]
    assert "inclusion" not in layout
    assert (tmp_path / "masks" / "inclusion" / f"{sample_id}.png").exists()
    assert (tmp_path / "masks" / "patches" / f"{sample_id}.png").exists()
    annotation = ET.parse(tmp_path / "annotations" / f"{sample_id}.xml").getroot()
    assert annotation.findtext("folder") == MIXED_FOLDER
    assert [o.findtext("name") for o in annotation.iter("object")] == ["inclusion", "patches"]
    indices = [row[0] for row in _read_yolo(tmp_path / "labels" / f"{sample_id}.txt")]
    assert indices == [TEST_CLASSES.index("inclusion"), TEST_CLASSES.index("patches")]
    polygons = tmp_path / "labels" / MIXED_FOLDER / f"{sample_id}.txt"  # where Ultralytics looks for them
    assert {int(line.split()[0]) for line in polygons.read_text().splitlines()} == set(indices)
    record = next(r for r in exporter.records() if r["id"] == sample_id)
    assert record["class"] == MIXED_FOLDER and record["classes"] == ["inclusion", "patches"]
    assert exporter.counts() == {"inclusion": 1, "patches": 2}


def test_image_folder_with_the_readme_recipe_reads_only_single_class_images(tmp_path):
    datasets = pytest.importorskip("torchvision.datasets", reason="torchvision (the train extra) is the reader")
    exporter = DatasetExporter(tmp_path, TEST_CLASSES)
    single = exporter.export(_result([((5, 5, 30, 30), "patches")]))
    exporter.export(_result([((10, 20, 40, 30), "inclusion"), ((60, 40, 100, 70), "patches")], seed=8))
    exporter.export(_result([((10, 20, 40, 30), CLEANUP_CLASS)], seed=9))
    classes = (tmp_path / "classes.txt").read_text().split()

    class DefectImages(datasets.ImageFolder):  # the README's recipe, word for word
        def find_classes(self, directory):
            return classes, {name: index for index, name in enumerate(classes)}

    images = DefectImages(str(tmp_path / "images"), allow_empty=True)
    assert [(Path(path).name, index) for path, index in images.samples] == [
        (f"{single}.png", TEST_CLASSES.index("patches"))
    ]
    everything = datasets.ImageFolder(str(tmp_path / "images"))  # plain: mixed/ and clean/ are folders of their own
    assert sorted(everything.classes) == sorted([CLEAN_FOLDER, MIXED_FOLDER, "patches"])


def test_a_class_cannot_take_the_name_of_the_mixed_or_clean_folder(tmp_path):
    for name in (MIXED_FOLDER, CLEAN_FOLDER):
        with pytest.raises(ExportError, match=f"images/{name}/"):
            DatasetExporter(tmp_path, [*TEST_CLASSES, name])


def test_cleanup_only_result_is_a_background_image(tmp_path):
    exporter = DatasetExporter(tmp_path, TEST_CLASSES)
    sample_id = exporter.export(_result([((10, 20, 40, 30), CLEANUP_CLASS)]))
    assert (tmp_path / "images" / CLEAN_FOLDER / f"{sample_id}.png").exists()
    assert not (tmp_path / "masks").exists()
    assert (tmp_path / "labels" / f"{sample_id}.txt").read_text() == ""
    assert ET.parse(tmp_path / "annotations" / f"{sample_id}.xml").getroot().find("object") is None
    assert exporter.counts() == {CLEAN_FOLDER: 1}


def test_export_writes_the_source_mode_and_depth(tmp_path):
    values = (np.arange(80 * 120).reshape(80, 120) * 7).astype(np.uint16)
    Image.fromarray(values).save(tmp_path / "plate.tif")
    source = load_image(tmp_path / "plate.tif")
    result = _result([((10, 20, 40, 30), "scratches")], size=(120, 80))
    result.request.image = source.rgb
    result.variants[0].image = source.rgb.copy()
    result.variants[0].image[20:30, 10:40] = 255
    exporter = DatasetExporter(tmp_path / "out", TEST_CLASSES)
    sample_id = exporter.export(result, source=source)
    written = Image.open(tmp_path / "out" / "images" / "scratches" / f"{sample_id}.png")
    assert written.mode == "I;16"
    back = np.asarray(written)
    assert np.array_equal(back[40:], values[40:])
    assert ET.parse(tmp_path / "out" / "annotations" / f"{sample_id}.xml").getroot().findtext("size/depth") == "1"
    record = json.loads((tmp_path / "out" / "manifest.jsonl").read_text())
    assert record["source_sha256"] == source.sha256 and record["image_mode"] == "I;16"


def test_each_variant_exports_with_its_own_seed_and_resume_key(tmp_path):
    exporter = DatasetExporter(tmp_path, TEST_CLASSES)
    result = _result([((10, 20, 40, 30), "pitted_surface")], seed=40, variants=3)
    ids = [exporter.export(result, variant=i) for i in range(3)]
    assert ids == ["image_pitted_surface_s40", "image_pitted_surface_s41", "image_pitted_surface_s42"]
    keys = exporter.exported_keys()
    assert len(keys) == 3 and all(k.split(":")[2] in {"40", "41", "42"} for k in keys)
    with pytest.raises(ExportError, match="no variant 3"):
        exporter.export(result, variant=3)


def test_a_failed_first_sample_of_a_class_leaves_no_empty_class_folder(tmp_path, monkeypatch):
    exporter = DatasetExporter(tmp_path, TEST_CLASSES)
    exporter.export(_result([((5, 5, 20, 20), "crazing")], seed=1))

    def fails(path, data):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(export_module, "write_synced", fails)
    with pytest.raises(ExportError):
        exporter.export(_result([((10, 20, 40, 30), "scratches")], seed=2))
    assert sorted(p.name for p in (tmp_path / "images").iterdir()) == ["crazing"]
    _check_image_folder(tmp_path, TEST_CLASSES)


def test_foreign_entries_name_what_a_dataset_would_not_hold(tmp_path):
    assert foreign_entries(tmp_path / "missing") == [] and foreign_entries(tmp_path) == []
    DatasetExporter(tmp_path / "ours", TEST_CLASSES).export(_result([((5, 5, 30, 30), "patches")]))
    assert foreign_entries(tmp_path / "ours") == []
    theirs = tmp_path / "theirs"
    (theirs / "images").mkdir(parents=True)  # a name we use is not enough to make it ours
    for name in ("photo.jpg", ".hidden", "Thumbs.db"):
        (theirs / name).write_text("x")
    assert foreign_entries(theirs) == ["photo.jpg"]


def test_exported_voc_is_the_dataset_readers_format_and_marks_edge_boxes_truncated(tmp_path):
    from core.annotations import read_voc, voc_for_boxes, write_voc

    exporter = DatasetExporter(tmp_path / "out", TEST_CLASSES)
    result = _result([((0, 20, 40, 30), "scratches"), ((60, 40, 80, 60), "patches")])
    sample_id = exporter.export(result)
    written = (tmp_path / "out" / "annotations" / f"{sample_id}.xml").read_text()
    boxes = result.variants[0].boxes
    # One VOC writer: the export and the procedural dataset writer produce the same text for the same boxes.
    assert written == write_voc(
        voc_for_boxes(f"{sample_id}.png", 120, 80, boxes, depth=3, database="DefectForge", folder=MIXED_FOLDER)
    )
    objects = sorted(read_voc(tmp_path / "out" / "annotations" / f"{sample_id}.xml").objects, key=lambda o: o.xmin)
    assert [(o.xmin, o.truncated) for o in objects] == [(1, 1), (61, 0)]


def test_the_same_pixels_of_the_same_request_are_exported_once(tmp_path):
    """Issue 18 item 5: Re-run exactly, Accept, Export gives the same request's byte-identical pixels again; a
    second copy (`...-1`, same manifest key) could land in val while the first is in train. It is refused, naming
    the sample that holds them, also for a manifest written before image_sha256 was recorded."""
    root = tmp_path / "out"
    first = DatasetExporter(root, TEST_CLASSES).export(_result([((10, 20, 40, 30), "patches")]))
    before = _sample_files(root)
    rerun = _result([((10, 20, 40, 30), "patches")])  # a re-run: a new result object, the same pixels
    with pytest.raises(AlreadyExportedError, match=f"already exported as {first}") as caught:
        DatasetExporter(root, TEST_CLASSES).export(rerun)
    assert caught.value.sample_id == first and isinstance(caught.value, ExportError)
    assert _sample_files(root) == before and len((root / "manifest.jsonl").read_text().splitlines()) == 1

    record = json.loads((root / "manifest.jsonl").read_text())
    del record["image_sha256"]  # as an older version wrote it
    (root / "manifest.jsonl").write_text(json.dumps(record) + "\n")
    with pytest.raises(AlreadyExportedError):
        DatasetExporter(root, TEST_CLASSES).export(rerun)

    other_pixels = _result([((10, 20, 40, 30), "patches")])  # same key (another sampler setting, say)...
    other_pixels.variants[0].image[0, 0] ^= 1  # ...but not the same pixels: a sample of its own
    assert DatasetExporter(root, TEST_CLASSES).export(other_pixels) == f"{first}-1"
