"""Hold C to see the original: one application-wide key filter, so the compare works wherever the focus is (the
canvas, a thumbnail, a button, a floating dock, or nowhere once a run disabled the focused button), except while
typing in a text or number field. The release ends it wherever the focus has moved in between."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QGuiApplication, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QDockWidget,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

from app.canvas import Canvas

COMPARE_KEY = Qt.Key.Key_C  # hold to see the original image


def is_typing_widget(widget: QObject | None) -> bool:
    """A field where C is a letter typed, not a command: text and number fields, an editable combo box."""
    if isinstance(widget, QComboBox):
        return widget.isEditable()
    return isinstance(widget, QLineEdit | QAbstractSpinBox | QTextEdit | QPlainTextEdit)


class CompareKey(QObject):
    """Installed on the application for `window`: C pressed shows `canvas`'s original, C released the result."""

    def __init__(self, window: QWidget, canvas: Canvas) -> None:
        super().__init__(window)
        self.window, self.canvas = window, canvas
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    def _in_window(self, widget: QWidget) -> bool:
        top = widget.window()
        return top is self.window or (isinstance(top, QDockWidget) and top.parentWidget() is self.window)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.ApplicationStateChange:
            if QGuiApplication.applicationState() != Qt.ApplicationState.ApplicationActive:
                self.canvas.set_comparing(False)  # the release goes to another application: do not stay stuck
            return False
        if (
            kind not in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease)
            or not isinstance(event, QKeyEvent)
            or event.key() != COMPARE_KEY
            or event.modifiers() != Qt.KeyboardModifier.NoModifier
            or not isinstance(watched, QWidget)
            or not self._in_window(watched)
        ):
            return False
        # Only where the key first lands (the focus widget, or the window when nothing has focus): a key that a
        # widget ignores climbs to its parents, and a typing widget's C must not become a compare on the way up.
        if watched is not (QApplication.focusWidget() or watched.window()):
            return False
        if kind == QEvent.Type.KeyRelease:
            if not self.canvas.comparing:
                return False
            if not event.isAutoRepeat():
                self.canvas.set_comparing(False)
            return True
        if is_typing_widget(watched):
            return False
        if not event.isAutoRepeat():
            self.canvas.set_comparing(True)
        return True
