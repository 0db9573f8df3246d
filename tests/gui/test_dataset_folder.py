"""Issue 12, gap 4: the dataset folder has a default under the user's documents, a typed new path is made and
used, and a folder holding other files is adopted only after a warning."""

from __future__ import annotations

import platformdirs

from app import dialogs
from app.dataset_folder import DatasetFolderDialog, default_dataset_dir
from tests.gui.conftest import drag, type_dataset_folder


def _accepted_result(qtbot, window) -> None:
    window.set_active_class("scratches")
    window.set_tool("rectangle")
    drag(window.canvas, [(100, 80), (160, 120)])
    window.actions_.generate.trigger()
    qtbot.waitUntil(lambda: not window.controller.busy and window.generation.result is not None, timeout=60000)
    window.generation.accept_variant(0)


def test_the_first_export_offers_a_default_folder_under_documents(window, qtbot, tmp_path, monkeypatch, messages):
    monkeypatch.setattr(platformdirs, "user_documents_dir", lambda: str(tmp_path / "Documents"))
    _accepted_result(qtbot, window)
    offered = type_dataset_folder(monkeypatch, None)  # the user just presses OK
    window.actions_.export.trigger()
    qtbot.waitUntil(lambda: "Exported" in window.statusBar().currentMessage(), timeout=20000)
    default = tmp_path / "Documents" / "DefectForge" / "dataset"
    assert offered == [str(default)] and default_dataset_dir() == default
    assert window.settings.dataset_dir == str(default)
    assert len(list((default / "images" / "scratches").glob("*.png"))) == 1
    assert messages == []


def test_a_typed_new_path_is_made_and_becomes_the_dataset_folder(window, qtbot, tmp_path, monkeypatch, messages):
    typed = tmp_path / "new" / "nested" / "dataset"
    shown = type_dataset_folder(monkeypatch, typed)
    window.settings.dataset_dir = str(tmp_path / "old")
    window.actions_.choose_dataset.trigger()
    assert shown == [str(tmp_path / "old")]  # the dialog starts from the current folder
    assert typed.is_dir() and window.settings.dataset_dir == str(typed)
    assert messages == []


def test_a_folder_holding_other_files_is_adopted_only_after_a_warning(window, tmp_path, monkeypatch):
    holiday = tmp_path / "Pictures"
    holiday.mkdir()
    for name in ("beach.jpg", "notes.txt", "family"):
        (holiday / name).mkdir() if name == "family" else (holiday / name).write_text("mine")
    (holiday / ".DS_Store").write_text("")  # hidden litter is not "other files"
    questions = []
    answer = {"value": False}
    monkeypatch.setattr(dialogs, "ask_yes_no", lambda parent, title, text: questions.append(text) or answer["value"])
    type_dataset_folder(monkeypatch, holiday)
    window.actions_.choose_dataset.trigger()
    assert len(questions) == 1 and "3 other" in questions[0] and "beach.jpg, family, notes.txt" in questions[0]
    assert window.settings.dataset_dir != str(holiday)  # "No" keeps the old folder
    answer["value"] = True
    window.actions_.choose_dataset.trigger()
    assert window.settings.dataset_dir == str(holiday)


def test_an_existing_dataset_or_empty_folder_is_adopted_without_asking(window, tmp_path, monkeypatch, messages):
    dataset = tmp_path / "dataset"
    dataset.mkdir()
    (dataset / "classes.txt").write_text("scratches\n")
    (dataset / "README.txt").write_text("my notes about this dataset")
    type_dataset_folder(monkeypatch, dataset)
    window.actions_.choose_dataset.trigger()
    assert window.settings.dataset_dir == str(dataset) and messages == []


def test_a_file_or_a_relative_path_is_refused_and_the_dialog_stays_open(qtbot, tmp_path, messages):
    a_file = tmp_path / "dataset.zip"
    a_file.write_text("zip")
    dialog = DatasetFolderDialog(None)
    qtbot.addWidget(dialog)
    for text in (str(a_file), "relative/folder", ""):
        dialog.path_edit.setText(text)
        dialog.accept()
        assert dialog.folder is None and dialog.result() != DatasetFolderDialog.DialogCode.Accepted
    assert [title for _, title, _ in messages] == ["Choose the dataset folder"] * 3
    assert "is a file" in messages[0][2] and "full path" in messages[1][2]
