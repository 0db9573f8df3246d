"""How a defect class is named on screen: the NEU classes in the UI's language, any other class as the model
names it. Only the UI: exports, manifests and file names keep the model's (English) class names."""

from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication

from core.request import CLEANUP_CLASS

CONTEXT = "DefectClass"
# lupdate collects these; the translation file holds the established Korean terms.
NEU_CLASS_NAMES = (
    QT_TRANSLATE_NOOP("DefectClass", "crazing"),
    QT_TRANSLATE_NOOP("DefectClass", "inclusion"),
    QT_TRANSLATE_NOOP("DefectClass", "patches"),
    QT_TRANSLATE_NOOP("DefectClass", "pitted_surface"),
    QT_TRANSLATE_NOOP("DefectClass", "rolled-in_scale"),
    QT_TRANSLATE_NOOP("DefectClass", "scratches"),
    QT_TRANSLATE_NOOP("DefectClass", "Clean-up"),
)


def display_name(name: str) -> str:
    """The on-screen name of class `name` in the current UI language."""
    if name == CLEANUP_CLASS:
        return QCoreApplication.translate(CONTEXT, "Clean-up")
    return QCoreApplication.translate(CONTEXT, name)
