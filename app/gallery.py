"""The variants gallery: thumbnails of a run's variants (cropped to the defect) with their measured scores, best
first, poor ones flagged; accept one, regenerate with a new seed, re-run the exact same request, export, and a
split slider to compare before and after. Rows are sorted, so every signal names a variant by its index in the
run's result, never by its row."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, QSize, Qt, Signal, Slot
from PySide6.QtGui import QBrush, QColor, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from app.canvas_render import rgb_to_qimage
from app.icons import icon
from core.scoring import REPORT_DIGITS, VariantScore, rank

THUMB = 96
VARIANT_ROLE = Qt.ItemDataRole.UserRole  # the row's variant index in the run's result
POOR_ROLE = Qt.ItemDataRole.UserRole + 1  # True: the variant's scores flag it as poor
POOR_COLOR = QColor(255, 159, 10)  # amber: worth a look before accepting, not an error
EXPORTED_ROLE = Qt.ItemDataRole.UserRole + 2  # the sample id the variant was exported as, or None
EXPORTED_COLOR = QColor(48, 209, 88)  # the accepted frame's green: in the dataset


def _figure(value: float) -> str:
    """A measured ratio as every line shows it: the digits core.scoring compares its limits at."""
    return f"{value:.{REPORT_DIGITS}f}"


def thumbnail(
    rgb: np.ndarray,
    crop: tuple[int, int, int, int] | None,
    accepted: bool,
    poor: bool = False,
    exported: bool = False,
) -> QIcon:
    """A square thumbnail of `crop` (x0, y0, x1, y1) of the image; accepted ones get a green frame, poor ones an
    amber corner mark, exported ones a green check badge in the lower left corner."""
    if crop is not None:
        x0, y0, x1, y1 = crop
        rgb = rgb[y0:y1, x0:x1]
    image = rgb_to_qimage(rgb).scaled(
        THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
    )
    pixmap = QPixmap(THUMB, THUMB)
    pixmap.fill(QColor(30, 32, 36))
    painter = QPainter(pixmap)
    painter.drawImage((THUMB - image.width()) // 2, (THUMB - image.height()) // 2, image)
    if accepted:
        painter.setPen(QPen(QColor(48, 209, 88), 4))
        painter.drawRect(2, 2, THUMB - 4, THUMB - 4)
    if poor:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QBrush(POOR_COLOR))
        painter.drawEllipse(THUMB - 22, 6, 16, 16)
        painter.setPen(QPen(QColor(20, 20, 20), 3))
        painter.drawLine(THUMB - 14, 9, THUMB - 14, 15)
        painter.drawPoint(THUMB - 14, 19)
    if exported:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QBrush(EXPORTED_COLOR))
        painter.drawEllipse(6, THUMB - 24, 18, 18)
        painter.setPen(QPen(QColor(20, 20, 20), 3))
        painter.drawPolyline([QPoint(10, THUMB - 15), QPoint(14, THUMB - 11), QPoint(20, THUMB - 19)])
    painter.end()
    result = QIcon(pixmap)
    result.addPixmap(pixmap, QIcon.Mode.Selected)  # no blue tint: the inspector judges the real pixels
    return result


class Gallery(QWidget):
    variantSelected = Signal(int)
    acceptRequested = Signal(int)
    regenerateRequested = Signal()
    rerunRequested = Signal()
    exportRequested = Signal()
    splitChanged = Signal(float)  # share of the image showing "before"; 0 = off

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # One row per variant, its scores beside the thumbnail: under it, in a dock's default height, the last
        # lines were cut off. Text wraps at the row's width instead of being elided.
        self.list = QListWidget()
        self.list.setViewMode(QListView.ViewMode.ListMode)
        self.list.setIconSize(QSize(THUMB, THUMB))
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setMovement(QListView.Movement.Static)
        self.list.setSpacing(3)
        self.list.setWordWrap(True)
        self.list.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.list.setMinimumHeight(THUMB + 16)
        self.list.currentRowChanged.connect(self._on_row)
        # A click on the row already selected changes no row, yet asks to see that variant (after a mask edit).
        self.list.itemClicked.connect(lambda item: self.variantSelected.emit(item.data(VARIANT_ROLE)))
        self.list.itemDoubleClicked.connect(lambda item: self.acceptRequested.emit(item.data(VARIANT_ROLE)))
        self.empty = QLabel(self.tr("Variants appear here after Generate."))
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setStyleSheet("color: palette(mid);")

        self.accept_button = QPushButton(icon("mdi6.check-circle-outline"), self.tr("Accept"))
        self.accept_button.setToolTip(self.tr("Accept the selected variant for export (Enter in the gallery)"))
        self.accept_button.clicked.connect(lambda: self.acceptRequested.emit(self.current_variant()))
        self.export_button = QPushButton(icon("mdi6.database-export-outline"), self.tr("Export"))
        self.export_button.setToolTip(self.tr("Write the accepted variant to the dataset folder (Ctrl+E)"))
        self.export_button.clicked.connect(self.exportRequested)
        self.regenerate_button = QPushButton(icon("mdi6.dice-multiple-outline"), self.tr("Regenerate"))
        self.regenerate_button.setToolTip(self.tr("Same mask and settings, new random seed (Ctrl+Shift+G)"))
        self.regenerate_button.clicked.connect(self.regenerateRequested)
        self.rerun_button = QPushButton(icon("mdi6.replay"), self.tr("Re-run exactly"))
        self.rerun_button.setToolTip(self.tr("Run the very same request again: same seed, same pixels"))
        self.rerun_button.clicked.connect(self.rerunRequested)
        buttons = QGridLayout()
        buttons.addWidget(self.accept_button, 0, 0)
        buttons.addWidget(self.export_button, 0, 1)
        buttons.addWidget(self.regenerate_button, 1, 0)
        buttons.addWidget(self.rerun_button, 1, 1)

        self.split = QSlider(Qt.Orientation.Horizontal)
        self.split.setRange(0, 100)
        self.split.setToolTip(
            self.tr("Split view: original on the left, result on the right. Hold C for the whole original.")
        )
        self.split.valueChanged.connect(lambda value: self.splitChanged.emit(value / 100.0))
        compare = QHBoxLayout()
        compare.addWidget(QLabel(self.tr("Compare")))
        compare.addWidget(self.split, 1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.empty)
        layout.addWidget(self.list, 1)
        self.score_note = QLabel()
        self.score_note.setWordWrap(True)
        self.score_note.setStyleSheet("color: palette(mid);")
        layout.addWidget(self.score_note)
        layout.addLayout(compare)
        layout.addLayout(buttons)
        self._images: list[np.ndarray] = []
        self._labels: list[str] = []
        self._crop: tuple[int, int, int, int] | None = None
        self._scores: list[VariantScore] = []
        self._has_critic = False
        self.accepted: int | None = None
        self.exported: dict[int, str] = {}  # variant index -> the sample id it was exported as
        self.set_variants([], [], None)

    def set_variants(
        self,
        images: list[np.ndarray],
        labels: list[str],
        crop: tuple[int, int, int, int] | None,
        accepted: int | None = None,
        scores: list[VariantScore] | None = None,
        has_critic: bool = False,
        exported: dict[int, str] | None = None,
    ) -> None:
        """Show a run's variants: `scores` (one per variant, or none) sort them best first and go under each
        thumbnail; `has_critic`: class fidelity and realism were measured. `accepted` is a variant index;
        `exported` maps the variants in the dataset to their sample ids (they get a check badge)."""
        self.exported = dict(exported or {})
        scores = list(scores or [])
        if scores and len(scores) != len(images):
            raise ValueError(f"{len(scores)} scores for {len(images)} variants")
        self._images, self._labels, self._crop, self.accepted = list(images), list(labels), crop, accepted
        self._scores, self._has_critic = scores, has_critic
        self.list.blockSignals(True)
        self.list.clear()
        order = rank(scores) if scores else list(range(len(images)))
        for variant in order:
            score = scores[variant] if scores else None
            poor = score is not None and score.poor
            text = labels[variant] if score is None else f"{labels[variant]}\n{self.score_line(score)}"
            sample_id = self.exported.get(variant)
            icon_ = thumbnail(images[variant], crop, variant == accepted, poor, sample_id is not None)
            item = QListWidgetItem(icon_, text)
            item.setData(VARIANT_ROLE, variant)
            item.setData(POOR_ROLE, poor)
            item.setData(EXPORTED_ROLE, sample_id)
            tooltip = labels[variant] if score is None else f"{labels[variant]}\n{self.score_tooltip(score)}"
            if sample_id is not None:
                tooltip += "\n" + self.tr("Exported as %1").replace("%1", sample_id)
            item.setToolTip(tooltip)
            if poor:
                item.setForeground(QBrush(POOR_COLOR))
            self.list.addItem(item)
        self.list.blockSignals(False)
        has = bool(images)
        self.empty.setVisible(not has)
        self.list.setVisible(has)
        self.score_note.setText(
            self.tr(
                "Best first, by spill and seam only: the model has no classifier to judge class fidelity and realism."
            )
            if scores and not has_critic
            else ""
        )
        self.score_note.setVisible(bool(scores) and not has_critic)
        for button in (self.accept_button, self.regenerate_button, self.rerun_button, self.split):
            button.setEnabled(has)
        self.export_button.setEnabled(accepted is not None)
        if has:
            self.list.setCurrentRow(self.row_of(accepted) if accepted is not None else 0)

    def score_line(self, score: VariantScore) -> str:
        """The compact line under a thumbnail: the measures that exist, most telling first."""
        parts = []
        if score.class_fidelity is not None:
            parts.append(self.tr("class %1").replace("%1", _figure(score.class_fidelity)))
        if score.realism is not None:
            parts.append(self.tr("real %1").replace("%1", _figure(score.realism)))
        if score.grain is not None:
            parts.append(self.tr("grain %1").replace("%1", _figure(score.grain)))
        if not parts:  # no classifier: spill and seam are all there is
            parts.append(self.tr("spill %1").replace("%1", f"{score.spill:.1%}"))
            if score.seam is not None:
                parts.append(self.tr("seam %1").replace("%1", _figure(score.seam)))
        return ("⚠ " if score.poor else "") + " · ".join(parts)

    def score_tooltip(self, score: VariantScore) -> str:
        """Every measure, what is missing and why, and the reasons a variant is poor."""
        unmeasured = self.tr("not measured")
        fidelity = _figure(score.class_fidelity) if score.class_fidelity is not None else unmeasured
        realism = _figure(score.realism) if score.realism is not None else unmeasured
        grain = _figure(score.grain) if score.grain is not None else unmeasured
        seam = _figure(score.seam) if score.seam is not None else unmeasured
        lines = [
            self.tr("Score %1 (higher is better)").replace("%1", _figure(score.score)),
            self.tr("Class fidelity: %1").replace("%1", fidelity),
            self.tr("Realism: %1 (about 1 is as close to real crops as they are to each other)").replace("%1", realism),
            self.tr(
                "Grain: %1 (about 1 is as fine-grained as real defects of the class; near 0 is flat or blurred)"
            ).replace("%1", grain),
            self.tr("Spill: %1 of the changed pixels lie outside the label").replace("%1", f"{score.spill:.1%}"),
            self.tr("Seam: %1 (about 1 is no seam)").replace("%1", seam),
        ]
        if not self._has_critic:
            lines.append(self.tr("No classifier in the model: class fidelity and realism are not measured."))
        if score.poor:
            lines.append(self.tr("Poor: %1").replace("%1", "; ".join(score.reasons)))
        return "\n".join(lines)

    def row_of(self, variant: int) -> int:
        """The row showing `variant` (an index in the run's result), or -1."""
        for row in range(self.list.count()):
            if self.list.item(row).data(VARIANT_ROLE) == variant:
                return row
        return -1

    def current_variant(self) -> int:
        """The selected variant's index in the run's result, or -1."""
        item = self.list.currentItem()
        return item.data(VARIANT_ROLE) if item is not None else -1

    def select_variant(self, variant: int) -> None:
        self.list.setCurrentRow(self.row_of(variant))

    def set_accepted(self, index: int | None) -> None:
        self._redraw(index, self.exported)

    def set_exported(self, exported: dict[int, str]) -> None:
        """Mark the variants now in the dataset (variant index -> sample id)."""
        self._redraw(self.accepted, exported)

    def _redraw(self, accepted: int | None, exported: dict[int, str]) -> None:
        current = self.current_variant()
        self.set_variants(self._images, self._labels, self._crop, accepted, self._scores, self._has_critic, exported)
        if current >= 0:
            self.select_variant(current)

    def set_busy(self, busy: bool) -> None:
        """While a run is going, starting another from here is off."""
        has = bool(self._images)
        self.regenerate_button.setEnabled(has and not busy)
        self.rerun_button.setEnabled(has and not busy)

    @Slot(int)
    def _on_row(self, row: int) -> None:
        if row >= 0:
            self.variantSelected.emit(self.list.item(row).data(VARIANT_ROLE))
