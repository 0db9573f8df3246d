"""The Model tab's card: what the model learned from (with credit), how it measures per class, its training
curves drawn with QPainter, and a plain warning for classes it draws poorly. Reads core.model_card."""

from __future__ import annotations

import html

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from core.model_card import Curve, ModelCard

_SERIES_COLORS = [QColor(90, 170, 255), QColor(255, 159, 67), QColor(48, 209, 88), QColor(235, 87, 87)]


class CurvePlot(QWidget):
    """Line plot of some columns of a training log against step (each column scaled to its own range)."""

    def __init__(self, title: str, series: dict[str, list[tuple[float, float]]], parent: QWidget | None = None):
        super().__init__(parent)
        self.title, self.series = title, {k: v for k, v in series.items() if len(v) >= 1}
        self.setMinimumHeight(120)

    def sizeHint(self) -> QSize:
        return QSize(300, 140)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.fillRect(self.rect(), QColor(32, 34, 38))
        metrics = painter.fontMetrics()
        line = metrics.height()
        painter.setPen(QColor(222, 225, 230))
        painter.drawText(QPointF(6, line), self.title)
        plot = QRectF(8, line + 6, self.width() - 16, self.height() - 2 * line - 16)
        painter.setPen(QPen(QColor(90, 95, 102), 1))
        painter.drawRect(plot)
        steps = [s for points in self.series.values() for s, _ in points]
        if not steps:
            return
        s0, s1 = min(steps), max(steps)
        legend_x = 6.0
        for index, (name, points) in enumerate(self.series.items()):
            color = _SERIES_COLORS[index % len(_SERIES_COLORS)]
            values = [v for _, v in points]
            v0, v1 = min(values), max(values)
            path = QPainterPath()
            for i, (step, value) in enumerate(points):
                x = plot.left() + (step - s0) / ((s1 - s0) or 1) * plot.width()
                y = plot.bottom() - (value - v0) / ((v1 - v0) or 1) * plot.height()
                path.moveTo(x, y) if i == 0 else path.lineTo(x, y)
            painter.setPen(QPen(color, 1.6))
            painter.drawPath(path)
            if len(points) == 1:
                painter.drawEllipse(path.currentPosition(), 2.5, 2.5)
            label = f"{name} {values[0]:.3g}→{values[-1]:.3g}"
            painter.drawText(QPointF(legend_x, self.height() - 4), label)
            legend_x += metrics.horizontalAdvance(label) + 12
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
