"""The window's size and docks: a first window that fits the screen, every panel in a scroll area (so each dock
shrinks and the window fits a 1366x768 laptop), and the sizes the side docks had given back when the window
grows again."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSize, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDockWidget, QFrame, QMainWindow, QScrollArea, QWidget

SIDE_AREAS = (Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea)
TITLE_BAR_PX = 48  # the window manager's frame around the window, which Qt's sizes do not include


def fitted_size(window: QWidget, wanted: QSize) -> QSize:
    """`wanted`, made small enough for the screen's free area with the window's title bar."""
    screen = window.screen() or QGuiApplication.primaryScreen()
    if screen is None:
        return wanted
    return wanted.boundedTo(screen.availableGeometry().size() - QSize(0, TITLE_BAR_PX))


def scrollable(panel: QWidget) -> QScrollArea:
    """`panel` in a frameless scroll area: a short or narrow dock scrolls its panel instead of holding the
    window open at the panel's full size."""
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    scroll.setWidget(panel)
    return scroll


class DockSizes(QObject):
    """Watches `window`: shrinking it squeezes the side docks; growing it again, as maximising does, gives each
    shown side dock back the size it had (else its preferred size), where Qt would give all the new room to
    the canvas and leave, say, the Files list cut off at 60 px and the Generate button scrolled away."""

    def __init__(self, window: QMainWindow, docks: list[QDockWidget]) -> None:
        super().__init__(window)
        self.window, self.docks = window, docks
        self.sizes: dict[str, QSize] = {}  # dock name -> the size it had unsqueezed (or the inspector gave it)
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

    def remember(self, width: bool = True, height: bool = True) -> None:
        """The side docks' widths and/or heights now are the ones wanted."""
        for dock in self.shown_side_docks():
            size = self.sizes.get(dock.objectName(), dock.size())
            self.sizes[dock.objectName()] = QSize(
                dock.width() if width else size.width(), dock.height() if height else size.height()
            )

    def resize_docks(self, docks: list[QDockWidget], sizes: list[int], orientation: Qt.Orientation) -> None:
        """The window's resizeDocks, and these are the sizes to give back after a shrink."""
        for dock, size in zip(docks, sizes, strict=True):
            had = self.sizes.get(dock.objectName(), dock.size())
            horizontal = orientation == Qt.Orientation.Horizontal
            self.sizes[dock.objectName()] = QSize(size, had.height()) if horizontal else QSize(had.width(), size)
        self.window.resizeDocks(docks, sizes, orientation)

    def regrow(self, orientation: Qt.Orientation) -> None:
        """When a shown side dock is smaller than wanted along `orientation`, every shown side dock gets its size
        back (as far as it fits: Qt shares a column's room only when told every dock's size)."""
        horizontal = orientation == Qt.Orientation.Horizontal
        docks = self.shown_side_docks()
        wanted = [self.sizes.get(dock.objectName(), dock.sizeHint()) for dock in docks]
        sizes = [size.width() if horizontal else size.height() for size in wanted]
        have = [dock.width() if horizontal else dock.height() for dock in docks]
        if any(h < s for h, s in zip(have, sizes, strict=True)):
            self.window.resizeDocks(docks, sizes, orientation)

    def _canvas_squeezed(self) -> bool:
        """Qt takes a narrower window's width from the canvas first, from the docks only once the canvas is at its
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
                if not old.isValid():
                    return False
                # (A grown window is laid out later: its canvas is wide now, but not yet its docks.)
                if new.width() > old.width():
                    self.regrow(Qt.Orientation.Horizontal)
                elif not self._canvas_squeezed():
                    self.remember(height=False)  # a dock column shares the window's height: squeezed or not
                if new.height() > old.height():
                    self.regrow(Qt.Orientation.Vertical)
        return False
