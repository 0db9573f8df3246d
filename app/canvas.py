"""The canvas: a view of the document (image, class-coloured mask, live preview, result) plus pointer input.

It owns no mask state: mouse events go to the current tool, which edits the document; the canvas listens to
the document's change notifications and repaints only the changed rectangle from a cached overlay image.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from PySide6.QtCore import QPointF, QRect, QRectF, Qt, QTimer, Signal, Slot
from PySide6.QtGui import (
    QColor,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
    QPolygonF,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QWidget

from app.document import MaskDocument, Rect
from app.palette import class_color
from app.tools import Tool, ToolSettings

MIN_SCALE, MAX_SCALE = 0.02, 32.0
BACKGROUND = QColor(38, 40, 44)


def rgb_to_qimage(rgb: np.ndarray) -> QImage:
    """A QImage that owns its pixels (RGB32: the raster engine's fastest source format)."""
    rgb = np.ascontiguousarray(rgb)
    height, width = rgb.shape[:2]
    return QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888).convertToFormat(
        QImage.Format.Format_RGB32
    )


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
        self._scale = 1.0
        self._offset = QPointF(0, 0)
        self._fit_mode = True  # keep fitting on resize until the user zooms
        self._image = QImage()
        self._after: QImage | None = None
        self._progress: QImage | None = None  # the image with every preview so far painted in (during a run)
        self._overlay_buf = np.zeros((0, 0), np.uint32)
        self._overlay = QImage()
        self._lut = np.zeros(256, np.uint32)
        self._opacity = 0.5
        self.overlay_visible = True
        self._outlines: list[tuple[QColor, QPainterPath]] = []
        self._outline_timer = QTimer(self, singleShot=True, interval=80, timeout=self._rebuild_outlines)
        self._split: float | None = None  # share of the width showing "before" (left) when a result is shown
        self._comparing = False
        self._dragging_split = False
        self._pan_from: QPointF | None = None
        self._space = False
        self._cursor: QPointF | None = None
        document.add_listener(self._on_document_changed)
        self._on_document_changed(None)

    # --- coordinates -----------------------------------------------------------------------------------------
    @property
    def scale(self) -> float:
        return self._scale

    def to_image(self, pos: QPointF) -> tuple[float, float]:
        return ((pos.x() - self._offset.x()) / self._scale, (pos.y() - self._offset.y()) / self._scale)

    def to_widget(self, x: float, y: float) -> QPointF:
        return QPointF(x * self._scale + self._offset.x(), y * self._scale + self._offset.y())

    def widget_rect(self, rect: Rect) -> QRect:
        x0, y0, x1, y1 = rect
        a, b = self.to_widget(x0, y0), self.to_widget(x1, y1)
        return QRectF(a, b).toAlignedRect().adjusted(-2, -2, 2, 2)

    # --- view ------------------------------------------------------------------------------------------------
    def fit(self) -> None:
        """Whole image in view, centred."""
        self._fit_mode = True
        width, height = self.document.size
        if not width or not height:
            return
        scale = min(self.width() / width, self.height() / height) * 0.97
        self._set_view(scale, QPointF((self.width() - width * scale) / 2, (self.height() - height * scale) / 2))

    def actual_size(self) -> None:
        """100 %: one image pixel per screen pixel, keeping the centre of the view where it is."""
        self.zoom_to(1.0, QPointF(self.width() / 2, self.height() / 2))

    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        self.zoom_to(self._scale * factor, anchor)

    def zoom_to(self, scale: float, anchor: QPointF | None = None) -> None:
        """Zoom keeping the image point under `anchor` (widget coordinates) in place."""
        self._fit_mode = False
        anchor = anchor if anchor is not None else QPointF(self.width() / 2, self.height() / 2)
        scale = min(MAX_SCALE, max(MIN_SCALE, scale))
        x, y = self.to_image(anchor)
        self._set_view(scale, QPointF(anchor.x() - x * scale, anchor.y() - y * scale))

    def _set_view(self, scale: float, offset: QPointF) -> None:
        changed = scale != self._scale
        self._scale, self._offset = scale, offset
        self.update()
        if changed:
            self.zoomChanged.emit(scale)

    def resizeEvent(self, event: QResizeEvent) -> None:
        if self._fit_mode:
            self.fit()
        super().resizeEvent(event)

    # --- what is shown ---------------------------------------------------------------------------------------
    def set_tool(self, tool: Tool | None) -> None:
        if self.tool is not None and self.tool.busy:
            self.tool.cancel(self.document)
        self.tool = tool
        self.update()

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
        self._split = None if share is None else min(1.0, max(0.0, share))
        self.update()

    def set_comparing(self, comparing: bool) -> None:
        if comparing != self._comparing:
            self._comparing = comparing
            self.update()

    @property
    def comparing(self) -> bool:
        return self._comparing

    # --- document changes ------------------------------------------------------------------------------------
    def refresh_colors(self) -> None:
        """Rebuild the label->colour table (classes changed)."""
        lut = np.zeros(256, np.uint32)
        for index, name in enumerate(self.document.class_names):
            r, g, b = class_color(name, index)
            lut[index + 1] = 0xFF000000 | (r << 16) | (g << 8) | b
        self._lut = lut

    def _on_document_changed(self, rect: Rect | None) -> None:
        doc = self.document
        if rect is None:
            self.refresh_colors()
            if self._image.size().toTuple() != doc.size or self._overlay_buf.shape != doc.labels.shape:
                self._fit_mode = True
            self._image = rgb_to_qimage(doc.image) if not doc.is_empty else QImage()
            self._overlay_buf = np.ascontiguousarray(np.take(self._lut, doc.labels))
            height, width = self._overlay_buf.shape[:2]
            self._overlay = QImage(
                self._overlay_buf.data, width, height, 4 * width, QImage.Format.Format_ARGB32_Premultiplied
            )
            if self._fit_mode:
                self.fit()
            self._outline_timer.start()
            self.update()
            return
        x0, y0, x1, y1 = rect
        # The overlay QImage shares this buffer, so this patch is all the work a brush dab costs.
        self._overlay_buf[y0:y1, x0:x1] = np.take(self._lut, doc.labels[y0:y1, x0:x1])
        self._outline_timer.start()
        self.update(self.widget_rect(rect))

    @Slot()
    def _rebuild_outlines(self) -> None:
        """Class outlines as vector paths, so they stay one screen pixel wide at any zoom."""
        labels = self.document.labels
        outlines = []
        if labels.size:
            counts = np.bincount(labels.ravel(), minlength=256)
            for value in np.flatnonzero(counts[1:]) + 1:
                contours, _ = cv2.findContours(
                    cv2.compare(labels, int(value), cv2.CMP_EQ), cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE
                )
                path = QPainterPath()
                for contour in contours:
                    points = contour[:, 0, :].astype(np.float64) + 0.5
                    path.addPolygon(QPolygonF([QPointF(x, y) for x, y in points]))
                    path.closeSubpath()
                color = QColor.fromRgb(int(self._lut[value]) | 0xFF000000)
                outlines.append((color, path))
        self._outlines = outlines
        self.update()

    # --- painting --------------------------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(event.rect(), BACKGROUND)
        if self._image.isNull():
            self._paint_placeholder(painter)
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
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self._scale < 1.0)
        result_view = self._after is not None and not self._comparing
        base = self._progress if self._progress is not None and not self._comparing else self._image
        painter.drawImage(target, base, src_f)
        if result_view:
            split_x = self._split_x()
            painter.save()
            if split_x is not None:
                painter.setClipRect(QRectF(split_x, 0, self.width() - split_x, self.height()))
            painter.drawImage(target, self._after, src_f)
            painter.restore()
        if self.overlay_visible:
            if not result_view and self._progress is None:
                painter.setOpacity(self._opacity)
                painter.drawImage(target, self._overlay, src_f)
                painter.setOpacity(1.0)
            if self.tool is None or not self.tool.busy:
                self._paint_outlines(painter)
        else:
            self._paint_hidden_mask_tag(painter)
        if result_view and self._split_x() is not None:
            self._paint_split(painter)
        elif self._comparing and self._after is not None:
            self._paint_tag(painter, self.tr("Original"), 8)
        self._paint_guide(painter)
        self._paint_brush(painter)

    def _split_x(self) -> float | None:
        if self._split is None or self._split <= 0.0:
            return None
        left, right = self.to_widget(0, 0).x(), self.to_widget(self.document.width, 0).x()
        return left + (right - left) * self._split

    def _paint_placeholder(self, painter: QPainter) -> None:
        painter.setPen(QColor(190, 194, 200))
        font = painter.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        painter.setFont(font)
        painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.placeholder)

    def _paint_outlines(self, painter: QPainter) -> None:
        painter.save()
        painter.translate(self._offset)
        painter.scale(self._scale, self._scale)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        for color, path in self._outlines:
            pen = QPen(color, 1.5)
            pen.setCosmetic(True)
            painter.setPen(pen)
            painter.drawPath(path)
        painter.restore()

    def _paint_split(self, painter: QPainter) -> None:
        split_x = self._split_x()
        if split_x is None:
            return
        painter.setPen(QPen(QColor(255, 255, 255, 220), 2))
        painter.drawLine(QPointF(split_x, 0), QPointF(split_x, self.height()))
        metrics = painter.fontMetrics()
        for text, right_side in ((self.tr("Before"), False), (self.tr("After"), True)):
            width = metrics.horizontalAdvance(text) + 12
            x = split_x + 6 if right_side else split_x - 6 - width
            box = QRectF(x, 8, width, metrics.height() + 6)
            painter.fillRect(box, QColor(0, 0, 0, 150))
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)

    def _paint_hidden_mask_tag(self, painter: QPainter) -> None:
        """The class panel still counts a hidden mask: say why nothing is drawn over the image."""
        if not self.document.has_mask():
            return
        text = self.tr("Mask hidden — M shows it")
        self._paint_tag(painter, text, self.width() - painter.fontMetrics().horizontalAdvance(text) - 20)

    def _paint_tag(self, painter: QPainter, text: str, x: float) -> None:
        metrics = painter.fontMetrics()
        box = QRectF(x, 8, metrics.horizontalAdvance(text) + 12, metrics.height() + 6)
        painter.fillRect(box, QColor(0, 0, 0, 150))
        painter.setPen(QColor(255, 255, 255))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)

    def _paint_guide(self, painter: QPainter) -> None:
        guide = self.tool.guide() if self.tool is not None else None
        if guide is None or not guide.points:
            return
        points = [self.to_widget(x, y) for x, y in guide.points]
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        for color, style in (
            (QColor(0, 0, 0, 200), Qt.PenStyle.SolidLine),
            (QColor(255, 255, 255), Qt.PenStyle.DashLine),
        ):
            painter.setPen(QPen(color, 1.5, style))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            if guide.kind == "rect":
                painter.drawRect(QRectF(points[0], points[1]))
            elif guide.kind == "ellipse":
                painter.drawEllipse(QRectF(points[0], points[1]))
            elif guide.closed:
                painter.drawPolygon(QPolygonF(points))
            else:
                painter.drawPolyline(QPolygonF(points))
        if guide.kind == "polyline" and not guide.closed:
            painter.setPen(QPen(QColor(255, 255, 255), 1.5))
            painter.drawEllipse(points[0], 4, 4)

    def _paint_brush(self, painter: QPainter) -> None:
        if self._cursor is None or self.tool is None or not self.tool.uses_brush:
            return
        radius = max(1.0, self.tool_settings.brush_size * self._scale / 2)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        # Dark and light rings: readable on bright and on dark metal alike.
        painter.setPen(QPen(QColor(0, 0, 0, 180), 3))
        painter.drawEllipse(self._cursor, radius, radius)
        painter.setPen(QPen(QColor(255, 255, 255), 1.2))
        painter.drawEllipse(self._cursor, radius, radius)

    def _brush_rect(self, pos: QPointF | None) -> QRect:
        if pos is None:
            return QRect()
        radius = self.tool_settings.brush_size * self._scale / 2 + 4
        return QRectF(pos.x() - radius, pos.y() - radius, 2 * radius, 2 * radius).toAlignedRect()

    def brush_size_changed(self) -> None:
        self.update(self._brush_rect(self._cursor).adjusted(-400, -400, 400, 400))
        self.update()

    # --- input -----------------------------------------------------------------------------------------------
    def _editable(self) -> bool:
        return self.tool is not None and not self.document.is_empty

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.setFocus()
        pos = event.position()
        if event.button() == Qt.MouseButton.MiddleButton or (
            self._space and event.button() == Qt.MouseButton.LeftButton
        ):
            self._pan_from = pos
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
            return
        if event.button() == Qt.MouseButton.LeftButton and self._near_split(pos):
            self._dragging_split = True
            self.setCursor(Qt.CursorShape.SplitHCursor)
            return
        if not self._editable() or event.button() not in (Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton):
            return
        assert self.tool is not None
        erase = event.button() == Qt.MouseButton.RightButton
        if erase and self.tool.click_by_click and self.tool.busy:
            self._emit(self.tool.finish(self.document))
            return
        self.strokeStarted.emit()
        self._set_shape_modifiers(event)
        self._emit(self.tool.press(self.document, self.to_image(pos), erase))
        if not self.tool.uses_brush:
            self.update()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        old_cursor, self._cursor = self._cursor, pos  # the brush outline follows the pointer through any drag
        if self._pan_from is not None:
            delta = pos - self._pan_from
            self._pan_from = pos
            self._fit_mode = False
            self._set_view(self._scale, self._offset + delta)
        elif self._dragging_split:
            left, right = self.to_widget(0, 0).x(), self.to_widget(self.document.width, 0).x()
            share = min(1.0, max(0.01, (pos.x() - left) / max(1.0, right - left)))
            self.set_split(share)
            self.splitDragged.emit(share)
        x, y = self.to_image(pos)
        inside = 0 <= x < self.document.width and 0 <= y < self.document.height
        self.cursorMoved.emit((int(x), int(y)) if inside else None)
        if self._pan_from is not None or self._dragging_split:
            return  # the whole view repaints: outline included
        if event.buttons() == Qt.MouseButton.NoButton:
            self._show_hover_cursor(pos)
        if self._editable():
            assert self.tool is not None
            self._set_shape_modifiers(event)
            self._emit(self.tool.move(self.document, (x, y)))
            if self.tool.busy and not self.tool.uses_brush:
                self.update()
        if self.tool is not None and self.tool.uses_brush:
            self.update(self._brush_rect(old_cursor))
            self.update(self._brush_rect(pos))
        elif self.tool is not None and self.tool.click_by_click and self.tool.busy:
            self.update()

    def _show_hover_cursor(self, pos: QPointF) -> None:
        """What a press here would do: pan (Space held), drag the split line (on it), or paint."""
        if self._space:
            shape = Qt.CursorShape.OpenHandCursor
        elif self._near_split(pos):
            shape = Qt.CursorShape.SplitHCursor
        else:
            shape = Qt.CursorShape.CrossCursor
        if self.cursor().shape() != shape:
            self.setCursor(shape)

    def _near_split(self, pos: QPointF) -> bool:
        split_x = self._split_x() if self._after is not None and not self._comparing else None
        return split_x is not None and abs(pos.x() - split_x) <= 6

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._dragging_split:
            self._dragging_split = False
            self._show_hover_cursor(event.position())
            return
        if self._pan_from is not None and event.button() in (Qt.MouseButton.MiddleButton, Qt.MouseButton.LeftButton):
            self._pan_from = None
            self.setCursor(Qt.CursorShape.OpenHandCursor if self._space else Qt.CursorShape.CrossCursor)
            return
        if self._editable():
            assert self.tool is not None
            self._emit(self.tool.release(self.document, self.to_image(event.position())))
            self.update()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if self._editable() and self.tool is not None and self.tool.click_by_click:
            self._emit(self.tool.finish(self.document))
            self.update()
        else:
            self.mousePressEvent(event)

    def leaveEvent(self, event) -> None:  # noqa: ANN001 - QEvent
        old, self._cursor = self._cursor, None
        self.update(self._brush_rect(old))
        self.cursorMoved.emit(None)
        super().leaveEvent(event)

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.zoom_by(math.pow(1.2, steps), event.position())
        event.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = True
            self.setCursor(Qt.CursorShape.OpenHandCursor)
        elif key == Qt.Key.Key_Escape and self.tool is not None and self.tool.busy:
            self.tool.cancel(self.document)
            self.update()
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.tool is not None:
            self._emit(self.tool.finish(self.document))
            self.update()
        else:
            super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.isAutoRepeat():
            return
        if event.key() == Qt.Key.Key_Space:
            self._space = False
            self.setCursor(Qt.CursorShape.CrossCursor)
        else:
            super().keyReleaseEvent(event)

    def focusOutEvent(self, event) -> None:  # noqa: ANN001 - QFocusEvent
        # A key released while another widget has focus never reaches us: do not stay stuck in a mode. (Holding
        # C is application-wide, app.compare_key: its release is seen wherever the focus went.)
        self._space = False
        super().focusOutEvent(event)

    def _set_shape_modifiers(self, event: QMouseEvent) -> None:
        if self.tool is not None and self.tool.shift_makes_square:
            self.tool.square = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)

    def _emit(self, edit: object) -> None:
        if edit is not None:
            self.editFinished.emit(edit)
