"""The variants gallery: thumbnails of a run's variants (cropped to the defect), accept one, regenerate with a new
seed, re-run the exact same request, export, and a split slider to compare before and after."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap
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

from app.canvas import rgb_to_qimage
from app.icons import icon

THUMB = 96


def thumbnail(rgb: np.ndarray, crop: tuple[int, int, int, int] | None, accepted: bool) -> QIcon:
    """A square thumbnail of `crop` (x0, y0, x1, y1) of the image; accepted ones get a green frame."""
    if crop is not None:
        x0, y0, x1, y1 = crop
        rgb = rgb[y0:y1, x0:x1]
    image = rgb_to_qimage(rgb).scaled(THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio,
                                      Qt.TransformationMode.SmoothTransformation)
    pixmap = QPixmap(THUMB, THUMB)
    pixmap.fill(QColor(30, 32, 36))
    painter = QPainter(pixmap)
    painter.drawImage((THUMB - image.width()) // 2, (THUMB - image.height()) // 2, image)
    if accepted:
        painter.setPen(QPen(QColor(48, 209, 88), 4))
        painter.drawRect(2, 2, THUMB - 4, THUMB - 4)
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
        self.list = QListWidget()
        self.list.setViewMode(QListView.ViewMode.IconMode)
        self.list.setIconSize(QSize(THUMB, THUMB))
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setMovement(QListView.Movement.Static)
        self.list.setSpacing(6)
        self.list.setWordWrap(True)
        self.list.setMinimumHeight(THUMB + 48)
        self.list.currentRowChanged.connect(self._on_row)
        self.list.itemDoubleClicked.connect(lambda item: self.acceptRequested.emit(self.list.row(item)))
        self.empty = QLabel(self.tr("Variants appear here after Generate."))
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setStyleSheet("color: palette(mid);")

        self.accept_button = QPushButton(icon("mdi6.check-circle-outline"), self.tr("Accept"))
        self.accept_button.setToolTip(self.tr("Accept the selected variant for export (Enter in the gallery)"))
        self.accept_button.clicked.connect(lambda: self.acceptRequested.emit(self.list.currentRow()))
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
        self.split.setToolTip(self.tr("Split view: original on the left, result on the right. Hold C for the "
                                      "whole original."))
        self.split.valueChanged.connect(lambda value: self.splitChanged.emit(value / 100.0))
        compare = QHBoxLayout()
        compare.addWidget(QLabel(self.tr("Compare")))
        compare.addWidget(self.split, 1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.empty)
        layout.addWidget(self.list, 1)
        layout.addLayout(compare)
        layout.addLayout(buttons)
        self._images: list[np.ndarray] = []
        self._labels: list[str] = []
        self._crop: tuple[int, int, int, int] | None = None
        self.accepted: int | None = None
        self.set_variants([], [], None)

    def set_variants(self, images: list[np.ndarray], labels: list[str], crop: tuple[int, int, int, int] | None,
                     accepted: int | None = None) -> None:
        self._images, self._labels, self._crop, self.accepted = list(images), list(labels), crop, accepted
        self.list.blockSignals(True)
        self.list.clear()
        for index, (image, label) in enumerate(zip(images, labels, strict=True)):
            item = QListWidgetItem(thumbnail(image, crop, index == accepted), label)
            item.setToolTip(label)
            self.list.addItem(item)
        self.list.blockSignals(False)
        has = bool(images)
        self.empty.setVisible(not has)
        self.list.setVisible(has)
        for button in (self.accept_button, self.regenerate_button, self.rerun_button, self.split):
            button.setEnabled(has)
        self.export_button.setEnabled(accepted is not None)
        if has:
            self.list.setCurrentRow(accepted if accepted is not None else 0)

    def set_accepted(self, index: int | None) -> None:
        current = self.list.currentRow()
        self.set_variants(self._images, self._labels, self._crop, index)
        if current >= 0:
            self.list.setCurrentRow(current)

    def set_busy(self, busy: bool) -> None:
        """While a run is going, starting another from here is off."""
        has = bool(self._images)
        self.regenerate_button.setEnabled(has and not busy)
        self.rerun_button.setEnabled(has and not busy)

    @Slot(int)
    def _on_row(self, row: int) -> None:
        if row >= 0:
            self.variantSelected.emit(row)
