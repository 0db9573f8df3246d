"""The image session: open an image, a folder or a drop, step through the folder, recent files, import a mask, and
ask before unexported variants would be lost. The part of the window between the file dialogs and the document."""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import QDockWidget, QFileDialog, QMenu, QWidget

from app import dialogs
from app.controller import Controller
from app.document import MaskDocument
from app.generation import GenerationPresenter
from app.panels import FilesPanel
from app.settings import Settings
from app.undo import MaskUndoStack
from core.choices import IMAGE_SUFFIXES, is_image_name
from core.image_files import list_images


def natural_key(path: Path) -> list[int | str]:
    """crazing_2 before crazing_10, as a person counts (not crazing_1, _10, _100, _2)."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path.name.lower())]


def image_files(folder: Path) -> list[Path]:
    """The folder's images (core.image_files' rule, as synth and the dataset readers list them), as a person
    counts them."""
    return list_images(folder, key=natural_key)


def sample_images() -> list[Path]:
    """The bundled sample surfaces, to open when the app starts without an image."""
    try:
        from core.resources import sample_image_paths

        return sample_image_paths()
    except (ImportError, OSError):
        return []


class SessionPresenter(QObject):
    message = Signal(str, int)  # status bar text, timeout ms
    titleChanged = Signal(str)  # the window title for the image now open
    stateChanged = Signal()  # an image opened: the window re-checks its actions

    def __init__(
        self,
        document: MaskDocument,
        undo_stack: MaskUndoStack,
        files_panel: FilesPanel,
        files_dock: QDockWidget,
        recent_menu: QMenu,
        generation: GenerationPresenter,
        controller: Controller,
        settings: Settings,
        dialog_parent: QWidget,
    ) -> None:
        super().__init__(dialog_parent)
        self.document, self.undo_stack, self.generation = document, undo_stack, generation
        self.files_panel, self.files_dock, self.recent_menu = files_panel, files_dock, recent_menu
        self.controller, self.settings, self.parent_widget = controller, settings, dialog_parent
        recent_menu.aboutToShow.connect(self._fill_recent_menu)
        files_panel.fileChosen.connect(lambda path: self.open_image(Path(path)))
        controller.exportedSourcesChanged.connect(files_panel.set_exported)

    def _image_filter(self) -> str:
        return self.tr("Images (%1)").replace("%1", " ".join(f"*{suffix}" for suffix in IMAGE_SUFFIXES))

    # --- opening ------------------------------------------------------------------------------------------
    def open_start_image(self, image: Path | None) -> None:
        """The image asked for, else the first bundled sample (which is not added to the recent files)."""
        if image is not None:
            self.open_image(Path(image))
            return
        samples = sample_images()
        if samples:
            self.open_image(samples[0], remember=False)

    @Slot()
    def choose_image(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self.parent_widget, self.tr("Open image"), self.settings.last_image_dir, self._image_filter()
        )
        if path:
            self.open_image(Path(path))

    @Slot()
    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self.parent_widget, self.tr("Open folder of images"), self.settings.last_image_dir
        )
        if folder:
            self.open_folder(Path(folder))

    def open_folder(self, folder: Path) -> bool:
        files = image_files(folder)
        if not files:
            dialogs.show_warning(
                self.parent_widget,
                self.tr("No images"),
                self.tr("%1 holds no PNG, JPEG, BMP or TIFF images.").replace("%1", str(folder)),
            )
            return False
        self.files_panel.set_files(folder, files)
        self.files_dock.show()
        self.settings.last_image_dir = str(folder)
        return self.open_image(files[0])

    def open_image(self, path: Path, remember: bool = True) -> bool:
        """Load an image; the painted mask and class stay (the mask only on an image of its size, never stretched)."""
        from core.imageio import ImageError, load_image

        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            loaded = load_image(path)
        except (ImageError, OSError) as exc:
            QGuiApplication.restoreOverrideCursor()
            dialogs.show_error(self.parent_widget, self.tr("Cannot open image"), str(exc))
            return False
        QGuiApplication.restoreOverrideCursor()
        if not self.may_discard_result():
            return False
        if self.controller.busy:
            self.controller.cancel()  # its result would belong to the previous image
        carried = self.document.set_image(loaded.rgb, path, source=loaded, keep_mask=True)
        self.undo_stack.clear()
        self.undo_stack.push_edit(carried)  # the mask that came along is this image's first edit: Undo removes it
        self.generation.set_result(None)
        if remember:
            self.settings.add_recent(path)
            self.settings.last_image_dir = str(Path(path).parent)
        self.files_panel.mark_current(Path(path))
        width, height = self.document.size
        self.titleChanged.emit(f"{Path(path).name} ({width}×{height}) — DefectForge")
        opened = self.tr("Opened %1").replace("%1", str(path))
        if carried is not None:
            opened += self.tr(" — the mask came along (Undo removes it)")
        elif self.document.mask_left_behind:
            opened += self.tr(" — the mask stayed behind: %1").replace("%1", self.document.mask_left_behind)
        self.message.emit(opened, 6000)
        self.stateChanged.emit()
        return True

    def open_dropped(self, paths: list[Path]) -> None:
        """A folder dropped opens as a folder; several images become the file list; the first one opens."""
        if len(paths) == 1 and paths[0].is_dir():
            self.open_folder(paths[0])
        elif paths:
            images = [p for p in paths if is_image_name(p.name)] or paths
            if len(images) > 1:
                self.files_panel.set_files(images[0].parent, images)
                self.files_dock.show()
            self.open_image(images[0])

    def step_image(self, step: int) -> None:
        target = self.files_panel.neighbour(self.document.path, step)
        if target is not None:
            self.open_image(target)

    @Slot()
    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        for text in self.settings.recent_files:
            action = self.recent_menu.addAction(Path(text).name)
            action.setToolTip(text)
            action.setData(text)
            action.triggered.connect(self._on_recent)
        if not self.settings.recent_files:
            self.recent_menu.addAction(self.tr("(none)")).setEnabled(False)

    @Slot()
    def _on_recent(self) -> None:
        action = self.sender()
        if isinstance(action, QAction):
            self.open_image(Path(action.data()))

    # --- masks --------------------------------------------------------------------------------------------
    @Slot()
    def choose_mask(self) -> None:
        if self.document.is_empty:
            return
        path, _ = QFileDialog.getOpenFileName(
            self.parent_widget, self.tr("Import mask"), self.settings.last_mask_dir, self._image_filter()
        )
        if path:
            self.import_mask(Path(path))

    def import_mask(self, path: Path) -> bool:
        from core.imageio import ImageError, load_mask

        try:
            mask = load_mask(path, self.document.size)
        except (ImageError, OSError, ValueError) as exc:
            dialogs.show_error(self.parent_widget, self.tr("Cannot import mask"), str(exc))
            return False
        self.settings.last_mask_dir = str(Path(path).parent)
        self.undo_stack.push_edit(self.document.import_mask(mask))
        return True

    # --- leaving ------------------------------------------------------------------------------------------
    def may_discard_result(self) -> bool:
        """True when no unexported variants would be lost, or the inspector says to discard them."""
        return self.generation.may_drop_variants(
            self.tr("Discard variants?"),
            self.tr("%1 generated variant(s) are not exported yet and will be lost. Discard them?"),
        )
