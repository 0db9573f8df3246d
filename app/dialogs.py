"""Dialogs: errors and questions (one place, so tests can record them instead of blocking), keyboard
shortcuts help, About with versions and device."""

from __future__ import annotations

import html
import platform
import sys

from PySide6.QtCore import QT_TRANSLATE_NOOP, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QMessageBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)


def show_error(parent: QWidget | None, title: str, text: str, details: str = "") -> None:
    """A modal error message; `details` (e.g. the technical cause) goes behind 'Show Details'."""
    box = QMessageBox(QMessageBox.Icon.Critical, title, text, QMessageBox.StandardButton.Ok, parent)
    if details:
        box.setDetailedText(details)
    box.exec()


def show_warning(parent: QWidget | None, title: str, text: str) -> None:
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, parent)
    box.exec()


def ask_yes_no(parent: QWidget | None, title: str, text: str) -> bool:
    """A Yes/No question; Enter answers No. Every question here asks before something that cannot be taken back
    (variants dropped, a mask of specks run, a foreign folder written into, the device changed): the safe answer
    is the default."""
    box = QMessageBox(
        QMessageBox.Icon.Question, title, text, QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, parent
    )
    box.setDefaultButton(QMessageBox.StandardButton.No)
    return box.exec() == QMessageBox.StandardButton.Yes


# Keys handled inside the canvas rather than by actions, listed in the help next to the actions' shortcuts.
CANVAS_KEYS = (
    (QT_TRANSLATE_NOOP("ShortcutsDialog", "1 … 9"), QT_TRANSLATE_NOOP("ShortcutsDialog", "Pick defect class 1 to 9")),
    (QT_TRANSLATE_NOOP("ShortcutsDialog", "Space + drag"), QT_TRANSLATE_NOOP("ShortcutsDialog", "Pan")),
    (QT_TRANSLATE_NOOP("ShortcutsDialog", "Middle-drag"), QT_TRANSLATE_NOOP("ShortcutsDialog", "Pan")),
    (QT_TRANSLATE_NOOP("ShortcutsDialog", "Wheel"), QT_TRANSLATE_NOOP("ShortcutsDialog", "Zoom to the cursor")),
    (
        QT_TRANSLATE_NOOP("ShortcutsDialog", "Right-drag"),
        QT_TRANSLATE_NOOP("ShortcutsDialog", "Erase with the current tool"),
    ),
    (QT_TRANSLATE_NOOP("ShortcutsDialog", "Shift + drag"), QT_TRANSLATE_NOOP("ShortcutsDialog", "Square / circle")),
    (
        QT_TRANSLATE_NOOP("ShortcutsDialog", "Hold C"),
        QT_TRANSLATE_NOOP("ShortcutsDialog", "Show the original (before)"),
    ),
    (
        QT_TRANSLATE_NOOP("ShortcutsDialog", "Enter / double-click"),
        QT_TRANSLATE_NOOP("ShortcutsDialog", "Close the polygon"),
    ),
    (
        QT_TRANSLATE_NOOP("ShortcutsDialog", "Esc"),
        QT_TRANSLATE_NOOP("ShortcutsDialog", "Drop the shape in progress / cancel a run"),
    ),
)


class ShortcutsDialog(QDialog):
    """Every action with a shortcut, plus the canvas's own keys."""

    def __init__(self, actions: list[QAction], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Keyboard shortcuts"))
        rows: list[tuple[str, str]] = []
        for action in actions:
            keys = action.shortcuts()
            if keys:
                text = action.text().replace("&", "")
                rows.append((", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in keys), text))
        rows += [(self.tr(keys), self.tr(what)) for keys, what in CANVAS_KEYS]
        table = QTableWidget(len(rows), 2)
        table.setHorizontalHeaderLabels([self.tr("Keys"), self.tr("Action")])
        table.verticalHeader().setVisible(False)
        table.verticalHeader().setDefaultSectionSize(24)
        table.setShowGrid(False)
        table.setAlternatingRowColors(True)
        table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        table.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        for row, (keys, what) in enumerate(rows):
            table.setItem(row, 0, QTableWidgetItem(keys))
            table.setItem(row, 1, QTableWidgetItem(what))
        table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table = table
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(table)
        layout.addWidget(buttons)
        self.resize(520, 560)


def versions() -> dict[str, str]:
    import numpy
    import PySide6
    import torch
    from PySide6.QtCore import qVersion

    from core.resources import app_version

    return {
        "DefectForge": app_version(),
        "Python": sys.version.split()[0],
        "Qt / PySide6": f"{qVersion()} / {PySide6.__version__}",
        "PyTorch": torch.__version__,
        "NumPy": numpy.__version__,
        "OS": f"{platform.system()} {platform.release()}",
    }


class AboutDialog(QDialog):
    def __init__(
        self, device_text: str, model_text: str, parent: QWidget | None = None, data_credit: str | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("About DefectForge"))
        rows = "".join(f"<tr><td><b>{k}</b>&nbsp;&nbsp;</td><td>{v}</td></tr>" for k, v in versions().items())
        rows += f"<tr><td><b>{self.tr('Device')}</b></td><td>{device_text}</td></tr>"
        rows += f"<tr><td><b>{self.tr('Model')}</b></td><td>{model_text}</td></tr>"
        if data_credit:  # the model's training data, credited as its authors ask
            rows += f"<tr><td><b>{self.tr('Trained on')}</b></td><td>{html.escape(data_credit)}</td></tr>"
        label = QLabel(
            "<h2>DefectForge</h2><p>"
            + self.tr(
                "Paint a defect mask on a clean metal surface, pick a class and "
                "watch a realistic defect appear (VQGAN + Halton-MaskGIT)."
            )
            + f"</p><table>{rows}</table>"
        )
        label.setWordWrap(True)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.text = label.text()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(label)
        layout.addWidget(buttons)
