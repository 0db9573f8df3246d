"""Pointer and keyboard input on the canvas: pan (middle drag, Space + drag), drag the split line, zoom with
the wheel, and hand every other press, move and release to the current tool in image pixels.

The canvas forwards its Qt events here; what a tool returns (a finished edit) goes out as `editFinished`.
"""

from __future__ import annotations

import math
from typing import Any, Protocol

from PySide6.QtCore import QPointF, QRect, QRectF, Qt
from PySide6.QtGui import QCursor, QKeyEvent, QMouseEvent, QWheelEvent

from app.document import MaskDocument
from app.tools import Tool, ToolSettings


class CanvasSurface(Protocol):
    """What input needs of the canvas widget (app.canvas.Canvas): a protocol, so that the canvas imports this
    module and not the other way round (no import circle among the app's modules)."""

    document: MaskDocument
    tool: Tool | None
    tool_settings: ToolSettings
    cursorMoved: Any  # Signal(object)
    editFinished: Any  # Signal(object)

    @property
    def scale(self) -> float: ...
    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None: ...
    def near_split_line(self, pos: QPointF) -> bool: ...
    def cursor(self) -> QCursor: ...
    def setCursor(self, shape: Any) -> None: ...  # noqa: N802 (Qt's name)
    def update(self, *area: Any) -> None: ...


WHEEL_ZOOM = 1.2  # per wheel notch


class CanvasInput:
    """The input state of one canvas: where the pointer is (the brush ring follows it), a pan or split drag in
    progress, Space held."""

    def __init__(self, canvas: CanvasSurface) -> None:
        self.canvas = canvas
        self.pointer: QPointF | None = None
        self._pan_from: QPointF | None = None
        self._space = False

    def _editable(self) -> bool:
        return self.canvas.tool is not None and not self.canvas.document.is_empty

    def brush_rect(self, pos: QPointF | None) -> QRect:
        """The screen area the brush ring at `pos` covers (to repaint it)."""
        if pos is None:
            return QRect()
        radius = self.canvas.tool_settings.brush_size * self.canvas.scale / 2 + 4
        return QRectF(pos.x() - radius, pos.y() - radius, 2 * radius, 2 * radius).toAlignedRect()

    # --- mouse -----------------------------------------------------------------------------------------------
    def press(self, event: QMouseEvent) -> None:
        canvas = self.canvas
        canvas.setFocus()
        pos = event.position()
        if event.button() == Qt.MouseButton.MiddleButton or (
            self._space and event.button() == Qt.MouseButton.LeftButton
        ):
            self._pan_from = pos
            canvas.setCursor(Qt.CursorShape.ClosedHandCursor)
            return
        if event.button() == Qt.MouseButton.LeftButton and canvas.near_split_line(pos):
            canvas.split.dragging = True
            canvas.setCursor(Qt.CursorShape.SplitHCursor)
            return
        if not self._editable() or event.button() not in (Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton):
            return
        tool = canvas.tool
        assert tool is not None
        erase = event.button() == Qt.MouseButton.RightButton
        if erase and tool.click_by_click and tool.busy:
            self._emit(tool.finish(canvas.document))
            return
        canvas.strokeStarted.emit()
        self._set_shape_modifiers(event)
        self._emit(tool.press(canvas.document, canvas.to_image(pos), erase))
        if not tool.uses_brush:
            canvas.update()

    def move(self, event: QMouseEvent) -> None:
        canvas = self.canvas
        pos = event.position()
        old_pointer, self.pointer = self.pointer, pos  # the brush outline follows the pointer through any drag
        if self._pan_from is not None:
            delta = pos - self._pan_from
            self._pan_from = pos
            canvas.pan_by(delta)
        elif canvas.split.dragging:
            left, right = canvas.image_left_right()
            share = canvas.split.share_at(pos.x(), left, right)
            canvas.set_split(share)
            canvas.splitDragged.emit(share)
        x, y = canvas.to_image(pos)
        inside = 0 <= x < canvas.document.width and 0 <= y < canvas.document.height
        canvas.cursorMoved.emit((int(x), int(y)) if inside else None)
        if self._pan_from is not None or canvas.split.dragging:
            return  # the whole view repaints: outline included
        if event.buttons() == Qt.MouseButton.NoButton:
            self._show_hover_cursor(pos)
        tool = canvas.tool
        if self._editable():
            assert tool is not None
            self._set_shape_modifiers(event)
            self._emit(tool.move(canvas.document, (x, y)))
            if tool.busy and not tool.uses_brush:
                canvas.update()
        if tool is not None and tool.uses_brush:
            canvas.update(self.brush_rect(old_pointer))
            canvas.update(self.brush_rect(pos))
        elif tool is not None and tool.click_by_click and tool.busy:
            canvas.update()

    def _show_hover_cursor(self, pos: QPointF) -> None:
        """What a press here would do: pan (Space held), drag the split line (on it), or paint."""
        if self._space:
            shape = Qt.CursorShape.OpenHandCursor
        elif self.canvas.near_split_line(pos):
            shape = Qt.CursorShape.SplitHCursor
        else:
            shape = Qt.CursorShape.CrossCursor
        if self.canvas.cursor().shape() != shape:
            self.canvas.setCursor(shape)

    def release(self, event: QMouseEvent) -> None:
        canvas = self.canvas
        if canvas.split.dragging:
            canvas.split.dragging = False
            self._show_hover_cursor(event.position())
            return
        if self._pan_from is not None and event.button() in (Qt.MouseButton.MiddleButton, Qt.MouseButton.LeftButton):
            self._pan_from = None
            canvas.setCursor(Qt.CursorShape.OpenHandCursor if self._space else Qt.CursorShape.CrossCursor)
            return
        if self._editable():
            assert canvas.tool is not None
            self._emit(canvas.tool.release(canvas.document, canvas.to_image(event.position())))
            canvas.update()

    def double_click(self, event: QMouseEvent) -> None:
        canvas = self.canvas
        if self._editable() and canvas.tool is not None and canvas.tool.click_by_click:
            self._emit(canvas.tool.finish(canvas.document))
            canvas.update()
        else:
            self.press(event)

    def leave(self) -> None:
        old, self.pointer = self.pointer, None
        self.canvas.update(self.brush_rect(old))
        self.canvas.cursorMoved.emit(None)

    def wheel(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.canvas.zoom_by(math.pow(WHEEL_ZOOM, steps), event.position())
        event.accept()

    # --- keys: each returns whether it used the key (otherwise the widget passes it on) -----------------------
    def key_press(self, event: QKeyEvent) -> bool:
        canvas, key = self.canvas, event.key()
        if key == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = True
            canvas.setCursor(Qt.CursorShape.OpenHandCursor)
        elif key == Qt.Key.Key_Escape and canvas.tool is not None and canvas.tool.busy:
            canvas.tool.cancel(canvas.document)
            canvas.update()
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and canvas.tool is not None:
            self._emit(canvas.tool.finish(canvas.document))
            canvas.update()
        else:
            return False
        return True

    def key_release(self, event: QKeyEvent) -> bool:
        if event.isAutoRepeat():
            return True
        if event.key() == Qt.Key.Key_Space:
            self._space = False
            self.canvas.setCursor(Qt.CursorShape.CrossCursor)
            return True
        return False

    def focus_out(self) -> None:
        # A key released while another widget has focus never reaches us: do not stay stuck in a mode. (Holding
        # C is application-wide, app.compare_key: its release is seen wherever the focus went.)
        self._space = False

    def _set_shape_modifiers(self, event: QMouseEvent) -> None:
        tool = self.canvas.tool
        if tool is not None and tool.shift_makes_square:
            tool.square = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)

    def _emit(self, edit: object) -> None:
        if edit is not None:
            self.canvas.editFinished.emit(edit)
