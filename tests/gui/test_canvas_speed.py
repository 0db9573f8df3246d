"""Strokes stay smooth on a 2048 x 2048 image: each mouse move repaints the brushed patch, not the canvas, and
undo keeps patches, not images. (Told by what is repainted and stored, not by timing the machine.)"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QEvent, QObject, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from tests.gui.conftest import metal_image, wait_for_model


class PaintCounter(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.areas: list[int] = []  # widget pixels each repaint covered

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            rect = event.rect()
            self.areas.append(rect.width() * rect.height())
        return False


def _stroke(canvas, centre: tuple[float, float], radius: float, moves: int) -> None:
    def send(kind, x, y):
        pos = canvas.to_widget(x, y)
        button = Qt.MouseButton.NoButton if kind == QMouseEvent.Type.MouseMove else Qt.MouseButton.LeftButton
        buttons = Qt.MouseButton.NoButton if kind == QMouseEvent.Type.MouseButtonRelease else Qt.MouseButton.LeftButton
        QApplication.sendEvent(
            canvas, QMouseEvent(kind, pos, canvas.mapToGlobal(pos), button, buttons, Qt.KeyboardModifier.NoModifier)
        )

    points = [
        (centre[0] + radius * math.cos(t), centre[1] + radius * math.sin(t) * 0.6)
        for t in np.linspace(0, 2 * math.pi, moves)
    ]
    send(QMouseEvent.Type.MouseButtonPress, *points[0])
    QApplication.processEvents()
    for x, y in points[1:]:
        send(QMouseEvent.Type.MouseMove, x, y)
        QApplication.processEvents()  # paints the dirty region now, as the next frame would
    send(QMouseEvent.Type.MouseButtonRelease, *points[-1])


def test_brush_strokes_on_a_2048_image_repaint_only_the_brushed_patch(window, qtbot):
    wait_for_model(qtbot, window)  # a model arriving mid-stroke repaints the window once, rightly
    window.document.set_image(metal_image(2048, 2048))
    window.undo_stack.clear()
    window.set_tool("brush")
    window.brush_spin.setValue(40)
    canvas = window.canvas
    # The class outlines are redrawn whole once a stroke pauses (a debounce timer): on a busy machine that can
    # fall mid-stroke. What this test asks is what each brush move repaints, so the timer waits for the end.
    canvas.outline_timer.setInterval(600_000)
    counter = PaintCounter()
    canvas.installEventFilter(counter)
    whole = canvas.width() * canvas.height()
    for zoom in (None, 1.0, 4.0):  # fit, 100 %, 400 %
        canvas.fit() if zoom is None else canvas.zoom_to(zoom, QPointF(canvas.width() / 2, canvas.height() / 2))
        centre = canvas.to_image(QPointF(canvas.width() / 2, canvas.height() / 2))
        radius = min(canvas.width(), canvas.height()) / canvas.scale * 0.3
        QApplication.processEvents()
        counter.areas.clear()
        _stroke(canvas, centre, radius, 150)
        assert len(counter.areas) >= 140  # every move really repainted...
        assert max(counter.areas[1:-1]) < whole / 4  # ...only around the brush, never the whole canvas
    assert window.undo_stack.count() == 3
    assert window.undo_stack.nbytes() < 3 * 2 * 2048 * 2048  # patches, not whole-image copies
