"""Bad input, round three (issue 20): dataset folders with links out of them, hand-edited manifests, damaged
records. Every case ends in one clear line or a warning naming the sample, and nothing outside the folder is
read or written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.dataset_cli import main as dataset_main
from core.export import DatasetExporter
from core.export_formats import ExportOptions
from tests.conftest import TEST_CLASSES
from tests.test_bad_input import _result, _synth_plate

ALL_FORMATS = ExportOptions(formats=("voc", "yolo", "yolo-seg", "coco"), val_fraction=0.5)


def _dataset(root: Path, count: int = 2, options: ExportOptions = ALL_FORMATS) -> DatasetExporter:
    exporter = DatasetExporter(root, TEST_CLASSES, options)
    for seed in range(1, count + 1):
        exporter.export(_result(seed=seed))
    return exporter


def _build(root: Path, capsys, *flags: str) -> tuple[int, str]:
    code = dataset_main(["build", str(root), *flags])
    return code, capsys.readouterr().err


def _warning(caplog, about: str = "") -> str:
    """The one warning a build logged (about `about`; the CLI prints it as one line)."""
    lines = [r.getMessage() for r in caplog.records if r.levelname == "WARNING" and about in r.getMessage()]
    assert len(lines) == 1, lines
    caplog.clear()
    return lines[0]


def _one_line(err: str) -> str:
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1, err
    return lines[0]


# ---- 2. links never lead a writer out of the folder -------------------------------------------------------


@pytest.mark.parametrize("linked", ["images", "annotations"])
def test_synth_never_writes_through_a_folder_linked_outside(tmp_path, test_bundle_path, capsys, linked):
    out, outside = tmp_path / "out", tmp_path / "outside"
    outside.mkdir()
    out.mkdir()
    (out / linked).symlink_to(outside, target_is_directory=True)
    code, err = _synth_plate(tmp_path, test_bundle_path, capsys, "--formats", "voc,coco", "--seed", "1", out=out)
    assert code != 0
    assert "link" in _one_line(err)
    assert list(outside.iterdir()) == []


def test_dataset_build_never_writes_through_a_folder_linked_outside(tmp_path, capsys):
    out, outside = tmp_path / "out", tmp_path / "outside"
    _dataset(out)
    outside.mkdir()
    for path in (out / "annotations").iterdir():
        path.rename(outside / path.name)
    (out / "annotations").rmdir()
    (out / "annotations").symlink_to(outside, target_is_directory=True)
    before = {p.name: p.stat().st_mtime_ns for p in outside.iterdir()}
    code, err = _build(out, capsys, "--formats", "voc,coco")
    assert code != 0
    assert "link" in _one_line(err)
    assert {p.name: p.stat().st_mtime_ns for p in outside.iterdir()} == before


def test_a_dangling_lock_link_is_never_followed(tmp_path, test_bundle_path, capsys):
    out, target = tmp_path / "out", tmp_path / "outside" / "created"
    target.parent.mkdir()
    _dataset(out, count=1)
    (out / ".defectforge.lock").unlink(missing_ok=True)
    (out / ".defectforge.lock").symlink_to(target)
    code, err = _build(out, capsys)
    assert code != 0 and "link" in _one_line(err)
    code, err = _synth_plate(tmp_path, test_bundle_path, capsys, "--seed", "1", out=out)
    assert code != 0 and "link" in _one_line(err)
    assert not target.exists()


# ---- 3. dataset build trusts no manifest path ---------------------------------------------------------------


def _edit_records(root: Path, edit) -> None:
    manifest = root / "manifest.jsonl"
    records = [json.loads(line) for line in manifest.read_text().splitlines()]
    edit(records)
    manifest.write_text("".join(json.dumps(r) + "\n" for r in records))


@pytest.mark.parametrize("hostile", ["../../outside/secret.png", "images/../../../../etc/hostname", "/etc/hostname"])
def test_dataset_build_leaves_out_a_record_whose_path_leads_outside_the_folder(tmp_path, capsys, caplog, hostile):
    out = tmp_path / "datasets" / "out"
    _dataset(out)
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.png").write_bytes((out / "images").rglob("*.png").__next__().read_bytes())

    def point_outside(records):
        records[0]["files"] = [hostile if f.startswith("images/") else f for f in records[0]["files"]]

    _edit_records(out, point_outside)
    code, err = _build(out, capsys, "--formats", "voc,yolo,yolo-seg,coco")
    assert code == 0
    assert "outside the folder" in _warning(caplog, "left out")  # (its real image, no longer owned, is set aside)
    listed = (out / "train.txt").read_text()  # no --val-fraction: every sample in train
    assert "outside" not in listed and "hostname" not in listed and len(listed.splitlines()) == 1
    coco = json.loads((out / "annotations" / "instances.json").read_text())
    assert len(coco["images"]) == 1


# ---- one line instead of a traceback: damaged records ---------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "said"),
    [("files", 7, "'files' is not a list"), ("size", [48], "size"), ("size", [640, 480], "size")],
)
def test_dataset_build_leaves_out_a_damaged_record_and_says_why(tmp_path, capsys, caplog, field, value, said):
    out = tmp_path / "out"
    _dataset(out)

    def damage(records):
        records[0][field] = value

    _edit_records(out, damage)
    code, err = _build(out, capsys, "--formats", "coco")
    assert code == 0
    line = _warning(caplog)
    assert said in line and "left out" in line
    coco = json.loads((out / "annotations" / "instances.json").read_text())
    assert len(coco["images"]) == 1
    assert all((img["width"], img["height"]) == (48, 32) for img in coco["images"])


def test_a_mask_of_another_size_than_its_image_is_left_out_and_named(tmp_path, capsys, caplog):
    from PIL import Image

    out = tmp_path / "out"
    _dataset(out)
    mask = sorted((out / "masks").rglob("*.png"))[0]
    Image.new("L", (100, 100), 255).save(mask)
    code, err = _build(out, capsys, "--formats", "coco")
    assert code == 0
    line = _warning(caplog)
    assert mask.stem in line and "100x100" in line
    coco = json.loads((out / "annotations" / "instances.json").read_text())
    assert len(coco["images"]) == 1
    assert all(a["segmentation"]["size"] == [32, 48] for a in coco["annotations"])


# ---- 4. the class index order already written is part of the dataset -----------------------------------------


def test_a_reordered_or_shortened_classes_file_is_refused_saying_what_differs(tmp_path, capsys):
    out = tmp_path / "out"
    _dataset(out)
    classes = out / "classes.txt"
    original = classes.read_text()
    names = original.split()
    reordered = [names[-1], *names[:-1]]
    classes.write_text("\n".join(reordered) + "\n")
    code, err = _build(out, capsys)
    assert code != 0
    line = _one_line(err)
    assert "index" in line and "scratches" in line
    classes.write_text("\n".join(n for n in names if n != "scratches") + "\n")
    code, err = _build(out, capsys)
    assert code != 0 and "'scratches'" in _one_line(err)
    classes.write_text(original)
    assert _build(out, capsys)[0] == 0


# ---- 6. whole-folder files describe every sample, whatever formats earlier runs chose --------------------------


def test_whole_folder_files_describe_every_sample_after_a_run_of_other_formats(tmp_path, capsys):
    out = tmp_path / "out"
    exporter = DatasetExporter(out, TEST_CLASSES, ExportOptions(formats=("coco", "yolo-seg"), val_fraction=0.5))
    exporter.export(_result(seed=1))
    exporter.build()
    plain = DatasetExporter(out, TEST_CLASSES, ExportOptions())
    plain.export(_result(seed=2))
    plain.build()
    coco = json.loads((out / "annotations" / "instances.json").read_text())
    assert len(coco["images"]) == 2
    import yaml

    data = yaml.safe_load((out / "data.yaml").read_text())
    assert (out / data["train"]).exists() and (out / data["val"]).exists()


# ---- 10. the work per mask is bounded -------------------------------------------------------------------------


def test_a_mask_of_countless_specks_is_left_out_of_coco_not_traced_region_by_region(tmp_path, caplog, monkeypatch):
    import numpy as np
    from PIL import Image

    import core.export_writers

    monkeypatch.setattr(core.export_writers, "MAX_REGIONS_PER_MASK", 20)
    out = tmp_path / "out"
    exporter = _dataset(out)
    mask = sorted((out / "masks").rglob("*.png"))[0]
    specks = np.zeros((32, 48), np.uint8)
    specks[::3, ::3] = 255  # 11 x 16 separate dots
    Image.fromarray(specks).save(mask)
    exporter.build()
    line = _warning(caplog)
    assert mask.stem in line and "176 separate regions" in line
    coco = json.loads((out / "annotations" / "instances.json").read_text())
    assert len(coco["images"]) == 1


# ---- one line instead of a traceback: a source with a 240-character name -------------------------------------


def test_a_source_with_a_very_long_name_gets_a_shortened_id_and_is_exported(tmp_path):
    import dataclasses

    out = tmp_path / "out"
    exporter = DatasetExporter(out, TEST_CLASSES)
    ids = []
    for seed, ending in ((1, "a"), (2, "b")):  # other pixels: the same request's pixels are exported once
        result = _result(seed=seed)
        long_name = Path("x" * 236 + ending + ".png")
        result = dataclasses.replace(result, request=dataclasses.replace(result.request, source_path=long_name))
        ids.append(exporter.export(result))
    assert all(len(sample_id) < 140 for sample_id in ids)
    assert ids[0].split("_scratches")[0] != ids[1].split("_scratches")[0]  # the names' ends differ: so do the ids
    assert len(list((out / "images" / "scratches").iterdir())) == 2


# ---- 7. files of a sample the manifest never got are set aside, not doubled -----------------------------------


@pytest.mark.parametrize("how", ["killed before the manifest line", "torn manifest line"])
def test_files_no_manifest_line_owns_are_set_aside_and_the_sample_is_written_once(tmp_path, caplog, how):
    out = tmp_path / "out"
    first = DatasetExporter(out, TEST_CLASSES, ALL_FORMATS).export(_result(seed=1))
    sample_id = DatasetExporter(out, TEST_CLASSES, ALL_FORMATS).export(_result(seed=2))
    manifest = out / "manifest.jsonl"
    lines = manifest.read_text().splitlines(keepends=True)
    kept = lines[0] + (lines[1][: len(lines[1]) // 2] if how == "torn manifest line" else "")
    manifest.write_text(kept)
    caplog.clear()
    exporter = DatasetExporter(out, TEST_CLASSES, ALL_FORMATS)
    assert exporter.export(_result(seed=2)) == sample_id  # not sample_id-1
    exporter.build()
    exporter.records()
    images = sorted(p.name for p in (out / "images").rglob("*.png"))
    assert images == sorted([f"{first}.png", f"{sample_id}.png"])
    assert (out / "train.txt").read_text().count(sample_id) + (out / "val.txt").read_text().count(sample_id) == 1
    aside = list((out / ".orphaned").rglob(f"{sample_id}.png"))
    assert len(aside) == 2  # its image and its mask, kept, not deleted
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len([w for w in warnings if "no manifest line owns" in w]) == 1
    assert len([w for w in warnings if "not valid JSON" in w]) == (1 if how == "torn manifest line" else 0)
