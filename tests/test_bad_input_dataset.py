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
