"""Choosing the dataset folder exports go to: a default under the user's documents, a path that may be typed
(a new folder is made), a warning before a folder holding other files is turned into a dataset, and what the
folder holds for trainers: label formats (core.export_formats) and the train/val split of its lists."""

from __future__ import annotations

from pathlib import Path

import platformdirs
from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app import dialogs
from app.settings import MAX_VAL_PERCENT, ExportSettings
from core.export import foreign_entries
from core.export_formats import FORMATS
from core.request import MAX_SHORT_SEED

SHOWN_ENTRIES = 5  # names of other files listed in the warning; the rest are counted


def default_dataset_dir() -> Path:
    """Where a first export goes unless the user says otherwise."""
    return Path(platformdirs.user_documents_dir()) / "DefectForge" / "dataset"


class DatasetFolderDialog(QDialog):
    """A path field (typed, or filled by Browse…) that is checked on OK, and the folder's label formats and split:
    `folder` is the adopted folder and `export` the chosen formats and split (both set only by OK)."""

    def __init__(
        self, current: Path | None, parent: QWidget | None = None, export: ExportSettings | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Choose the dataset folder"))
        self.folder: Path | None = None
        self.export: ExportSettings | None = None
        chosen = export or ExportSettings()
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
        layout.addWidget(self._formats_box(chosen))
        layout.addWidget(buttons)

    def _formats_box(self, chosen: ExportSettings) -> QGroupBox:
        """A check box per label format (FORMATS order) and the split; images and masks are always written."""
        texts = {
            "voc": self.tr("Pascal VOC boxes (annotations/<id>.xml)"),
            "yolo": self.tr("YOLO boxes (labels/<id>.txt)"),
            "yolo-seg": self.tr("YOLO segmentation polygons and data.yaml for Ultralytics"),
            "coco": self.tr("COCO instances with RLE masks (annotations/instances.json)"),
        }
        box = QGroupBox(self.tr("Label files (images and masks are always written)"))
        form = QFormLayout(box)
        self.format_checks: dict[str, QCheckBox] = {}
        for name in FORMATS:
            check = QCheckBox(texts[name])
            check.setChecked(name in chosen.formats)
            self.format_checks[name] = check
            form.addRow(check)
        self.val_percent = QSpinBox(minimum=0, maximum=MAX_VAL_PERCENT, suffix=" %", value=chosen.val_percent)
        self.val_percent.setToolTip(
            self.tr("Share of images listed in val.txt (and instances_val.json); 0 = no split, val is train")
        )
        self.split_seed = QSpinBox(minimum=0, maximum=MAX_SHORT_SEED, value=chosen.split_seed)
        self.split_seed.setToolTip(
            self.tr("The same seed gives the same split; an image keeps its side as the folder grows")
        )
        form.addRow(self.tr("Validation share:"), self.val_percent)
        form.addRow(self.tr("Split seed:"), self.split_seed)
        return box

    def chosen_export(self) -> ExportSettings:
        formats = [name for name, check in self.format_checks.items() if check.isChecked()]
        return ExportSettings(formats, self.val_percent.value(), self.split_seed.value())

    @Slot()
    def _browse(self) -> None:
        start = Path(self.path_edit.text()).expanduser()
        while not start.is_dir() and start != start.parent:  # the dialog cannot start in a folder not made yet
            start = start.parent
        folder = QFileDialog.getExistingDirectory(self, self.windowTitle(), str(start))
        if folder:
            self.path_edit.setText(folder)

    def accept(self) -> None:
        export = self.chosen_export()
        if not export.formats:
            dialogs.show_warning(self, self.windowTitle(), self.tr("Tick at least one kind of label file."))
            return
        folder = self._checked(self.path_edit.text().strip())
        if folder is not None:
            self.folder, self.export = folder, export
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


def choose_dataset_folder(
    parent: QWidget | None, current: Path | None, export: ExportSettings
) -> tuple[Path, ExportSettings] | None:
    """Ask for the dataset folder and its label files, starting from `current` (else the default) and `export`;
    None when cancelled."""
    dialog = DatasetFolderDialog(current, parent, export)
    dialog.exec()
    if dialog.folder is None or dialog.export is None:  # set only when OK found the folder usable
        return None
    return dialog.folder, dialog.export
