"""What the canvas draws: the class-coloured mask overlay and its outlines, and the marks painted over the image
(split line, tags, tool guide, brush ring). Painting helpers take a QPainter and plain values, never the widget."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
from PySide6.QtCore import QPointF, QRect, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPen, QPolygonF

from app.document import Rect
from app.palette import class_color
from app.tools import Guide

BACKGROUND = QColor(38, 40, 44)
TAG_BACKGROUND = QColor(0, 0, 0, 150)


def rgb_to_qimage(rgb: np.ndarray) -> QImage:
    """A QImage that owns its pixels (RGB32: the raster engine's fastest source format)."""
    rgb = np.ascontiguousarray(rgb)
    height, width = rgb.shape[:2]
    return QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888).convertToFormat(
        QImage.Format.Format_RGB32
    )


class MaskOverlay:
    """The label map as a premultiplied ARGB image in class colours, plus each class's outline as a vector path.

    The QImage shares `buffer`, so patching a rectangle of it is all the work a brush dab costs."""

    def __init__(self) -> None:
        self.buffer = np.zeros((0, 0), np.uint32)
        self.image = QImage()
        self.outlines: list[tuple[QColor, QPainterPath]] = []
        self._lut = np.zeros(256, np.uint32)

    def set_colors(self, class_names: list[str]) -> None:
        """Rebuild the label->colour table (classes changed)."""
        lut = np.zeros(256, np.uint32)
        for index, name in enumerate(class_names):
            r, g, b = class_color(name, index)
            lut[index + 1] = 0xFF000000 | (r << 16) | (g << 8) | b
        self._lut = lut

    def rebuild(self, labels: np.ndarray) -> None:
        self.buffer = np.ascontiguousarray(np.take(self._lut, labels))
        height, width = self.buffer.shape[:2]
        self.image = QImage(self.buffer.data, width, height, 4 * width, QImage.Format.Format_ARGB32_Premultiplied)

    def patch(self, labels: np.ndarray, rect: Rect) -> None:
        x0, y0, x1, y1 = rect
        self.buffer[y0:y1, x0:x1] = np.take(self._lut, labels[y0:y1, x0:x1])

    def rebuild_outlines(self, labels: np.ndarray) -> None:
        """Class outlines as vector paths, so they stay one screen pixel wide at any zoom."""
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
        self.outlines = outlines


def paint_placeholder(painter: QPainter, rect: QRect, text: str) -> None:
    painter.setPen(QColor(190, 194, 200))
    font = painter.font()
    font.setPointSizeF(font.pointSizeF() * 1.3)
    painter.setFont(font)
    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, text)


def paint_outlines(
    painter: QPainter, outlines: list[tuple[QColor, QPainterPath]], offset: QPointF, scale: float
) -> None:
    painter.save()
    painter.translate(offset)
    painter.scale(scale, scale)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    for color, path in outlines:
        pen = QPen(color, 1.5)
        pen.setCosmetic(True)
        painter.setPen(pen)
        painter.drawPath(path)
    painter.restore()


def paint_split(painter: QPainter, split_x: float, height: float, before: str, after: str) -> None:
    """The split line with a "before" tag left of it and an "after" tag right of it."""
    painter.setPen(QPen(QColor(255, 255, 255, 220), 2))
    painter.drawLine(QPointF(split_x, 0), QPointF(split_x, height))
    metrics = painter.fontMetrics()
    for text, right_side in ((before, False), (after, True)):
        width = metrics.horizontalAdvance(text) + 12
        x = split_x + 6 if right_side else split_x - 6 - width
        box = QRectF(x, 8, width, metrics.height() + 6)
        painter.fillRect(box, TAG_BACKGROUND)
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)


def paint_tag(painter: QPainter, text: str, x: float) -> None:
    """A short white label on a dark box along the top edge."""
    metrics = painter.fontMetrics()
    box = QRectF(x, 8, metrics.horizontalAdvance(text) + 12, metrics.height() + 6)
    painter.fillRect(box, TAG_BACKGROUND)
    painter.setPen(QColor(255, 255, 255))
    painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)


def paint_guide(painter: QPainter, guide: Guide, to_widget: Callable[[float, float], QPointF]) -> None:
    """A busy tool's shape outline: dashed white over solid black, readable on any surface."""
    points = [to_widget(x, y) for x, y in guide.points]
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


def paint_brush(painter: QPainter, centre: QPointF, radius: float) -> None:
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    # Dark and light rings: readable on bright and on dark metal alike.
    painter.setPen(QPen(QColor(0, 0, 0, 180), 3))
    painter.drawEllipse(centre, radius, radius)
    painter.setPen(QPen(QColor(255, 255, 255), 1.2))
    painter.drawEllipse(centre, radius, radius)
