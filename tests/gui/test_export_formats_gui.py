"""Issue 13, part 3 from the app: the dataset folder dialog picks the label files (VOC, YOLO boxes, YOLO-seg with
data.yaml, COCO) and a validation share; an app export writes them, and the folder-wide files are rebuilt."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml
from PIL import Image

from app.dataset_folder import DatasetFolderDialog
from app.settings import ExportSettings, Settings
from core.export import DatasetExporter, ExportError
from tests.gui.conftest import drag, type_dataset_folder


def _export_one(qtbot, window, variant: int = 0) -> str:
    window.set_active_class("scratches")
    window.set_tool("rectangle")
    drag(window.canvas, [(100, 80), (160, 120)])
    window.actions_.generate.trigger()
    qtbot.waitUntil(lambda: not window.controller.busy and window.generation.result is not None, timeout=60000)
    window.generation.accept_variant(variant)
    window.actions_.export.trigger()
    qtbot.waitUntil(lambda: "Exported" in _status(window), timeout=20000)
    return window.generation.exported[variant]


def _status(window) -> str:
    return window.statusBar().currentMessage()


def test_the_chosen_label_files_are_written_and_read_back_by_their_own_libraries(
    window, qtbot, tmp_path, monkeypatch, messages
):
    mask_utils = pytest.importorskip("pycocotools.mask")
    dataset = tmp_path / "dataset"
    type_dataset_folder(monkeypatch, dataset, formats=("yolo-seg", "coco"), val_percent=0)
    sample_id = _export_one(qtbot, window)
    assert window.settings.export == ExportSettings(["yolo-seg", "coco"], 0, 0)
    assert not (dataset / "annotations" / f"{sample_id}.xml").exists()  # VOC unticked
    assert not (dataset / "labels" / f"{sample_id}.txt").exists()  # YOLO boxes unticked
    assert (dataset / "labels" / "scratches" / f"{sample_id}.txt").read_text().startswith("5 ")
    coco = json.loads((dataset / "annotations" / "instances.json").read_text())
    (image,) = coco["images"]
    assert image["file_name"] == f"images/scratches/{sample_id}.png"
    mask = np.asarray(Image.open(dataset / "masks" / "scratches" / f"{sample_id}.png"))
    decoded = sum(mask_utils.decode(a["segmentation"]) for a in coco["annotations"])
    assert np.array_equal(decoded > 0, mask > 0)
    data = yaml.safe_load((dataset / "data.yaml").read_text())
    assert data["names"][5] == "scratches" and data["val"] == data["train"] == "train.txt"
    assert (dataset / "train.txt").read_text() == f"./images/scratches/{sample_id}.png\n"
    assert messages == []


def test_a_validation_share_splits_the_folders_lists_as_the_cli_does(window, qtbot, tmp_path, monkeypatch):
    dataset = tmp_path / "dataset"
    type_dataset_folder(monkeypatch, dataset, formats=("voc", "yolo-seg"), val_percent=50)
    first = _export_one(qtbot, window, 0)
    assert window.settings.export.val_percent == 50
    lists = {side: (dataset / f"{side}.txt").read_text() for side in ("train", "val")}
    assert sum(first in text for text in lists.values()) == 1
    # the same sides as `defectforge dataset build` with the same share and seed
    ids = DatasetExporter(dataset, window.controller.model.info.class_names, window.settings.export.options()).build()
    assert (first in ids["val"]) == (first in lists["val"])
    assert yaml.safe_load((dataset / "data.yaml").read_text())["val"] == "val.txt"


def test_ticking_no_label_file_is_refused_and_the_dialog_stays(qtbot, tmp_path, messages):
    dialog = DatasetFolderDialog(tmp_path / "dataset", None, ExportSettings(["coco"], 20, 7))
    qtbot.addWidget(dialog)
    assert [n for n, c in dialog.format_checks.items() if c.isChecked()] == ["coco"]
    assert (dialog.val_percent.value(), dialog.split_seed.value()) == (20, 7)
    for check in dialog.format_checks.values():
        check.setChecked(False)
    dialog.accept()
    assert dialog.folder is None and dialog.export is None and not (tmp_path / "dataset").exists()
    assert messages and "at least one" in messages[-1][2]


def test_a_failed_rebuild_is_a_note_not_a_failed_export(window, qtbot, tmp_path, monkeypatch, messages):
    def broken_build(self):
        raise ExportError("disk full (simulated)")

    monkeypatch.setattr(DatasetExporter, "build", broken_build)
    dataset = tmp_path / "dataset"
    type_dataset_folder(monkeypatch, dataset, formats=("voc", "coco"))
    _export_one(qtbot, window)
    qtbot.waitUntil(lambda: "not rebuilt" in _status(window), timeout=20000)
    assert "disk full (simulated)" in _status(window)
    assert len(list((dataset / "images" / "scratches").glob("*.png"))) == 1  # the sample itself is in
    assert messages == []  # no "Export failed" dialog: exporting again would write it twice


def test_export_settings_are_read_leniently():
    settings = Settings.from_dict(
        {"export": {"formats": ["coco", "bogus", "voc"], "val_percent": 90, "split_seed": -3}}
    )
    assert settings.export == ExportSettings(["voc", "coco"], 50, 0)  # known formats in FORMATS order, clamped
    assert Settings.from_dict({"export": {"formats": []}}).export == ExportSettings()
    assert Settings.from_dict({"export": "nonsense"}).export == ExportSettings()
    assert Settings.from_dict({"export": {"split_seed": 2**40}}).export.split_seed == 2**31 - 1
