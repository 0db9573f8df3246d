"""Choosing the dataset folder exports go to: a default under the user's documents, a path that may be typed
(a new folder is made), and a warning before a folder holding other files is turned into a dataset."""

from __future__ import annotations

from pathlib import Path

import platformdirs
from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app import dialogs
from core.export import foreign_entries

SHOWN_ENTRIES = 5  # names of other files listed in the warning; the rest are counted


def default_dataset_dir() -> Path:
    """Where a first export goes unless the user says otherwise."""
    return Path(platformdirs.user_documents_dir()) / "DefectForge" / "dataset"


class DatasetFolderDialog(QDialog):
    """A path field (typed, or filled by Browse…) that is checked on OK: `folder` is the adopted folder."""

    def __init__(self, current: Path | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Choose the dataset folder"))
        self.folder: Path | None = None
        explain = QLabel(
            self.tr(
                "Exports go to this folder: images/, masks/, labels and a manifest. Type a new "
                "folder to have it made, or pick one."
            )
        )
        explain.setWordWrap(True)
        self.path_edit = QLineEdit(str(current or default_dataset_dir()))
        self.path_edit.setMinimumWidth(420)
        browse = QPushButton(self.tr("Browse…"))
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.path_edit, 1)
        row.addWidget(browse)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(explain)
        layout.addLayout(row)
        layout.addWidget(buttons)

    @Slot()
    def _browse(self) -> None:
        start = Path(self.path_edit.text()).expanduser()
        while not start.is_dir() and start != start.parent:  # the dialog cannot start in a folder not made yet
            start = start.parent
        folder = QFileDialog.getExistingDirectory(self, self.windowTitle(), str(start))
        if folder:
            self.path_edit.setText(folder)

    def accept(self) -> None:
        folder = self._checked(self.path_edit.text().strip())
        if folder is not None:
            self.folder = folder
            super().accept()

    def _checked(self, text: str) -> Path | None:
        """The folder to adopt, made if new; None (after saying why) when it cannot or should not be used."""
        folder = Path(text).expanduser()
        title = self.windowTitle()
        if not text or not folder.is_absolute():
            dialogs.show_warning(self, title, self.tr("Type the full path of a folder."))
            return None
        if folder.exists() and not folder.is_dir():
            dialogs.show_warning(self, title, self.tr("%1 is a file, not a folder.").replace("%1", str(folder)))
            return None
        others = foreign_entries(folder)
        if others:
            shown = ", ".join(others[:SHOWN_ENTRIES]) + (" …" if len(others) > SHOWN_ENTRIES else "")
            question = self.tr(
                "%1 already holds %2 other file(s) or folder(s) (%3). DefectForge would add its "
                "images/, masks/, labels and manifest beside them. Use this folder anyway?"
            )
            if not dialogs.ask_yes_no(
                self, title, question.replace("%1", str(folder)).replace("%2", str(len(others))).replace("%3", shown)
            ):
                return None
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            dialogs.show_warning(
                self,
                title,
                self.tr("Cannot make %1: %2").replace("%1", str(folder)).replace("%2", exc.strerror or str(exc)),
            )
            return None
        return folder


def choose_dataset_folder(parent: QWidget | None, current: Path | None) -> Path | None:
    """Ask for the dataset folder, starting from `current` (else the default); None when cancelled."""
    dialog = DatasetFolderDialog(current, parent)
    dialog.exec()
    return dialog.folder  # set only when OK found the folder usable
