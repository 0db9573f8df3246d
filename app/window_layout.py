"""The window's docks: every panel sits in a scroll area, so each dock shrinks and the window fits a laptop
screen (1366x768); the widths the inspector gave the side docks come back when the window grows again."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QDockWidget, QFrame, QMainWindow, QScrollArea, QWidget

SIDE_AREAS = (Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea)


def scrollable(panel: QWidget) -> QScrollArea:
    """`panel` in a frameless scroll area: a short or narrow dock scrolls its panel instead of holding the
    window open at the panel's full size."""
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    scroll.setWidget(panel)
    return scroll


class DockWidths(QObject):
    """Watches `window`: shrinking it squeezes the side docks (the canvas keeps its minimum); growing it again,
    as maximising does, gives each shown side dock back the width it had (else its preferred width), where
    Qt would give all the new room to the canvas and leave, say, the Files list cut off at 60 px."""

    def __init__(self, window: QMainWindow, docks: list[QDockWidget]) -> None:
        super().__init__(window)
        self.window, self.docks = window, docks
        self.widths: dict[str, int] = {}  # dock name -> the width the inspector gave it
        window.installEventFilter(self)

    def shown_side_docks(self) -> list[QDockWidget]:
        """Docked at the left or right and on screen (Qt moves a tab behind another tab out of the window)."""
        return [
            dock
            for dock in self.docks
            if dock.isVisible()
            and not dock.isFloating()
            and self.window.dockWidgetArea(dock) in SIDE_AREAS
            and self.window.rect().intersects(dock.geometry())
        ]

    def remember(self) -> None:
        """The side docks' widths now are the ones wanted (after a separator drag, a restored layout)."""
        for dock in self.shown_side_docks():
            self.widths[dock.objectName()] = dock.width()

    def regrow(self) -> None:
        docks, widths = [], []
        for dock in self.shown_side_docks():
            wanted = self.widths.get(dock.objectName(), dock.sizeHint().width())
            if dock.width() < wanted:
                docks.append(dock)
                widths.append(wanted)
        if docks:
            self.window.resizeDocks(docks, widths, Qt.Orientation.Horizontal)

    def _squeezed(self) -> bool:
        """Qt takes a smaller window's width from the canvas first, from the docks only once the canvas is at its
        minimum: while it is wider, the docks have the widths they were given."""
        canvas = self.window.centralWidget()
        return canvas is None or canvas.width() <= canvas.minimumSizeHint().expandedTo(canvas.minimumSize()).width()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.window:
            kind = event.type()
            if kind in (QEvent.Type.Show, QEvent.Type.MouseButtonRelease):  # laid out, or a separator dragged
                self.remember()
            elif kind == QEvent.Type.Resize:
                old, new = event.oldSize(), event.size()  # type: ignore[attr-defined]
                if old.isValid() and new.width() > old.width():
                    self.regrow()  # (laid out later: the canvas is wide now, but not yet the docks)
                elif not self._squeezed():
                    self.remember()
        return False
