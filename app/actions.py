"""The main window's actions, menus and toolbars, declared in one place (text, icon, shortcut, tooltip)."""

from __future__ import annotations

from PySide6.QtCore import QObject, QSize, Qt
from PySide6.QtGui import QAction, QActionGroup, QIcon, QKeySequence
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QMenu, QSlider, QSpinBox, QToolBar, QWidget

from app.icons import icon

TOOL_ICONS = {
    "brush": "mdi6.brush",
    "eraser": "mdi6.eraser",
    "rectangle": "mdi6.rectangle-outline",
    "ellipse": "mdi6.ellipse-outline",
    "polygon": "mdi6.vector-polygon",
    "lasso": "mdi6.lasso",
    "bucket": "mdi6.format-color-fill",
}
TOOL_KEYS = {"brush": "B", "eraser": "E", "rectangle": "R", "ellipse": "O", "polygon": "P", "lasso": "L", "bucket": "G"}


def _action(
    parent: QObject,
    text: str,
    icon_name: str = "",
    shortcut: str | list[str] | QKeySequence.StandardKey = "",
    tip: str = "",
) -> QAction:
    action = QAction(icon(icon_name) if icon_name else QIcon(), text, parent)
    if isinstance(shortcut, list):
        action.setShortcuts([QKeySequence(s) for s in shortcut])
    elif shortcut:
        action.setShortcut(QKeySequence(shortcut))
    if tip or shortcut:
        keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        action.setToolTip(f"{tip or text.replace('&', '')}" + (f"  ({keys})" if keys else ""))
        action.setStatusTip(tip or text.replace("&", ""))
    return action


class Actions(QObject):
    """Every QAction of the main window, by purpose. Texts go through self.tr() (context "Actions")."""

    # The controls and menus the window reads back, made by build_toolbars and build_menus.
    opacity_slider: QSlider
    brush_spin: QSpinBox
    toolbars: list[QToolBar]
    recent_menu: QMenu
    class_menu: QMenu
    language_menu: QMenu

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self._build(window)

    def _build(self, window: QWidget) -> None:
        tools: dict[str, QAction] = {}
        group = QActionGroup(window)
        group.setExclusive(True)
        tool_texts = {
            "brush": self.tr("Brush"),
            "eraser": self.tr("Eraser"),
            "rectangle": self.tr("Rectangle"),
            "ellipse": self.tr("Ellipse"),
            "polygon": self.tr("Polygon"),
            "lasso": self.tr("Lasso"),
            "bucket": self.tr("Bucket fill"),
        }
        tool_tips = {
            "brush": self.tr("Paint the mask in the current class; right-drag erases"),
            "eraser": self.tr("Erase the mask"),
            "rectangle": self.tr("Drag a rectangle (Shift: square); right-drag subtracts"),
            "ellipse": self.tr("Drag an ellipse (Shift: circle); right-drag subtracts"),
            "polygon": self.tr("Click corners; double-click or Enter closes"),
            "lasso": self.tr("Draw a freehand outline; release fills it"),
            "bucket": self.tr("Fill the enclosed region under the cursor"),
        }
        for name, text in tool_texts.items():
            action = _action(window, text, TOOL_ICONS[name], TOOL_KEYS[name], tool_tips[name])
            action.setCheckable(True)
            action.setData(name)
            group.addAction(action)
            tools[name] = action
        classes: list[QAction] = []
        for index in range(9):
            action = QAction(self.tr("Class %1").replace("%1", str(index + 1)), window)
            action.setShortcut(QKeySequence(str(index + 1)))
            action.setData(index)
            classes.append(action)
        self.tools = tools
        self.tool_group = group
        self.classes = classes
        self.open_image = _action(
            window,
            self.tr("&Open image…"),
            "mdi6.image-outline",
            QKeySequence.StandardKey.Open,
            self.tr("Open a clean surface image"),
        )
        self.open_folder = _action(
            window,
            self.tr("Open &folder…"),
            "mdi6.folder-image",
            "Ctrl+Shift+O",
            self.tr("Open a folder of clean images and step through them"),
        )
        self.previous_image = _action(window, self.tr("&Previous image"), "mdi6.chevron-left", "PgUp")
        self.next_image = _action(window, self.tr("&Next image"), "mdi6.chevron-right", "PgDown")
        self.import_mask = _action(
            window,
            self.tr("&Import mask…"),
            "mdi6.file-import-outline",
            "Ctrl+I",
            self.tr("Add a black/white mask image in the current class"),
        )
        self.choose_dataset = _action(
            window,
            self.tr("Choose &dataset folder…"),
            "mdi6.folder-outline",
            "",
            self.tr("Where exported samples are written"),
        )
        self.export = _action(
            window,
            self.tr("&Export accepted variant"),
            "mdi6.database-export-outline",
            "Ctrl+E",
            self.tr("Write the accepted variant, its masks and labels to the dataset folder"),
        )
        self.quit = _action(window, self.tr("&Quit"), "", QKeySequence.StandardKey.Quit)
        self.undo = _action(window, self.tr("&Undo"), "mdi6.undo", "Ctrl+Z")
        self.redo = _action(window, self.tr("&Redo"), "mdi6.redo", ["Ctrl+Shift+Z", "Ctrl+Y"])
        self.grow = _action(
            window,
            self.tr("&Grow mask"),
            "mdi6.arrow-expand-all",
            "Alt+Up",
            self.tr("Grow the current class by 3 px"),
        )
        self.shrink = _action(
            window,
            self.tr("&Shrink mask"),
            "mdi6.arrow-collapse-all",
            "Alt+Down",
            self.tr("Shrink the current class by 3 px"),
        )
        self.invert = _action(
            window,
            self.tr("&Invert mask"),
            "mdi6.invert-colors",
            "Ctrl+Shift+I",
            self.tr("Swap painted and unpainted pixels of the current class"),
        )
        self.clear_class = _action(
            window,
            self.tr("&Clear class"),
            "mdi6.delete-outline",
            "Delete",
            self.tr("Remove the current class's mask"),
        )
        self.clear_all = _action(window, self.tr("Clear &all masks"), "", "Shift+Delete")
        self.brush_bigger = _action(window, self.tr("Bigger brush"), "", "]")
        self.brush_smaller = _action(window, self.tr("Smaller brush"), "", "[")
        self.fit = _action(window, self.tr("&Fit to window"), "mdi6.fit-to-screen-outline", "Ctrl+0")
        self.actual_size = _action(window, self.tr("&Actual size (100 %)"), "mdi6.numeric-1-box-outline", "Ctrl+1")
        self.zoom_in = _action(window, self.tr("Zoom &in"), "mdi6.magnify-plus-outline", ["Ctrl++", "Ctrl+="])
        self.zoom_out = _action(window, self.tr("Zoom &out"), "mdi6.magnify-minus-outline", "Ctrl+-")
        self.show_overlay = _action(
            window, self.tr("Show &mask"), "mdi6.layers-outline", "M", self.tr("Show or hide the mask overlay")
        )
        self.generate = _action(
            window,
            self.tr("&Generate"),
            "mdi6.creation",
            ["Ctrl+G", "Ctrl+Return"],
            self.tr("Inpaint a defect of each painted class"),
        )
        self.cancel = _action(
            window,
            self.tr("&Cancel"),
            "mdi6.stop-circle-outline",
            "Esc",
            self.tr("Stop the run after the current step"),
        )
        self.regenerate = _action(
            window,
            self.tr("&Regenerate"),
            "mdi6.dice-multiple-outline",
            "Ctrl+Shift+G",
            self.tr("Same mask and settings, new random seed"),
        )
        self.rerun = _action(
            window,
            self.tr("Re-run &exactly"),
            "mdi6.replay",
            "Ctrl+Shift+R",
            self.tr("Run the last request again with the same seed"),
        )
        self.accept = _action(
            window,
            self.tr("&Accept variant"),
            "mdi6.check-circle-outline",
            "Ctrl+Shift+A",
            self.tr("Accept the selected variant for export"),
        )
        self.shortcuts = _action(window, self.tr("&Keyboard shortcuts"), "mdi6.keyboard-outline", "F1")
        self.about = _action(window, self.tr("&About DefectForge"), "mdi6.information-outline")
        self.show_overlay.setCheckable(True)
        self.show_overlay.setChecked(True)
        self.cancel.setEnabled(False)
        self.export.setIconText(self.tr("Export"))
        self.generate.setIconText(self.tr("Generate"))  # toolbar text without the menu's mnemonic
        self.quit.setMenuRole(QAction.MenuRole.QuitRole)
        # Single-key shortcuts must not fire while typing in a spin box: keep them to the window's widgets.
        for action in [*tools.values(), *classes, self.show_overlay, self.brush_bigger, self.brush_smaller]:
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)

    def build_toolbars(self, window: QMainWindow) -> None:
        """The main toolbar (top) and the tools toolbar (left), with the brush size and opacity controls."""
        a = self
        main = QToolBar(self.tr("Main"), window)
        main.setObjectName("main_toolbar")
        main.setIconSize(QSize(20, 20))
        main.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        for action in (
            a.open_image,
            a.open_folder,
            a.previous_image,
            a.next_image,
            None,
            a.undo,
            a.redo,
            None,
            a.fit,
            a.actual_size,
            a.show_overlay,
        ):
            main.addSeparator() if action is None else main.addAction(action)
        main.addWidget(QLabel(" " + self.tr("Opacity") + " "))
        self.opacity_slider = QSlider(Qt.Orientation.Horizontal)
        self.opacity_slider.setRange(0, 100)
        self.opacity_slider.setFixedWidth(110)
        self.opacity_slider.setToolTip(self.tr("Mask overlay opacity"))
        main.addWidget(self.opacity_slider)
        main.addSeparator()
        main.addAction(a.generate)
        main.addAction(a.cancel)
        main.addAction(a.export)
        main.widgetForAction(a.generate).setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        main.widgetForAction(a.export).setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        window.addToolBar(Qt.ToolBarArea.TopToolBarArea, main)

        tools = QToolBar(self.tr("Tools"), window)
        tools.setObjectName("tools_toolbar")
        tools.setIconSize(QSize(22, 22))
        for action in a.tools.values():
            tools.addAction(action)
        tools.addSeparator()
        self.brush_spin = QSpinBox(minimum=1, maximum=512, suffix=" px")
        self.brush_spin.setToolTip(self.tr("Brush size in image pixels ([ and ])"))
        self.brush_spin.setFixedWidth(72)
        tools.addWidget(self.brush_spin)
        for action in (a.grow, a.shrink, a.invert, a.clear_class):
            tools.addAction(action)
        window.addToolBar(Qt.ToolBarArea.LeftToolBarArea, tools)
        self.toolbars = [main, tools]

    def build_menus(self, window: QMainWindow, docks: list[QDockWidget], language: str) -> None:
        a = self
        bar = window.menuBar()
        file_menu = bar.addMenu(self.tr("&File"))
        file_menu.addActions([a.open_image, a.open_folder])
        self.recent_menu = QMenu(self.tr("Open &recent"), window)
        file_menu.addMenu(self.recent_menu)
        file_menu.addActions([a.previous_image, a.next_image])
        file_menu.addSeparator()
        file_menu.addActions([a.import_mask, a.choose_dataset, a.export])
        file_menu.addSeparator()
        file_menu.addAction(a.quit)
        edit_menu = bar.addMenu(self.tr("&Edit"))
        edit_menu.addActions([a.undo, a.redo])
        edit_menu.addSeparator()
        edit_menu.addActions([a.grow, a.shrink, a.invert, a.clear_class, a.clear_all])
        tools_menu = bar.addMenu(self.tr("&Tools"))
        tools_menu.addActions(list(a.tools.values()))
        tools_menu.addSeparator()
        tools_menu.addActions([a.brush_bigger, a.brush_smaller])
        self.class_menu = tools_menu.addMenu(self.tr("Class"))
        self.class_menu.addActions(a.classes)
        view_menu = bar.addMenu(self.tr("&View"))
        view_menu.addActions([a.fit, a.actual_size, a.zoom_in, a.zoom_out, a.show_overlay])
        view_menu.addSeparator()
        for dock in docks:
            view_menu.addAction(dock.toggleViewAction())
        for toolbar in self.toolbars:
            view_menu.addAction(toolbar.toggleViewAction())
        view_menu.addSeparator()
        language_menu = view_menu.addMenu(self.tr("Language"))
        for code, text in (("", self.tr("System")), ("en", "English"), ("ko", "한국어")):
            action = language_menu.addAction(text)
            action.setCheckable(True)
            action.setChecked(language == code)
            action.setData(code)
        self.language_menu = language_menu
        generate_menu = bar.addMenu(self.tr("&Generate"))
        generate_menu.addActions([a.generate, a.cancel, a.regenerate, a.rerun, a.accept, a.export])
        help_menu = bar.addMenu(self.tr("&Help"))
        help_menu.addActions([a.shortcuts, a.about])
