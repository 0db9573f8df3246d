"""Dock panels: defect classes, sampler settings with Generate/Cancel and progress, model and device, file list.

Panels only show state and emit what the inspector asked for; the main window decides what happens.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app import class_names
from app.icons import icon
from app.model_card import ModelCardView
from app.palette import class_color
from app.settings import MAX_PANEL_VARIANTS
from core.choices import DEVICE_CHOICES
from core.config import SamplerConfig
from core.request import CLEANUP_CLASS, MAX_SHORT_SEED


def color_swatch(rgb: tuple[int, int, int], size: int = 14) -> QIcon:
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setBrush(QColor(*rgb))
    painter.setPen(QColor(0, 0, 0, 90))
    painter.drawRoundedRect(1, 1, size - 2, size - 2, 3, 3)
    painter.end()
    return QIcon(pixmap)


def short_count(pixels: int) -> str:
    if pixels >= 1_000_000:
        return f"{pixels / 1e6:.1f} M"
    if pixels >= 10_000:
        return f"{pixels / 1e3:.0f} k"
    return str(pixels)


class ClassPanel(QWidget):
    """The model's defect classes: colour, painted pixels in this image, samples exported so far."""

    classChosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tree = QTreeWidget()
        self.tree.setColumnCount(3)
        self.tree.setHeaderLabels([self.tr("Class"), self.tr("Painted"), self.tr("Exported")])
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.tree.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.setToolTip(self.tr("The class you paint with. Keys 1-9 pick a class; each class has its colour."))
        self.tree.currentItemChanged.connect(self._on_current)
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color: palette(mid);")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.tree)
        layout.addWidget(self.hint)
        self._names: list[str] = []
        self._updating = False

    def display_name(self, name: str) -> str:
        return class_names.display_name(name)

    @property
    def names(self) -> list[str]:
        """The listed class names, in row order (what `choose_index` counts)."""
        return list(self._names)

    def set_classes(
        self,
        model_classes: list[str],
        document_classes: list[str],
        painted: dict[str, int],
        exported: dict[str, int],
        active: str,
    ) -> None:
        """Model classes first (plus clean-up); painted classes the model does not know are listed, flagged."""
        names = list(model_classes) + ([CLEANUP_CLASS] if model_classes else [])
        unknown = [n for n in painted if n not in names]
        self._updating = True
        self.tree.clear()
        self._names = names + unknown
        for name in self._names:
            index = document_classes.index(name) if name in document_classes else len(document_classes)
            item = QTreeWidgetItem(
                [
                    self.display_name(name),
                    short_count(painted.get(name, 0)) if name in painted else "–",
                    str(exported.get(name, 0)) if name != CLEANUP_CLASS else "",
                ]
            )
            item.setIcon(0, color_swatch(class_color(name, index)))
            item.setData(0, Qt.ItemDataRole.UserRole, name)
            for column in (1, 2):
                item.setTextAlignment(column, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if name in unknown:
                item.setForeground(0, QColor(230, 120, 40))
                item.setToolTip(0, self.tr("Painted, but the loaded model has no class of this name"))
            elif name == CLEANUP_CLASS:
                item.setToolTip(0, self.tr("Clean-up: paint over an existing defect to make the surface clean again"))
            self.tree.addTopLevelItem(item)
            if name == active:
                self.tree.setCurrentItem(item)
        self._updating = False
        self.hint.setText("" if model_classes else self.tr("Load a model to see its defect classes."))

    def choose_index(self, index: int) -> None:
        if 0 <= index < self.tree.topLevelItemCount():
            self.tree.setCurrentItem(self.tree.topLevelItem(index))

    @Slot(QTreeWidgetItem, QTreeWidgetItem)
    def _on_current(self, current: QTreeWidgetItem | None, _previous: QTreeWidgetItem | None) -> None:
        if current is not None and not self._updating:
            self.classChosen.emit(current.data(0, Qt.ItemDataRole.UserRole))


SAMPLER_DECIMALS = 2  # the sampler panel's number boxes show hundredths


def sampler_box(name: str) -> QSpinBox | QDoubleSpinBox:
    """A spin box for SamplerConfig field `name`, its range and step the field's Bounds."""
    bounds = SamplerConfig.bounds(name)
    if bounds.whole:
        return QSpinBox(minimum=int(bounds.low), maximum=int(bounds.high), singleStep=int(bounds.step))
    box = QDoubleSpinBox()
    box.setDecimals(SAMPLER_DECIMALS)  # before the range: a range finer than the decimals would be rounded
    box.setRange(bounds.lowest(10**-SAMPLER_DECIMALS), bounds.high)
    box.setSingleStep(bounds.step)
    return box


class SamplerPanel(QWidget):
    """Sampler settings, the Generate/Cancel buttons and the step progress."""

    generateRequested = Signal()
    cancelRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.defaults = SamplerConfig()
        # Ranges are the SamplerConfig fields' own Bounds: any default a bundle may carry shows unclamped.
        self.steps = sampler_box("steps")
        self.steps.setToolTip(self.tr("Sampler steps for a full image; a small mask uses proportionally fewer"))
        self.cfg = sampler_box("cfg_weight")
        self.cfg.setToolTip(self.tr("Classifier-free guidance: higher follows the class more strongly"))
        self.temp_min = sampler_box("temp_min")
        self.temp_max = sampler_box("temp_max")
        self.temp_min.setToolTip(self.tr("Temperature at the first step (logit multiplier)"))
        self.temp_max.setToolTip(self.tr("Temperature at the last step"))
        self.seed = QSpinBox(minimum=0, maximum=MAX_SHORT_SEED)
        self.seed.setToolTip(self.tr("Same seed, same mask, same settings: same result"))
        self.random_seed = QCheckBox(self.tr("New random seed each run"))
        self.random_seed.toggled.connect(lambda on: self.seed.setEnabled(not on))
        self.last_seed = QLabel("–")
        self.last_seed.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.live_preview = QCheckBox(self.tr("Live preview"))
        self.live_preview.setChecked(True)
        self.live_preview.setToolTip(self.tr("Show each step on the canvas; off makes runs on a slow CPU faster"))
        self.variants = QSpinBox(minimum=1, maximum=MAX_PANEL_VARIANTS)
        self.variants.setToolTip(self.tr("How many variants to generate (seed, seed+1, ...)"))
        self.reset_button = QToolButton()
        self.reset_button.setIcon(icon("mdi6.backup-restore"))
        self.reset_button.setToolTip(self.tr("Back to the model's sampler defaults"))
        self.reset_button.clicked.connect(self.reset_to_defaults)

        temps = QHBoxLayout()
        temps.addWidget(self.temp_min)
        temps.addWidget(QLabel("→"))
        temps.addWidget(self.temp_max)
        seed_row = QHBoxLayout()
        seed_row.addWidget(self.seed, 1)
        seed_row.addWidget(self.reset_button)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        # The sampler runs over the masked tokens only: say how many steps this mask really takes.
        self.run_steps = QLabel()
        self.run_steps_total: int | None = None
        self.run_steps.setStyleSheet("color: palette(mid);")
        steps_row = QHBoxLayout()
        steps_row.addWidget(self.steps)
        steps_row.addWidget(self.run_steps, 1)
        form.addRow(self.tr("Steps"), steps_row)
        form.addRow(self.tr("Guidance (CFG)"), self.cfg)
        form.addRow(self.tr("Temperature"), temps)
        form.addRow(self.tr("Seed"), seed_row)
        form.addRow("", self.random_seed)
        form.addRow(self.tr("Last seed"), self.last_seed)
        form.addRow(self.tr("Variants"), self.variants)
        form.addRow("", self.live_preview)

        self.generate_button = QPushButton(icon("mdi6.creation", color="white"), self.tr("Generate"))
        self.generate_button.setObjectName("primary")
        self.generate_button.setMinimumHeight(34)
        self.generate_button.setToolTip(self.tr("Inpaint the painted masks (Ctrl+G)"))
        self.generate_button.clicked.connect(self.generateRequested)
        self.cancel_button = QPushButton(icon("mdi6.stop-circle-outline"), self.tr("Cancel"))
        self.cancel_button.setMinimumHeight(34)
        self.cancel_button.setEnabled(False)
        self.cancel_button.setToolTip(self.tr("Stop after the current step (Esc)"))
        self.cancel_button.clicked.connect(self.cancelRequested)
        buttons = QHBoxLayout()
        buttons.addWidget(self.generate_button, 2)
        buttons.addWidget(self.cancel_button, 1)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setTextVisible(True)
        self.progress.setFormat(self.tr("Ready"))

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(form)
        layout.addSpacing(6)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addStretch(1)
        self.reset_to_defaults()

    def set_defaults(self, config: SamplerConfig) -> None:
        self.defaults = config

    @Slot()
    def reset_to_defaults(self) -> None:
        config = self.defaults
        self.steps.setValue(config.steps)
        self.cfg.setValue(config.cfg_weight)
        self.temp_min.setValue(config.temp_min)
        self.temp_max.setValue(config.temp_max)

    def sampler_config(self) -> SamplerConfig:
        """The model's sampler defaults with the panel's values over them."""
        import dataclasses

        return dataclasses.replace(
            self.defaults,
            steps=self.steps.value(),
            cfg_weight=round(self.cfg.value(), 4),
            temp_min=round(self.temp_min.value(), 4),
            temp_max=round(self.temp_max.value(), 4),
        )

    def set_running(self, running: bool) -> None:
        self.generate_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        if running:
            self.progress.setRange(0, 0)  # busy until the first step says how many there are
            self.progress.setFormat(self.tr("Preparing: encoding the image, warming the model up…"))

    def show_run_steps(self, total: int | None) -> None:
        """The steps the current mask takes (fewer than the setting for a small mask); None: unknown."""
        self.run_steps_total = total
        self.run_steps.setText("" if total is None else self.tr("→ %1 for this mask").replace("%1", str(total)))

    def show_step(self, step: int, total: int) -> None:
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(step)
        self.progress.setFormat(self.tr("Step %1 of %2").replace("%1", str(step)).replace("%2", str(total)))

    def show_status(self, text: str) -> None:
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat(text)


class ModelPanel(QWidget):
    """Which model bundle and which device: a picker with the bundle's classes and provenance."""

    modelChosen = Signal(str)
    browseRequested = Signal()
    deviceChosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.combo = QComboBox()
        self.combo.setToolTip(self.tr("Model bundles: the bundled ones and those in your model folder"))
        self.combo.activated.connect(self._on_activated)
        self.browse = QToolButton()
        self.browse.setIcon(icon("mdi6.folder-open-outline"))
        self.browse.setToolTip(self.tr("Use a model bundle folder…"))
        self.browse.clicked.connect(self.browseRequested)
        self.device = QComboBox()
        names = {
            "auto": self.tr("Auto"),
            "cuda": self.tr("CUDA (NVIDIA GPU)"),
            "mps": self.tr("Apple GPU (MPS)"),
            "cpu": self.tr("CPU"),
        }
        for key in DEVICE_CHOICES:
            self.device.addItem(names[key], key)
        self.device.setToolTip(self.tr("Where the model runs. Auto picks a GPU when there is one."))
        self.device.activated.connect(lambda index: self.deviceChosen.emit(self.device.itemData(index)))
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.card = ModelCardView()
        self.details = self.card.text  # the card's text (name, data, figures per class, warnings)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self.card)
        row = QHBoxLayout()
        row.addWidget(self.combo, 1)
        row.addWidget(self.browse)
        form = QFormLayout()
        form.addRow(self.tr("Model"), row)
        form.addRow(self.tr("Device"), self.device)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(form)
        layout.addWidget(self.status)
        layout.addWidget(scroll, 1)

    def set_entries(self, entries: list, current: Path | None) -> None:  # list[app.models.BundleEntry]
        self.combo.clear()
        for entry in entries:
            suffix = "" if entry.info else "  ⚠"
            self.combo.addItem(entry.label + suffix, str(entry.path))
            self.combo.setItemData(self.combo.count() - 1, entry.error or str(entry.path), Qt.ItemDataRole.ToolTipRole)
        if not entries:
            self.combo.addItem(self.tr("No model found"), "")
        self.combo.setEnabled(bool(entries))
        self.select_path(current)
        if not entries:
            self.combo.setCurrentIndex(0)

    def select_path(self, path: Path | None) -> None:
        for index in range(self.combo.count()):
            data = self.combo.itemData(index)
            if path is not None and data and Path(data).resolve() == Path(path).resolve():
                self.combo.setCurrentIndex(index)
                return
        if path is None:
            self.combo.setCurrentIndex(-1)

    def set_device_setting(self, key: str) -> None:
        index = self.device.findData(key)
        self.device.setCurrentIndex(max(0, index))

    def show_model(self, info: object | None, device_text: str, note: str = "") -> None:
        """info: core.bundle.BundleInfo of the loaded model, or None when no model is loaded."""
        if info is None:
            self.status.setText(self.tr("<b>No model loaded</b> — choose one above."))
            self.status.setStyleSheet("color: #e8a33d;")
            self.card.clear(note)
            return
        text = self.tr("Running on %1").replace("%1", device_text)
        if note:
            text += "<br><span style='color:#e8a33d'>" + note + "</span>"
        self.status.setText(text)
        self.status.setStyleSheet("")
        from core.model_card import read_model_card

        self.card.show_card(read_model_card(info), getattr(info, "fingerprint", ""))  # type: ignore[arg-type]

    def show_loading(self, name: str) -> None:
        self.status.setText(self.tr("Loading %1…").replace("%1", name))
        self.status.setStyleSheet("")

    @Slot(int)
    def _on_activated(self, index: int) -> None:
        data = self.combo.itemData(index)
        if data:
            self.modelChosen.emit(data)


EXPORTED_ROLE = Qt.ItemDataRole.UserRole + 1  # True: the dataset holds samples of this image
EXPORTED_COLOR = "#30d158"  # the gallery's accepted-frame green: in the dataset


class FilesPanel(QWidget):
    """The images of an opened folder, with previous/next."""

    fileChosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.folder = QLabel(self.tr("No folder opened"))
        self.folder.setWordWrap(True)
        self.list = QListWidget()
        self.list.setIconSize(QSize(16, 16))
        self.list.itemActivated.connect(self._on_activated)
        self.list.itemClicked.connect(self._on_activated)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.folder)
        layout.addWidget(self.list, 1)
        self.paths: list[Path] = []
        self.exported: frozenset[str] = frozenset()  # resolved paths of images the dataset holds samples of

    def set_files(self, folder: Path, paths: list[Path]) -> None:
        self.paths = list(paths)
        self.folder.setText(
            self.tr("%1 — %2 images").replace("%1", folder.name or str(folder)).replace("%2", str(len(paths)))
        )
        self.folder.setToolTip(str(folder))
        self.list.clear()
        for path in paths:
            item = QListWidgetItem(path.name)
            item.setData(Qt.ItemDataRole.UserRole, str(path))
            self.list.addItem(item)
        self._show_exported()

    def set_exported(self, sources: frozenset[str] | set[str]) -> None:
        """Mark the images the dataset holds samples of (`sources`: resolved paths, as the manifest names them)."""
        self.exported = frozenset(sources)
        self._show_exported()

    def is_exported(self, path: Path) -> bool:
        return str(Path(path).resolve()) in self.exported

    def _show_exported(self) -> None:
        for row, path in enumerate(self.paths):
            item = self.list.item(row)
            exported = self.is_exported(path)
            item.setData(EXPORTED_ROLE, exported)
            item.setIcon(icon("mdi6.database-check", EXPORTED_COLOR) if exported else icon("mdi6.image-outline"))
            note = "\n" + self.tr("Exported: the dataset holds samples of it") if exported else ""
            item.setToolTip(str(path) + note)

    def mark_current(self, path: Path | None) -> None:
        for row, candidate in enumerate(self.paths):
            if path is not None and candidate == path:
                self.list.setCurrentRow(row)
                return

    def neighbour(self, current: Path | None, step: int) -> Path | None:
        if not self.paths:
            return None
        if current not in self.paths:
            return self.paths[0]
        index = self.paths.index(current) + step
        return self.paths[index] if 0 <= index < len(self.paths) else None

    @Slot(QListWidgetItem)
    def _on_activated(self, item: QListWidgetItem) -> None:
        self.fileChosen.emit(item.data(Qt.ItemDataRole.UserRole))
