"""COCO, YOLO segmentation, data.yaml and the train/val split, each read back by the library trainers use."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml
from PIL import Image

import core.export as export_module
from core.annotations import mask_boxes, mask_instances
from core.export import DatasetExporter
from core.export_formats import ExportOptions, FormatError, coco_annotations, rle_encode, split_of, yolo_polygon_lines
from core.fsutil import write_synced
from core.request import InpaintRequest, InpaintResult, MaskLayer, VariantResult
from tests.conftest import TEST_CLASSES

ALL_FORMATS = ("voc", "yolo", "yolo-seg", "coco")


def _ragged_mask(rng: np.random.Generator, size=(120, 80)) -> np.ndarray:
    """Blobs with holes, single pixels, diagonal-only neighbours and edge contact: what polygons get wrong."""
    width, height = size
    mask = np.zeros((height, width), np.uint8)
    for _ in range(3):
        cv2.circle(mask, (int(rng.integers(0, width)), int(rng.integers(0, height))), int(rng.integers(3, 14)), 1, -1)
    mask[rng.random((height, width)) < 0.01] = 1  # isolated pixels
    mask[height // 2, width // 2] = 0  # a hole
    mask[0:3, 0:5] = 1  # touches the corner
    mask[10, 100], mask[11, 101] = 1, 1  # two pixels joined only diagonally: one 8-connected instance
    return mask.astype(bool)


def _result(masks: dict[str, np.ndarray], seed: int = 7, source: str = "plate.png") -> InpaintResult:
    height, width = next(iter(masks.values())).shape
    image = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    layers = [MaskLayer(mask, name) for name, mask in masks.items()]
    request = InpaintRequest(image, layers, seed=seed, variants=1, source_path=Path(source))
    boxes = [b for name, m in masks.items() for b in mask_boxes(m, name)]
    return InpaintResult(request, [VariantResult(seed, image, dict(masks), boxes)], "test-bundle", "f" * 64, 0.1)


def _fill(out: Path, count: int, options: ExportOptions, seed0: int = 0) -> DatasetExporter:
    exporter = DatasetExporter(out, TEST_CLASSES, options)
    rng = np.random.default_rng(seed0)
    for index in range(count):
        names = [TEST_CLASSES[index % len(TEST_CLASSES)]] + (["patches"] if index % 3 == 0 else [])
        exporter.export(_result({name: _ragged_mask(rng) for name in dict.fromkeys(names)}, seed=seed0 + index))
    return exporter


def test_our_rle_is_byte_for_byte_what_pycocotools_encodes():
    mask_utils = pytest.importorskip("pycocotools.mask", reason="pycocotools (the dev extra) reads COCO back")
    rng = np.random.default_rng(1)
    cases = [np.zeros((5, 7), bool), np.ones((5, 7), bool), _ragged_mask(rng)]
    cases += [rng.random(tuple(rng.integers(1, 40, 2))) < rng.random() for _ in range(50)]
    for mask in cases:
        expected = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
        assert rle_encode(mask) == {"size": list(expected["size"]), "counts": expected["counts"].decode()}


def test_coco_instances_load_in_pycocotools_and_match_our_masks_pixel_for_pixel(tmp_path):
    pytest.importorskip("pycocotools", reason="pycocotools (the dev extra) reads COCO back")
    from pycocotools.coco import COCO

    exporter = _fill(tmp_path, 5, ExportOptions(formats=("coco",)))
    exporter.export(_result({"crazing": np.zeros((80, 120), bool)}, seed=99))  # a clean image: no annotation
    exporter.build()
    coco = COCO(str(tmp_path / "annotations" / "instances.json"))
    assert [c["name"] for c in coco.loadCats(coco.getCatIds())] == TEST_CLASSES
    assert len(coco.getImgIds()) == 6
    for image in coco.loadImgs(coco.getImgIds()):
        assert (tmp_path / image["file_name"]).is_file()
        sample_id = Path(image["file_name"]).stem
        masks = sorted((tmp_path / "masks").glob(f"*/{sample_id}.png"))
        for mask_path in masks:
            ours = np.asarray(Image.open(mask_path)) > 0
            category = TEST_CLASSES.index(mask_path.parent.name) + 1
            annotations = coco.loadAnns(coco.getAnnIds(imgIds=image["id"], catIds=[category]))
            decoded = [coco.annToMask(a).astype(bool) for a in annotations]
            assert len(decoded) == len(mask_boxes(ours, "x"))  # one instance per region, as the boxes
            assert np.array_equal(np.logical_or.reduce(decoded), ours)
            assert sum(int(d.sum()) for d in decoded) == int(ours.sum())  # instances never overlap
            for annotation, instance in zip(annotations, decoded, strict=True):
                assert annotation["area"] == instance.sum() and annotation["iscrowd"] == 0
                ys, xs = np.nonzero(instance)
                assert annotation["bbox"] == [xs.min(), ys.min(), xs.max() + 1 - xs.min(), ys.max() + 1 - ys.min()]
        if not masks:
            assert coco.getAnnIds(imgIds=image["id"]) == []


def test_yolo_seg_polygons_sit_where_ultralytics_looks_and_cover_each_instance(tmp_path):
    exporter = _fill(tmp_path, 4, ExportOptions(formats=("yolo", "yolo-seg")))
    for record in exporter.records():
        image = Path(next(f for f in record["files"] if f.startswith("images/")))
        label = tmp_path / "labels" / image.parent.name / f"{image.stem}.txt"  # Ultralytics' images/ -> labels/
        assert (tmp_path / "labels" / f"{record['id']}.txt").is_file()  # the YOLO boxes stay where they were
        rows = [line.split() for line in label.read_text().splitlines()]
        for name in record["classes"]:
            ours = np.asarray(Image.open(tmp_path / "masks" / name / f"{record['id']}.png")) > 0
            polygons = [np.array(row[1:], float).reshape(-1, 2) for row in rows if TEST_CLASSES[int(row[0])] == name]
            instances = [each.pixels for each in mask_instances(ours)]
            assert len(polygons) == len(instances)
            for polygon, instance in zip(polygons, instances, strict=True):
                assert len(polygon) >= 3 and polygon.min() >= 0 and polygon.max() <= 1
                # Ultralytics rasterises a polygon with cv2.fillPoly: vertices at pixel centres give our pixels.
                drawn = np.zeros(ours.shape, np.uint8)
                cv2.fillPoly(drawn, [np.rint(polygon * (ours.shape[1], ours.shape[0]) - 0.5).astype(np.int32)], 1)
                filled = drawn.astype(bool)
                if instance.sum() >= 20:  # holes are filled and one-pixel squares round: only small ones differ
                    assert (filled & instance).sum() / (filled | instance).sum() > 0.9
                assert (filled & instance).any()


def test_split_is_by_image_reproducible_by_seed_and_stable_as_the_folder_grows(tmp_path):
    options = ExportOptions(formats=("yolo-seg",), val_fraction=0.3, split_seed=5)
    exporter = _fill(tmp_path / "a", 30, options)
    first = exporter.build()
    assert first == DatasetExporter(tmp_path / "a", TEST_CLASSES, options).build()
    assert sorted(first["train"] + first["val"]) == sorted(r["id"] for r in exporter.records())
    assert 3 <= len(first["val"]) <= 16
    reseeded = DatasetExporter(tmp_path / "a", TEST_CLASSES, ExportOptions(val_fraction=0.3, split_seed=6)).build()
    assert reseeded["val"] != first["val"]
    for side in ("train", "val"):
        listed = (tmp_path / "a" / f"{side}.txt").read_text().splitlines()
        assert [Path(line).stem for line in listed] == reseeded[side]
        assert all(line.startswith("./images/") and (tmp_path / "a" / line).is_file() for line in listed)
    _fill(tmp_path / "a", 10, options, seed0=100)
    grown = DatasetExporter(tmp_path / "a", TEST_CLASSES, options).build()
    assert set(first["val"]) <= set(grown["val"]) and set(first["train"]) <= set(grown["train"])
    assert all(split_of(i, 5, 0.3) == "val" for i in grown["val"])


def test_coco_and_data_yaml_follow_the_split(tmp_path):
    options = ExportOptions(formats=("yolo-seg", "coco"), val_fraction=0.4, split_seed=1)
    exporter = _fill(tmp_path, 12, options)
    ids = exporter.build()
    for side in ("train", "val"):
        data = json.loads((tmp_path / "annotations" / f"instances_{side}.json").read_text())
        assert sorted(Path(i["file_name"]).stem for i in data["images"]) == sorted(ids[side])
        assert {a["image_id"] for a in data["annotations"]} <= {i["id"] for i in data["images"]}
    everything = json.loads((tmp_path / "annotations" / "instances.json").read_text())
    assert len(everything["images"]) == 12
    data = yaml.safe_load((tmp_path / "data.yaml").read_text())
    assert data == {
        "train": "train.txt",
        "val": "val.txt",
        "nc": len(TEST_CLASSES),
        "names": dict(enumerate(TEST_CLASSES)),
    }
    # Without a split, val is the training list (Ultralytics needs one) and stale split files go.
    DatasetExporter(tmp_path, TEST_CLASSES, ExportOptions(formats=("yolo-seg", "coco"))).build()
    assert yaml.safe_load((tmp_path / "data.yaml").read_text())["val"] == "train.txt"
    assert not (tmp_path / "val.txt").exists() and not (tmp_path / "annotations" / "instances_val.json").exists()


def test_formats_choose_each_samples_label_files(tmp_path):
    exporter = _fill(tmp_path, 1, ExportOptions(formats=("coco",)))
    (record,) = exporter.records()
    assert all(f.startswith(("images/", "masks/")) for f in record["files"])
    assert not (tmp_path / "labels").exists() and not list((tmp_path).glob("annotations/*.xml"))
    with pytest.raises(FormatError, match="unknown export format 'yolov8'"):
        ExportOptions.parse_formats("voc,yolov8")
    with pytest.raises(FormatError, match="from 0 to below 1"):
        ExportOptions(val_fraction=1.0)


def test_a_failed_build_keeps_the_previous_files_whole(tmp_path, monkeypatch):
    exporter = _fill(tmp_path, 3, ExportOptions(formats=("coco", "yolo-seg")))
    exporter.build()
    before = {
        p: p.read_bytes()
        for p in (tmp_path / "annotations" / "instances.json", tmp_path / "data.yaml", tmp_path / "train.txt")
    }
    _fill(tmp_path, 2, ExportOptions(formats=("coco", "yolo-seg")), seed0=50)
    real_write = write_synced  # what export writes with

    def full_at_coco(path, data):
        if "instances" in path.name:
            raise OSError(28, "No space left on device", str(path))
        real_write(path, data)

    monkeypatch.setattr(export_module, "write_synced", full_at_coco)
    with pytest.raises(export_module.ExportError, match="no space left on device"):
        exporter.build()
    assert (tmp_path / "annotations" / "instances.json").read_bytes() == before[
        tmp_path / "annotations" / "instances.json"
    ]
    assert not list(tmp_path.rglob(".*.tmp"))
    monkeypatch.setattr(export_module, "write_synced", real_write)
    exporter.build()
    assert len(json.loads((tmp_path / "annotations" / "instances.json").read_text())["images"]) == 5


# Run apart: importing ultralytics patches PIL.Image.open (and cv2, torch.load) for the whole process.
CHECKER = """
import json, sys
from ultralytics.data.dataset import YOLODataset
from ultralytics.data.utils import check_det_dataset
data = check_det_dataset(sys.argv[1], autodownload=False)
labels = {side: YOLODataset(img_path=data[side], data=data, task="segment", augment=False, imgsz=128).labels
          for side in ("train", "val")}
print(json.dumps({"nc": data["nc"], "names": list(data["names"].values()),
                  **{side: [[len(l["segments"]), len(l["cls"])] for l in found] for side, found in labels.items()}}))
"""


def test_ultralytics_dataset_checker_accepts_the_folder(tmp_path):
    if importlib.util.find_spec("ultralytics") is None:
        pytest.skip("ultralytics is not installed (scripts/setup.sh --dev installs it)")
    exporter = _fill(tmp_path, 8, ExportOptions(formats=("yolo-seg",), val_fraction=0.25, split_seed=3))
    ids = exporter.build()
    env = {**os.environ, "YOLO_CONFIG_DIR": str(tmp_path / "ultralytics"), "YOLO_AUTOINSTALL": "False"}
    done = subprocess.run(
        [sys.executable, "-c", CHECKER, str(tmp_path / "data.yaml")], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["nc"] == len(TEST_CLASSES) and seen["names"] == list(TEST_CLASSES)
    for side in ("train", "val"):
        assert len(seen[side]) == len(ids[side]) > 0
        assert all(segments == classes > 0 for segments, classes in seen[side])


def test_a_sample_whose_files_were_deleted_is_left_out_of_the_dataset_files(tmp_path, caplog):
    exporter = _fill(tmp_path, 3, ExportOptions(formats=("coco",)))
    gone = exporter.records()[1]
    for relative in gone["files"]:
        (tmp_path / relative).unlink()
    ids = exporter.build()
    assert gone["id"] not in ids["train"] and len(ids["train"]) == 2
    assert len(json.loads((tmp_path / "annotations" / "instances.json").read_text())["images"]) == 2
    assert gone["id"] in caplog.text


def test_a_sample_whose_mask_is_damaged_is_left_out_of_the_coco_file_and_the_build_goes_on(tmp_path, caplog):
    exporter = _fill(tmp_path, 3, ExportOptions(formats=("coco",)))
    damaged = exporter.records()[0]
    mask = next(f for f in damaged["files"] if f.startswith("masks/"))
    (tmp_path / mask).write_bytes(b"not a png any more")
    ids = exporter.build()
    assert damaged["id"] not in ids["train"] and len(ids["train"]) == 2
    assert len(json.loads((tmp_path / "annotations" / "instances.json").read_text())["images"]) == 2
    assert damaged["id"] in caplog.text


def test_boxes_coco_instances_and_polygons_count_the_same_instances_in_the_same_order():
    """A diagonal touch joins two strokes: every label format must see one instance there, not two."""
    mask = np.zeros((40, 60), bool)
    mask[20:30, 40:50] = True  # lower, to the right
    mask[5:10, 30:35] = True  # upper: listed first
    mask[10, 35] = True  # touches it only diagonally
    mask[25:35, 2:6] = True  # lower, to the left: before the other lower one
    boxes = mask_boxes(mask, "scratches")
    coco = coco_annotations({"scratches": mask}, ["scratches"], image_id=1, first_id=1)
    polygons = yolo_polygon_lines({"scratches": mask}, ["scratches"]).decode().splitlines()
    assert [(b.x0, b.y0, b.x1, b.y1) for b in boxes] == [(30, 5, 36, 11), (40, 20, 50, 30), (2, 25, 6, 35)]
    assert [a["bbox"] for a in coco] == [[b.x0, b.y0, b.x1 - b.x0, b.y1 - b.y0] for b in boxes]
    assert len(polygons) == len(boxes) == len(mask_instances(mask))


def test_every_format_a_user_can_choose_has_one_writer_and_no_module_tests_format_names():
    import re

    from core.export_formats import FORMATS
    from core.export_writers import WRITERS

    assert tuple(WRITERS) == FORMATS and all(name == writer.name for name, writer in WRITERS.items())
    root = Path(__file__).resolve().parent.parent
    name = r"[\"'](voc|yolo|yolo-seg|coco)[\"']"
    by_name = re.compile(rf"{name}\s*(not\s+)?in\b|[=!]=\s*{name}")
    found = [
        str(path.relative_to(root))
        for folder in ("app", "core", "training")
        for path in (root / folder).rglob("*.py")
        if by_name.search(path.read_text(encoding="utf-8"))
    ]
    assert found == []


def test_a_sample_lists_its_label_files_in_the_same_order_whatever_order_the_formats_were_given(tmp_path):
    given = _fill(tmp_path / "a", 1, ExportOptions(formats=("yolo-seg", "coco", "yolo", "voc")))
    (record,) = given.records()
    labels = [f for f in record["files"] if f.startswith(("annotations/", "labels/"))]
    assert [f.split("/")[0] + ("/<folder>" if f.count("/") == 2 else "") for f in labels] == [
        "annotations",
        "labels",
        "labels/<folder>",
    ]
