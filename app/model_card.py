"""The Model tab's card: what the model learned from (with credit), how it measures per class, its training
curves drawn with QPainter, and a plain warning for classes it draws poorly. Reads core.model_card."""

from __future__ import annotations

import html

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from core.model_card import Curve, ModelCard

_SWATCH = 10  # px: the colour sample before each legend entry
SERIES_COLORS = [
    QColor(90, 170, 255),
    QColor(255, 159, 67),
    QColor(48, 209, 88),
    QColor(235, 87, 87),
    QColor(191, 90, 242),
    QColor(255, 214, 10),
    QColor(100, 210, 255),
    QColor(172, 142, 104),
]


class CurvePlot(QWidget):
    """Line plot of some columns of a training log against step (each column scaled to its own range). A column
    with one point (one evaluation) is a dot in the middle of the plot with its value in the legend; the legend
    entries flow onto as many lines as the width needs, and the plot grows to hold them."""

    PLOT_HEIGHT = 90

    def __init__(self, title: str, series: dict[str, list[tuple[float, float]]], parent: QWidget | None = None):
        super().__init__(parent)
        self.title, self.series = title, {k: v for k, v in series.items() if len(v) >= 1}
        self.setMinimumHeight(120)
        policy = self.sizePolicy()
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)

    def legend_labels(self) -> list[str]:
        labels = []
        for name, points in self.series.items():
            values = [v for _, v in points]
            if len(points) == 1:
                labels.append(self.tr("%1 %2 (one evaluation)").replace("%1", name).replace("%2", f"{values[0]:.3g}"))
            else:
                labels.append(f"{name} {values[0]:.3g}→{values[-1]:.3g}")
        return labels

    def legend_layout(self, width: int) -> list[QRectF]:
        """Where each legend entry goes (widget coordinates below the plot), wrapped at `width`."""
        metrics = self.fontMetrics()
        line = metrics.height()
        top = line + 6 + self.PLOT_HEIGHT + 6
        x, y, rects = 6.0, float(top), []
        for label in self.legend_labels():
            advance = metrics.horizontalAdvance(label) + _SWATCH + 4
            if x > 6 and x + advance > width - 6:
                x, y = 6.0, y + line
            rects.append(QRectF(x, y, advance, line))
            x += advance + 12
        return rects

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        rects = self.legend_layout(width)
        bottom = max((r.bottom() for r in rects), default=self.fontMetrics().height() + 12 + self.PLOT_HEIGHT)
        return int(bottom) + 4

    def sizeHint(self) -> QSize:
        return QSize(300, self.heightForWidth(300))

    def resizeEvent(self, event) -> None:
        self.setMinimumHeight(self.heightForWidth(self.width()))  # a layout in a scroll area honours this
        super().resizeEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.fillRect(self.rect(), QColor(32, 34, 38))
        metrics = painter.fontMetrics()
        line = metrics.height()
        painter.setPen(QColor(222, 225, 230))
        painter.drawText(QPointF(6, line), self.title)
        plot = QRectF(8, line + 6, self.width() - 16, self.PLOT_HEIGHT)
        painter.setPen(QPen(QColor(90, 95, 102), 1))
        painter.drawRect(plot)
        steps = [s for points in self.series.values() for s, _ in points]
        if not steps:
            return
        s0, s1 = min(steps), max(steps)
        inner = plot.adjusted(6, 6, -6, -6)  # a point on the frame would hide in it
        for index, ((_, points), label, where) in enumerate(
            zip(self.series.items(), self.legend_labels(), self.legend_layout(self.width()), strict=True)
        ):
            color = SERIES_COLORS[index % len(SERIES_COLORS)]
            values = [v for _, v in points]
            v0, v1 = min(values), max(values)

            def at(step: float, value: float, v0: float = v0, v1: float = v1) -> QPointF:
                x = inner.center().x() if s1 == s0 else inner.left() + (step - s0) / (s1 - s0) * inner.width()
                y = inner.center().y() if v1 == v0 else inner.bottom() - (value - v0) / (v1 - v0) * inner.height()
                return QPointF(x, y)

            painter.setPen(QPen(color, 1.6))
            if len(points) == 1:
                painter.setBrush(color)
                painter.drawEllipse(at(*points[0]), 4.0, 4.0)
                painter.setBrush(Qt.BrushStyle.NoBrush)
            else:
                path = QPainterPath()
                for i, (step, value) in enumerate(points):
                    path.moveTo(at(step, value)) if i == 0 else path.lineTo(at(step, value))
                painter.drawPath(path)
            painter.fillRect(QRectF(where.left(), where.center().y() - 3, _SWATCH, 6), color)
            painter.drawText(QPointF(where.left() + _SWATCH + 4, where.top() + metrics.ascent()), label)
        painter.setPen(QColor(150, 155, 162))
        right = f"step {s1:.0f}"
        painter.drawText(QPointF(plot.right() - metrics.horizontalAdvance(right), line), right)


class ModelCardView(QWidget):
    """The card for one model, rebuilt by show_card()."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.text.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.curves_title = QLabel()
        self.curves = QVBoxLayout()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.text)
        layout.addWidget(self.curves_title)
        layout.addLayout(self.curves)
        layout.addStretch(1)
        self.plots: list[CurvePlot] = []

    def clear(self, text: str = "") -> None:
        self.text.setText(text)
        self.curves_title.setText("")
        self._set_plots([])

    def _set_plots(self, curves: list[Curve]) -> None:
        for plot in self.plots:
            self.curves.removeWidget(plot)
            plot.deleteLater()
        self.plots = []
        for curve in curves:
            for title, series in (
                (self.tr("%1: training loss").replace("%1", curve.name), curve.train),
                (self.tr("%1: held-out").replace("%1", curve.name), curve.heldout),
            ):
                if series:
                    plot = CurvePlot(title, series)
                    self.curves.addWidget(plot)
                    self.plots.append(plot)

    def show_card(self, card: ModelCard, fingerprint: str) -> None:
        esc = html.escape
        missing = self.tr("not recorded")
        lines = [f"<b>{esc(card.name)}</b>"]
        if card.weak_classes:
            lines.append(
                "<span style='color:#e8a33d'>⚠ "
                + esc(
                    self.tr(
                        "Draws these classes poorly (most of its defects are not recognised as the class): %1"
                    ).replace("%1", ", ".join(card.weak_classes))
                )
                + "</span>"
            )
        lines.append(self.tr("Classes: %1").replace("%1", esc(", ".join(card.classes))))
        lines.append(self.tr("Trained on: %1").replace("%1", esc(card.data or missing)))
        lines.append(self.tr("Data credit: %1").replace("%1", esc(card.credit or missing)))
        lines.append(
            self.tr("Training steps: %1").replace(
                "%1", str(card.trained_steps) if card.trained_steps is not None else missing
            )
        )
        if card.figures:
            labels = {
                "class_fidelity": (self.tr("Class fidelity"), "{:.0%}"),
                "vq_ssim": (self.tr("Tokenizer SSIM"), "{:.2f}"),
                "seam_ratio": (self.tr("Seam ratio (1 = invisible)"), "{:.2f}"),
                "diversity": (self.tr("Variant diversity"), "{:.2f}"),
                "seconds_per_inpaint": (self.tr("Seconds per inpaint"), "{:.1f}"),
            }
            rows = "".join(
                f"<tr><td>{esc(labels[k][0])}</td><td align='right'>{labels[k][1].format(v)}</td></tr>"
                for k, v in card.figures.items()
                if k in labels
            )
            lines.append(self.tr("Measured (eval report):") + f"<table cellspacing='2'>{rows}</table>")
        else:
            lines.append(self.tr("Measured figures: %1").replace("%1", missing))
        if card.class_fidelity:
            rows = []
            for name in card.classes:
                value = card.class_fidelity.get(name)
                figure = f"{value:.0%}" if value is not None else "–"
                style = " style='color:#e8a33d'" if name in card.weak_classes else ""
                rows.append(f"<tr{style}><td>{esc(name)}</td><td align='right'>{figure}</td></tr>")
            lines.append(
                self.tr("Recognised as their class, per class:") + f"<table cellspacing='2'>{''.join(rows)}</table>"
            )
        else:
            lines.append(self.tr("Per-class figures: %1").replace("%1", missing))
        lines.append(self.tr("Fingerprint: %1").replace("%1", fingerprint[:12]))
        self.text.setText("<br>".join(lines))
        self.curves_title.setText(
            self.tr("Training curves:") if card.curves else self.tr("Training curves: %1").replace("%1", missing)
        )
        self._set_plots(card.curves)
