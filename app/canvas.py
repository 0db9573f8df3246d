"""The canvas: a view of the document (image, class-coloured mask, live preview, result) plus pointer input.

It owns no mask state: mouse events go to the current tool, which edits the document; the canvas listens to
the document's change notifications and repaints only the changed rectangle from a cached overlay image.
The jobs live in their own modules and the widget composes them: the view transform (app/canvas_view.py), split
compare (app/canvas_split.py), the overlay and what is painted (app/canvas_render.py), input (app/canvas_input.py).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QPointF, QRect, QRectF, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QImage, QKeyEvent, QMouseEvent, QPainter, QPaintEvent, QResizeEvent, QWheelEvent
from PySide6.QtWidgets import QWidget

from app.canvas_input import CanvasInput
from app.canvas_render import (
    BACKGROUND,
    MaskOverlay,
    paint_brush,
    paint_guide,
    paint_outlines,
    paint_placeholder,
    paint_split,
    paint_tag,
    rgb_to_qimage,
)
from app.canvas_split import SplitCompare
from app.canvas_view import ViewTransform
from app.document import MaskDocument, Rect
from app.tools import Tool, ToolSettings

OUTLINE_DELAY_MS = 80  # outlines are redrawn whole once a stroke pauses this long


class Canvas(QWidget):
    """Zoomable, pannable view of a MaskDocument that forwards pointer input to a Tool."""

    editFinished = Signal(object)  # app.document.Edit completed by a tool
    cursorMoved = Signal(object)  # (x, y) in image pixels, or None when outside the image
    zoomChanged = Signal(float)
    strokeStarted = Signal()
    splitDragged = Signal(float)  # the split line was dragged on the canvas: the new share showing "before"

    def __init__(self, document: MaskDocument, tool_settings: ToolSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setMinimumSize(320, 240)
        self.document = document
        self.tool_settings = tool_settings
        self.tool: Tool | None = None
        self.placeholder = ""
        self.view = ViewTransform()
        self.split = SplitCompare()
        self.input = CanvasInput(self)
        self.overlay = MaskOverlay()
        self.overlay_visible = True
        self._opacity = 0.5
        self._image = QImage()
        self._after: QImage | None = None
        self._progress: QImage | None = None  # the image with every preview so far painted in (during a run)
        # The class outlines are rebuilt whole once edits pause (public: a test holds it back for a whole stroke).
        self.outline_timer = QTimer(self, singleShot=True, interval=OUTLINE_DELAY_MS, timeout=self.rebuild_outlines)
        document.add_listener(self._on_document_changed)
        self._on_document_changed(None)

    # --- coordinates -----------------------------------------------------------------------------------------
    @property
    def scale(self) -> float:
        return self.view.scale

    def to_image(self, pos: QPointF) -> tuple[float, float]:
        return self.view.to_image(pos.x(), pos.y())

    def to_widget(self, x: float, y: float) -> QPointF:
        return QPointF(*self.view.to_widget(x, y))

    def widget_rect(self, rect: Rect) -> QRect:
        x0, y0, x1, y1 = rect
        a, b = self.to_widget(x0, y0), self.to_widget(x1, y1)
        return QRectF(a, b).toAlignedRect().adjusted(-2, -2, 2, 2)

    def image_left_right(self) -> tuple[float, float]:
        """The image's left and right edges in widget x."""
        return self.to_widget(0, 0).x(), self.to_widget(self.document.width, 0).x()

    # --- view ------------------------------------------------------------------------------------------------
    def fit(self) -> None:
        """Whole image in view, centred."""
        self._changing_view(lambda: self.view.fit(self.document.size, (self.width(), self.height())))

    def actual_size(self) -> None:
        """100 %: one image pixel per screen pixel, keeping the centre of the view where it is."""
        self.zoom_to(1.0, QPointF(self.width() / 2, self.height() / 2))

    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        self.zoom_to(self.view.scale * factor, anchor)

    def zoom_to(self, scale: float, anchor: QPointF | None = None) -> None:
        """Zoom keeping the image point under `anchor` (widget coordinates) in place."""
        anchor = anchor if anchor is not None else QPointF(self.width() / 2, self.height() / 2)
        self._changing_view(lambda: self.view.zoom_to(scale, (anchor.x(), anchor.y())))

    def pan_by(self, delta: QPointF) -> None:
        self._changing_view(lambda: self.view.pan_by(delta.x(), delta.y()))

    def _changing_view(self, change: Callable[[], None]) -> None:
        """Apply `change` to the view, repaint, and say so when the zoom changed."""
        before = self.view.scale
        change()
        self.update()
        if self.view.scale != before:
            self.zoomChanged.emit(self.view.scale)

    def resizeEvent(self, event: QResizeEvent) -> None:
        if self.view.fit_mode:
            self.fit()
        super().resizeEvent(event)

    # --- what is shown ---------------------------------------------------------------------------------------
    def set_tool(self, tool: Tool | None) -> None:
        if self.tool is not None and self.tool.busy:
            self.tool.cancel(self.document)
        self.tool = tool
        self.update()

    @property
    def overlay_opacity(self) -> float:
        return self._opacity

    def set_overlay_opacity(self, opacity: float) -> None:
        self._opacity = min(1.0, max(0.0, opacity))
        self.update()

    def set_overlay_visible(self, visible: bool) -> None:
        self.overlay_visible = visible
        self.update()

    def set_after(self, rgb: np.ndarray | None) -> None:
        """Show a generated result over the original (None: back to the original)."""
        self._after = rgb_to_qimage(rgb) if rgb is not None else None
        self._progress = None
        self.update()

    @property
    def showing_result(self) -> bool:
        return self._after is not None

    def set_preview(self, rgb: np.ndarray, box: tuple[int, int, int, int]) -> None:
        """Paint a live sampler preview into its box (image pixels). Previews accumulate, so a window that is
        finished stays visible while the next one (another mask, another part of a large mask) is sampled."""
        if self._image.isNull():
            return
        if self._progress is None:
            self._progress = self._image.copy()
        x0, y0, x1, y1 = box
        painter = QPainter(self._progress)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        painter.drawImage(QRectF(x0, y0, x1 - x0, y1 - y0), rgb_to_qimage(rgb))
        painter.end()
        self.update(self.widget_rect(box))

    def clear_preview(self) -> None:
        if self._progress is not None:
            self._progress = None
            self.update()

    def set_split(self, share: float | None) -> None:
        """Split compare: the left `share` of the view shows the original, the rest the result."""
        self.split.set_share(share)
        self.update()

    @property
    def split_share(self) -> float | None:
        return self.split.share

    def split_x(self) -> float | None:
        """Where the split line is drawn (widget x); None without a split."""
        return self.split.line_x(*self.image_left_right())

    def near_split_line(self, pos: QPointF) -> bool:
        """A press here grabs the split line (only where the line is shown: a result, C not held)."""
        return self._result_view() and self.split.near_line(pos.x(), *self.image_left_right())

    def set_comparing(self, comparing: bool) -> None:
        if comparing != self.split.comparing:
            self.split.comparing = comparing
            self.update()

    @property
    def comparing(self) -> bool:
        return self.split.comparing

    @property
    def brush_position(self) -> QPointF | None:
        """Where the brush ring is drawn (widget coordinates); None while the pointer is away."""
        return self.input.pointer

    def _result_view(self) -> bool:
        return self._after is not None and not self.split.comparing

    # --- document changes ------------------------------------------------------------------------------------
    def refresh_colors(self) -> None:
        """Rebuild the label->colour table (classes changed)."""
        self.overlay.set_colors(self.document.class_names)

    def _on_document_changed(self, rect: Rect | None) -> None:
        doc = self.document
        if rect is None:
            self.refresh_colors()
            if self._image.size().toTuple() != doc.size or self.overlay.buffer.shape != doc.labels.shape:
                self.view.fit_mode = True
            self._image = rgb_to_qimage(doc.image) if not doc.is_empty else QImage()
            self.overlay.rebuild(doc.labels)
            if self.view.fit_mode:
                self.fit()
            self.outline_timer.start()
            self.update()
            return
        self.overlay.patch(doc.labels, rect)
        self.outline_timer.start()
        self.update(self.widget_rect(rect))

    @Slot()
    def rebuild_outlines(self) -> None:
        """Redraw the class outlines from the mask now (the timer does it once edits pause)."""
        self.overlay.rebuild_outlines(self.document.labels)
        self.update()

    # --- painting --------------------------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(event.rect(), BACKGROUND)
        if self._image.isNull():
            paint_placeholder(painter, self.rect(), self.placeholder)
            return
        width, height = self.document.size
        visible = QRectF(*self.to_image(QPointF(event.rect().topLeft())), 0, 0)
        bottom_right = self.to_image(QPointF(event.rect().bottomRight()) + QPointF(1, 1))
        visible.setBottomRight(QPointF(*bottom_right))
        # Whole source pixels only, so nearest-neighbour zoom stays aligned with the pixel grid.
        src = visible.intersected(QRectF(0, 0, width, height)).toAlignedRect()
        if src.isEmpty():
            return
        src_f = QRectF(src)
        target = QRectF(self.to_widget(src.x(), src.y()), self.to_widget(src.x() + src.width(), src.y() + src.height()))
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self.view.scale < 1.0)
        result_view = self._result_view()
        base = self._progress if self._progress is not None and not self.split.comparing else self._image
        painter.drawImage(target, base, src_f)
        split_x = self.split_x() if result_view else None
        if result_view:
            painter.save()
            if split_x is not None:
                painter.setClipRect(QRectF(split_x, 0, self.width() - split_x, self.height()))
            painter.drawImage(target, self._after, src_f)
            painter.restore()
        if self.overlay_visible:
            if not result_view and self._progress is None:
                painter.setOpacity(self._opacity)
                painter.drawImage(target, self.overlay.image, src_f)
                painter.setOpacity(1.0)
            if self.tool is None or not self.tool.busy:
                offset = QPointF(self.view.offset_x, self.view.offset_y)
                paint_outlines(painter, self.overlay.outlines, offset, self.view.scale)
        elif self.document.has_mask():  # the class panel still counts a hidden mask: say why nothing is drawn
            text = self.tr("Mask hidden — M shows it")
            paint_tag(painter, text, self.width() - painter.fontMetrics().horizontalAdvance(text) - 20)
        if split_x is not None:
            paint_split(painter, split_x, self.height(), self.tr("Before"), self.tr("After"))
        elif self.split.comparing and self._after is not None:
            paint_tag(painter, self.tr("Original"), 8)
        guide = self.tool.guide() if self.tool is not None else None
        if guide is not None and guide.points:
            paint_guide(painter, guide, self.to_widget)
        pointer = self.input.pointer
        if pointer is not None and self.tool is not None and self.tool.uses_brush:
            paint_brush(painter, pointer, max(1.0, self.tool_settings.brush_size * self.view.scale / 2))

    def brush_size_changed(self) -> None:
        self.update(self.input.brush_rect(self.input.pointer).adjusted(-400, -400, 400, 400))
        self.update()

    # --- input: see app/canvas_input.py ----------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.input.press(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        self.input.move(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self.input.release(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        self.input.double_click(event)

    def leaveEvent(self, event) -> None:  # noqa: ANN001 - QEvent
        self.input.leave()
        super().leaveEvent(event)

    def wheelEvent(self, event: QWheelEvent) -> None:
        self.input.wheel(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if not self.input.key_press(event):
            super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if not self.input.key_release(event):
            super().keyReleaseEvent(event)

    def focusOutEvent(self, event) -> None:  # noqa: ANN001 - QFocusEvent
        self.input.focus_out()
        super().focusOutEvent(event)
