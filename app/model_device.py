"""The model and where it runs: find bundles, load one (in the background, through the controller), choose the
device, and what the model panel and the status bar say about both while it loads, runs or fails."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QDockWidget, QFileDialog, QLabel, QWidget

from app import dialogs
from app.controller import Controller
from app.models import BundleEntry, LoadedModel, bundled_models_dir, default_model_path, discover_bundles, pick_device
from app.panels import ModelPanel
from app.settings import Settings, user_models_dir


class ModelDevicePresenter(QObject):
    message = Signal(str, int)  # status bar text, timeout ms
    stateChanged = Signal()  # loading started, ended or failed: the window re-checks its actions
    modelReady = Signal(object)  # LoadedModel, before its device is shown: the window fits document and panels
    settingsChanged = Signal()  # the device choice changed: the window saves the settings now

    def __init__(
        self,
        panel: ModelPanel,
        dock: QDockWidget,
        status_label: QLabel,
        controller: Controller,
        settings: Settings,
        dialog_parent: QWidget,
    ) -> None:
        super().__init__(dialog_parent)
        self.panel, self.dock, self.status_label = panel, dock, status_label
        self.controller, self.settings, self.parent_widget = controller, settings, dialog_parent
        self.model_path: Path | None = None  # the bundle loaded last
        # What the Model tab and the status bar show now, as a call that says it again with the translators
        # installed at the time: the texts are put together at run time, so View > Language redoes them.
        self._redisplay: Callable[[], None] = lambda: None
        panel.modelChosen.connect(lambda path: self.load_model(Path(path)))
        panel.browseRequested.connect(self.choose_model_folder)
        panel.deviceChosen.connect(self.set_device)
        controller.modelLoading.connect(self._on_loading)
        controller.modelLoaded.connect(self._on_loaded)
        controller.modelFailed.connect(self._on_failed)

    # --- choosing and loading -----------------------------------------------------------------------------
    def refresh_models(self) -> list[BundleEntry]:
        extra = [Path(self.settings.model_path)] if self.settings.model_path else []
        entries = discover_bundles([bundled_models_dir(), user_models_dir()], extra)
        self.panel.set_entries(entries, self.model_path)
        return entries

    def load_first(self, model: Path | None, entries: list[BundleEntry]) -> None:
        """Load the model asked for; without one, the last model, the bundled default, then any bundle found.
        An explicit model that is missing is reported, not replaced."""
        wanted = [Path(model)] if model else []
        wanted += [Path(self.settings.model_path)] if self.settings.model_path else []
        candidates = wanted if model else [*wanted, default_model_path(), *(e.path for e in entries if e.info)]
        chosen = next((path for path in candidates if (path / "model.yaml").is_file()), None)
        if chosen is not None:
            self.load_model(chosen)
            return
        missing = str(candidates[0]) if candidates else str(default_model_path())
        self._show(
            lambda: self.panel.show_model(None, "", self.tr("Model folder not found: %1").replace("%1", missing))
        )
        self.message.emit(self.tr("No model loaded — choose one in the Model panel."), 0)
        self.dock.raise_()

    def load_model(self, path: Path) -> None:
        if self.controller.busy:
            dialogs.show_warning(
                self.parent_widget, self.tr("Busy"), self.tr("Wait for the run to finish or cancel it first.")
            )
            self.panel.select_path(self.model_path)
            return
        self.controller.load_model(path, self.settings.device)

    @Slot()
    def choose_model_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self.parent_widget, self.tr("Choose a model bundle folder"), str(user_models_dir())
        )
        if folder:
            self.settings.model_path = folder
            self.refresh_models()
            self.load_model(Path(folder))

    # --- device -------------------------------------------------------------------------------------------
    @Slot(str)
    def set_device(self, device: str) -> None:
        self.settings.device = device
        self.settingsChanged.emit()
        model = self.controller.model
        if model is not None and pick_device(device)[0] == model.device:
            self._show_device(model, device)  # already there: no reload, nothing the user set is reset
            return
        if self.model_path is not None:
            self.load_model(self.model_path)

    def _device_name(self, key: str) -> str:
        index = self.panel.device.findData(key)
        return self.panel.device.itemText(index) if index >= 0 else key

    def _show_device(self, model: LoadedModel, requested: str) -> str:
        """Show where the model runs; a device that is not available here is said in the menu's words and the
        choice goes back to Auto, so the warning does not return at every launch."""
        unavailable = bool(pick_device(requested)[1])
        if unavailable and self.settings.device == requested:
            self.settings.device = "auto"
            self.panel.set_device_setting("auto")
            self.settingsChanged.emit()

        def show() -> str:
            note = ""
            if unavailable:
                note = (
                    self.tr("%1 is not available here, so the model runs on %2. The device choice is back to %3.")
                    .replace("%1", self._device_name(requested))
                    .replace("%2", model.device_text)
                    .replace("%3", self._device_name("auto"))
                )
            self.panel.show_model(model.info, model.device_text, note)
            self.status_label.setText(f"{model.info.name} · {model.device_text}")
            return note

        self._redisplay = show
        return show()

    def _show(self, show: Callable[[], None]) -> None:
        """Show the model's state with `show`, kept to say it again in another language."""
        self._redisplay = show
        show()

    def retranslate(self) -> None:
        """View > Language: the Model tab (card, device line, device warning) and the status bar say it again."""
        self._redisplay()
        self.show_no_model()

    def show_no_model(self) -> None:
        """The status bar says so while no model is loaded or loading."""
        if self.controller.model is None and not self.controller.loading:
            self.status_label.setText(self.tr("No model loaded"))

    # --- the controller's news ----------------------------------------------------------------------------
    @Slot(str)
    def _on_loading(self, path: str) -> None:
        self._show(
            lambda: (self.panel.show_loading(Path(path).name), self.status_label.setText(self.tr("Loading model…")))
        )
        self.message.emit(self.tr("Loading model %1…").replace("%1", Path(path).name), 0)
        self.stateChanged.emit()

    @Slot(object)
    def _on_loaded(self, model: LoadedModel) -> None:
        info = model.info
        self.model_path = info.path
        if info.path.resolve() != default_model_path().resolve():
            self.settings.model_path = str(info.path)
        self.refresh_models()
        self.modelReady.emit(model)  # the panels take the model's defaults before any settings are saved
        note = self._show_device(model, model.device_setting)
        message = self.tr("Model %1 ready on %2").replace("%1", info.name).replace("%2", model.device_text)
        self.message.emit(message + (" — " + note if note else ""), 8000)
        self.stateChanged.emit()

    @Slot(object)
    def _on_failed(self, exc: Exception) -> None:
        self._show(lambda: (self.panel.show_model(None, "", str(exc)), self.status_label.setText(self.tr("No model"))))
        self.stateChanged.emit()
        dialogs.show_error(self.parent_widget, self.tr("Cannot load model"), str(exc))
