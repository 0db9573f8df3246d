"""The main window: canvas in the middle, tools on the left, classes / generate / variants / model docks on the
right, files on the left; menus, toolbar and status bar. It wires widgets to the document, the controller and
the presenters that hold each part's logic: the image session (app.session), the model and its device
(app.model_device) and generation (app.generation). Mask editing, settings, language and help stay here."""

from __future__ import annotations

import base64
import logging
from pathlib import Path

from PySide6.QtCore import QByteArray, QSize, Qt, Slot
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
    QKeyEvent,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QLabel,
    QMainWindow,
    QWidget,
)

from app import dialogs, language
from app.actions import Actions
from app.canvas import Canvas
from app.compare_key import CompareKey
from app.controller import Controller
from app.document import MaskDocument
from app.gallery import Gallery
from app.generation import GenerationPresenter
from app.model_device import ModelDevicePresenter
from app.models import LoadedModel
from app.panels import ClassPanel, FilesPanel, ModelPanel, SamplerPanel
from app.session import SessionPresenter
from app.settings import Settings
from app.tools import ToolSettings, make_tools
from app.undo import MaskUndoStack
from app.window_layout import DockSizes, fitted_size, scrollable
from core.model_card import read_model_card
from core.request import CLEANUP_CLASS, MAX_SHORT_SEED

log = logging.getLogger(__name__)

GROW_STEP_PX = 3
# Closing waits this long for a run to stop; a step that cannot be interrupted (a decode, a model load) is left
# to the process exit (app.gui.main) rather than holding the window up.
CLOSE_WAIT_MS = 2000


class MainWindow(QMainWindow):
    """DefectForge's window. Call start() after show() to open the first image and load the model."""

    def __init__(
        self, settings: Settings | None = None, settings_path: Path | None = None, controller: Controller | None = None
    ) -> None:
        super().__init__()
        self.settings = settings or Settings()
        self.settings_path = settings_path
        self.setWindowTitle("DefectForge")
        self.setAcceptDrops(True)
        self.document = MaskDocument()
        self.undo_stack = MaskUndoStack(self.document, parent=self)
        self.tool_settings = ToolSettings(brush_size=self.settings.brush_size)
        self.tools = make_tools(self.tool_settings)
        self.controller = controller or Controller(parent=self)
        self.controller.setParent(self)
        self.exported_counts: dict[str, int] = {}
        self._font_notice_shown = False  # the missing-Korean-font notice, once per window

        self.canvas = Canvas(self.document, self.tool_settings, self)
        self.canvas.placeholder = self.tr("Open a clean surface image (Ctrl+O) or drop one here.")
        self.canvas.set_overlay_opacity(self.settings.overlay_opacity)
        self.setCentralWidget(self.canvas)
        self.actions_ = Actions(self)
        self.class_panel = ClassPanel()
        self.sampler_panel = SamplerPanel()
        self.model_panel = ModelPanel()
        self.files_panel = FilesPanel()
        self.gallery = Gallery()
        self._build_docks()
        self.generation = GenerationPresenter(
            self.document, self.canvas, self.sampler_panel, self.gallery, self.controller, self.settings, self
        )
        self.actions_.build_toolbars(self)
        self.actions_.build_menus(
            self,
            [self.classes_dock, self.sampler_dock, self.model_dock, self.gallery_dock, self.files_dock],
            self.settings.language,
        )
        self.opacity_slider, self.brush_spin = self.actions_.opacity_slider, self.actions_.brush_spin
        self.recent_menu, self.language_menu = self.actions_.recent_menu, self.actions_.language_menu
        self.actions_.language_menu.triggered.connect(self._on_language)
        self._build_status_bar()
        self.session = SessionPresenter(
            self.document,
            self.undo_stack,
            self.files_panel,
            self.files_dock,
            self.recent_menu,
            self.generation,
            self.controller,
            self.settings,
            self,
        )
        self.model_device = ModelDevicePresenter(
            self.model_panel, self.model_dock, self.model_label, self.controller, self.settings, self
        )
        self._connect()
        self._apply_settings()
        self.resize(fitted_size(self, QSize(1440, 900)))
        self._restore_window_state()
        self._refresh_classes()
        self._update_actions()
        self.zoom_label.setText(f"{self.canvas.scale * 100:.0f} %")
        self.compare_key = CompareKey(self, self.canvas)  # hold C: the original, wherever the focus is

    # --- layout --------------------------------------------------------------------------------------------
    def _dock(self, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(scrollable(widget))
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
        )
        self.addDockWidget(area, dock)
        return dock

    def _build_docks(self) -> None:
        right, left = Qt.DockWidgetArea.RightDockWidgetArea, Qt.DockWidgetArea.LeftDockWidgetArea
        self.classes_dock = self._dock(self.tr("Defect classes"), "classes", self.class_panel, right)
        self.sampler_dock = self._dock(self.tr("Generate"), "generate", self.sampler_panel, right)
        self.model_dock = self._dock(self.tr("Model"), "model", self.model_panel, right)
        self.gallery_dock = self._dock(self.tr("Variants"), "variants", self.gallery, right)
        self.files_dock = self._dock(self.tr("Files"), "files", self.files_panel, left)
        self.tabifyDockWidget(self.sampler_dock, self.model_dock)
        self.sampler_dock.raise_()
        self.files_dock.hide()
        self.resizeDocks([self.classes_dock], [360], Qt.Orientation.Horizontal)
        docks = [self.classes_dock, self.sampler_dock, self.model_dock, self.gallery_dock, self.files_dock]
        self.dock_sizes = DockSizes(self, docks)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.position_label = QLabel()
        self.zoom_label = QLabel()
        self.memory_label = QLabel()
        self.model_label = QLabel()
        for label in (self.position_label, self.zoom_label, self.memory_label, self.model_label):
            label.setContentsMargins(8, 0, 8, 0)
            bar.addPermanentWidget(label)
        self.memory_label.setToolTip(self.tr("Memory held by the undo history"))

    def _connect(self) -> None:
        a, c = self.actions_, self.controller
        a.open_image.triggered.connect(self.session.choose_image)
        a.open_folder.triggered.connect(self.session.choose_folder)
        a.previous_image.triggered.connect(lambda: self.session.step_image(-1))
        a.next_image.triggered.connect(lambda: self.session.step_image(1))
        a.import_mask.triggered.connect(self.session.choose_mask)
        a.choose_dataset.triggered.connect(self.generation.choose_dataset)
        a.export.triggered.connect(self.generation.export_accepted)
        a.quit.triggered.connect(self.close)
        a.undo.triggered.connect(self.undo_stack.undo)
        a.redo.triggered.connect(self.undo_stack.redo)
        a.grow.triggered.connect(lambda: self.push_edit(self.document.grow(GROW_STEP_PX)))
        a.shrink.triggered.connect(lambda: self.push_edit(self.document.shrink(GROW_STEP_PX)))
        a.invert.triggered.connect(lambda: self.push_edit(self.document.invert()))
        a.clear_class.triggered.connect(lambda: self.push_edit(self.document.clear_class()))
        a.clear_all.triggered.connect(lambda: self.push_edit(self.document.clear_all()))
        a.brush_bigger.triggered.connect(lambda: self._change_brush(+1))
        a.brush_smaller.triggered.connect(lambda: self._change_brush(-1))
        a.fit.triggered.connect(self.canvas.fit)
        a.actual_size.triggered.connect(self.canvas.actual_size)
        a.zoom_in.triggered.connect(lambda: self.canvas.zoom_by(1.25))
        a.zoom_out.triggered.connect(lambda: self.canvas.zoom_by(0.8))
        a.show_overlay.toggled.connect(self.canvas.set_overlay_visible)
        a.generate.triggered.connect(lambda: self.generation.generate())
        a.cancel.triggered.connect(self.generation.cancel)
        a.regenerate.triggered.connect(lambda: self.generation.generate(new_seed=True))
        a.rerun.triggered.connect(self.generation.rerun_exactly)
        a.accept.triggered.connect(lambda: self.generation.accept_variant(self.gallery.current_variant()))
        a.shortcuts.triggered.connect(self.show_shortcuts)
        a.about.triggered.connect(self.show_about)
        a.tool_group.triggered.connect(lambda action: self.set_tool(action.data()))
        for action in a.classes:
            action.triggered.connect(self._on_class_key)
        self.addActions([a.brush_bigger, a.brush_smaller, *a.classes, a.zoom_in, a.zoom_out])
        self.undo_stack.indexChanged.connect(self._on_undo_changed)
        self.undo_stack.canUndoChanged.connect(a.undo.setEnabled)
        self.undo_stack.canRedoChanged.connect(a.redo.setEnabled)
        a.undo.setEnabled(False)
        a.redo.setEnabled(False)
        self.canvas.editFinished.connect(self.push_edit)
        self.canvas.strokeStarted.connect(self._on_stroke_started)
        self.canvas.cursorMoved.connect(self._on_cursor)
        self.canvas.zoomChanged.connect(lambda s: self.zoom_label.setText(f"{s * 100:.0f} %"))
        self.brush_spin.valueChanged.connect(self._on_brush_spin)
        self.opacity_slider.valueChanged.connect(lambda v: self.canvas.set_overlay_opacity(v / 100))
        self.class_panel.classChosen.connect(self.set_active_class)
        c.countsChanged.connect(self._on_counts)
        c.exported.connect(self.save_settings)  # the dataset folder just proved itself: keep it even after a crash
        for presenter in (self.generation, self.session, self.model_device):
            presenter.stateChanged.connect(self._update_actions)
            presenter.message.connect(self.statusBar().showMessage)
        self.session.titleChanged.connect(self.setWindowTitle)
        self.model_device.modelReady.connect(self._fit_to_model)
        self.model_device.settingsChanged.connect(self.save_settings)
        self.document.add_listener(self._on_document_changed)

    def _apply_settings(self) -> None:
        s = self.settings
        self.brush_spin.setValue(int(s.brush_size))
        self.opacity_slider.setValue(int(round(s.overlay_opacity * 100)))
        self.set_tool(s.tool if s.tool in self.tools else "brush")
        self.sampler_panel.seed.setValue(min(MAX_SHORT_SEED, max(0, s.sampler.seed)))
        self.sampler_panel.random_seed.setChecked(s.sampler.random_seed)
        self.sampler_panel.seed.setEnabled(not s.sampler.random_seed)
        self.sampler_panel.variants.setValue(s.sampler.variants)
        self.sampler_panel.live_preview.setChecked(s.sampler.live_preview)
        self.model_panel.set_device_setting(s.device)

    def _restore_window_state(self) -> None:
        try:
            if self.settings.window_geometry:
                self.restoreGeometry(QByteArray(base64.b64decode(self.settings.window_geometry)))
            if self.settings.window_state:
                self.restoreState(QByteArray(base64.b64decode(self.settings.window_state)))
        except (ValueError, TypeError):
            log.warning("ignoring a damaged saved window layout")

    # --- start-up ------------------------------------------------------------------------------------------
    def start(self, image: Path | None = None, model: Path | None = None) -> None:
        """Open the first image (the argument, else a bundled sample) and load the model in the background."""
        if not self.settings.window_state:
            self._share_the_dock_column()
        entries = self.model_device.refresh_models()
        self.session.open_start_image(image)
        self.canvas.setFocus()
        self.model_device.load_first(model, entries)

    def _share_the_dock_column(self) -> None:
        """A first layout for the window as shown: the Generate panel whole (settings, button, progress), the
        classes and variants sharing the rest (on a short screen they scroll)."""
        column = [self.classes_dock, self.sampler_dock, self.gallery_dock]
        height = sum(dock.height() for dock in column)
        generate = min(self.sampler_panel.sizeHint().height() + 60, height // 2)  # with its title and tabs
        classes = min(200, (height - generate) // 2)
        self.dock_sizes.resize_docks(column, [classes, generate, height - classes - generate], Qt.Orientation.Vertical)

    # --- dropping files ------------------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        self.session.open_dropped([Path(url.toLocalFile()) for url in event.mimeData().urls() if url.isLocalFile()])
        event.acceptProposedAction()

    # --- mask editing --------------------------------------------------------------------------------------
    @Slot(object)
    def push_edit(self, edit: object) -> None:
        self.undo_stack.push_edit(edit)  # type: ignore[arg-type]

    def set_tool(self, name: str) -> None:
        tool = self.tools.get(name)
        if tool is None:
            return
        erasing_before = self.settings.tool == "eraser"
        self.actions_.tools[name].setChecked(True)
        self.canvas.set_tool(tool)
        self.settings.tool = name
        if (name == "eraser") != erasing_before:
            self.statusBar().showMessage(self._paint_message(), 3000)

    def _paint_message(self) -> str:
        """What a stroke does now, in the user's words: the eraser removes mask pixels of every class, clean-up
        paints a region whose defect the model will erase, any other class paints that class."""
        if self.settings.tool == "eraser":
            return self.tr("Erasing the mask (every class)")
        name = self.document.active_class
        if name == CLEANUP_CLASS:
            return self.tr("Clean-up: paint over a defect to erase it from the image")
        return self.tr("Painting: %1").replace("%1", self.class_panel.display_name(name))

    def set_active_class(self, name: str) -> None:
        self.document.set_active_class(name)
        self.canvas.refresh_colors()
        self._refresh_classes()
        self.statusBar().showMessage(self._paint_message(), 3000)

    @Slot()
    def _on_class_key(self) -> None:
        action = self.sender()
        if isinstance(action, QAction):
            self.class_panel.choose_index(int(action.data()))

    def _change_brush(self, direction: int) -> None:
        self.tool_settings.bigger() if direction > 0 else self.tool_settings.smaller()
        self.brush_spin.setValue(int(self.tool_settings.brush_size))

    @Slot(int)
    def _on_brush_spin(self, value: int) -> None:
        self.tool_settings.brush_size = float(value)
        self.settings.brush_size = value
        self.canvas.brush_size_changed()

    def _on_document_changed(self, rect: object) -> None:
        if rect is None:
            self._refresh_classes()

    @Slot(int)
    def _on_undo_changed(self, _index: int) -> None:
        self._refresh_classes()
        self.memory_label.setText(self.tr("Undo: %1 MB").replace("%1", f"{self.undo_stack.nbytes() / 2**20:.1f}"))

    @Slot()
    def _on_stroke_started(self) -> None:
        self.generation.mask_edited()  # editing the mask: show the original being painted on

    def _refresh_classes(self) -> None:
        model_classes = self.controller.model.info.class_names if self.controller.model else []
        self.class_panel.set_classes(
            model_classes,
            self.document.class_names,
            self.document.pixel_counts(),
            self.exported_counts,
            self.document.active_class,
        )
        self.actions_.class_menu.setEnabled(bool(model_classes))
        names = [*model_classes, CLEANUP_CLASS] if model_classes else []
        for index, action in enumerate(self.actions_.classes):
            action.setVisible(index < len(names))
            if index < len(names):
                action.setText(self.class_panel.display_name(names[index]))

    @Slot(object)
    def _on_counts(self, counts: object) -> None:
        self.exported_counts = dict(counts)  # type: ignore[call-overload]
        self._refresh_classes()

    @Slot(object)
    def _on_cursor(self, pos: object) -> None:
        self.position_label.setText("" if pos is None else f"{pos[0]}, {pos[1]}")  # type: ignore[index]

    # --- a model loaded ------------------------------------------------------------------------------------
    @Slot(object)
    def _fit_to_model(self, model: LoadedModel) -> None:
        """A model loaded: its classes in the document (clean-up stays chosen), its sampler defaults under the
        inspector's saved settings, and its exported counts."""
        info = model.info
        active = self.document.active_class
        self.document.set_classes(info.class_names)
        if active == CLEANUP_CLASS:  # not a model class, but a choice the reload must keep
            self.document.set_active_class(active)
        self.canvas.refresh_colors()
        self.sampler_panel.set_defaults(info.sampler)
        s = self.settings.sampler
        self.sampler_panel.reset_to_defaults()
        for spin, value in (
            (self.sampler_panel.steps, s.steps),
            (self.sampler_panel.cfg, s.cfg_weight),
            (self.sampler_panel.temp_min, s.temp_min),
            (self.sampler_panel.temp_max, s.temp_max),
        ):
            if value is not None:
                spin.setValue(value)
        self.generation.refresh_counts()
        self._refresh_classes()

    # --- actions state, help, settings, closing ------------------------------------------------------------
    def _update_actions(self) -> None:
        a, c = self.actions_, self.controller
        has_image = not self.document.is_empty
        ready = has_image and c.model is not None and not c.busy and not c.loading
        a.generate.setEnabled(ready)
        self.sampler_panel.generate_button.setEnabled(ready)
        a.cancel.setEnabled(c.busy)
        self.sampler_panel.cancel_button.setEnabled(c.busy)
        has_result = self.generation.result is not None
        a.regenerate.setEnabled(ready and has_result)
        a.rerun.setEnabled(ready and c.last_request is not None)
        a.accept.setEnabled(has_result)
        can_export = self.generation.can_export  # one rule for the menu, Ctrl+E, the toolbar and the panel
        a.export.setEnabled(can_export)
        self.gallery.export_button.setEnabled(can_export)
        for action in (a.import_mask, a.grow, a.shrink, a.invert, a.clear_class, a.clear_all):
            action.setEnabled(has_image)
        a.previous_image.setEnabled(bool(self.files_panel.paths))
        a.next_image.setEnabled(bool(self.files_panel.paths))
        self.gallery.set_busy(c.busy)
        self.model_device.show_no_model()

    @Slot()
    def show_shortcuts(self) -> None:
        a = self.actions_
        ordered = [
            a.open_image,
            a.open_folder,
            a.previous_image,
            a.next_image,
            a.import_mask,
            a.export,
            a.undo,
            a.redo,
            *a.tools.values(),
            a.brush_bigger,
            a.brush_smaller,
            a.grow,
            a.shrink,
            a.invert,
            a.clear_class,
            a.clear_all,
            a.fit,
            a.actual_size,
            a.zoom_in,
            a.zoom_out,
            a.show_overlay,
            a.generate,
            a.cancel,
            a.regenerate,
            a.rerun,
            a.accept,
            a.shortcuts,
            a.quit,
        ]
        dialogs.ShortcutsDialog(ordered, self).exec()

    @Slot()
    def show_about(self) -> None:
        model = self.controller.model
        credit = read_model_card(model.info).credit if model else None
        dialogs.AboutDialog(
            model.device_text if model else self.tr("none"),
            model.info.name if model else self.tr("none"),
            self,
            data_credit=credit,
        ).exec()

    @Slot(QAction)
    def _on_language(self, action: QAction) -> None:
        self.settings.language = action.data()
        for other in self.language_menu.actions():
            other.setChecked(other is action)
        self.save_settings()
        self.switch_language()

    def switch_language(self) -> None:
        """Show the settings' language now: new translators, every message re-translated, run-time texts redone."""
        language.install_translators(QApplication.instance(), self.settings.language)  # type: ignore[arg-type]
        language.retranslate(self, language.I18N_DIR / "defectforge_ko.ts")
        self._refresh_classes()
        self._on_undo_changed(self.undo_stack.index())
        self.model_device.retranslate()
        self.sampler_panel.show_run_steps(self.sampler_panel.run_steps_total)
        code = language.language_code(self.settings.language)
        shown = "English" if code == "en" else "한국어"  # as the menu names them
        self.statusBar().showMessage(self.tr("Language: %1").replace("%1", shown), 8000)
        self.check_language_font()

    def check_language_font(self) -> None:
        """Once per window: say (in English and Korean) that Korean text will show as boxes without a font."""
        if (
            language.language_code(self.settings.language) == "ko"
            and not self._font_notice_shown
            and language.korean_font_missing()
        ):
            self._font_notice_shown = True
            dialogs.show_warning(self, "Korean font missing / 한국어 글꼴 없음", language.KOREAN_FONT_MISSING)

    @Slot()
    def save_settings(self) -> None:
        s = self.settings
        s.brush_size = int(self.tool_settings.brush_size)
        s.overlay_opacity = self.opacity_slider.value() / 100
        panel = self.sampler_panel
        s.sampler.steps, s.sampler.cfg_weight = panel.steps.value(), round(panel.cfg.value(), 4)
        s.sampler.temp_min, s.sampler.temp_max = round(panel.temp_min.value(), 4), round(panel.temp_max.value(), 4)
        s.sampler.seed, s.sampler.random_seed = panel.seed.value(), panel.random_seed.isChecked()
        s.sampler.variants, s.sampler.live_preview = panel.variants.value(), panel.live_preview.isChecked()
        s.window_geometry = base64.b64encode(bytes(self.saveGeometry().data())).decode("ascii")
        s.window_state = base64.b64encode(bytes(self.saveState().data())).decode("ascii")
        try:
            s.save(self.settings_path)
        except OSError as exc:
            log.warning("settings not saved: %s", exc)
            self.statusBar().showMessage(self.tr("Settings could not be saved: %1").replace("%1", str(exc)), 8000)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """A disabled action's shortcut arrives here as a plain key: Ctrl+E with nothing to export says why."""
        export = self.actions_.export
        if not export.isEnabled() and QKeySequence(event.keyCombination()) in export.shortcuts():
            self.generation.export_accepted()  # exports nothing; tells the status bar what is missing
            event.accept()
            return
        super().keyPressEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        """Closing during a run: the window goes at once, the run stops after its current step; a step that
        cannot be interrupted is not waited for past CLOSE_WAIT_MS (app.gui.main ends the process)."""
        if not self.session.may_discard_result():
            event.ignore()
            return
        self.save_settings()
        self.hide()
        QGuiApplication.processEvents()
        self.controller.cancel()
        if not self.controller.shutdown(CLOSE_WAIT_MS):
            log.warning("a background job is still running at close; it ends with the process")
        event.accept()
