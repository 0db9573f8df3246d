"""Fixtures for the app tests: a main window on a temp config dir with the tiny test bundle loaded, message
boxes that record instead of blocking, a clean metal-like test image, and helpers that drive the canvas."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QMessageBox

from tests.conftest import build_test_bundle


def metal_image(width: int = 320, height: int = 240, seed: int = 0) -> np.ndarray:
    """A brushed-steel-like grey texture: streaks along x plus fine noise."""
    rng = np.random.default_rng(seed)
    streaks = rng.normal(0, 1, (height, 1)) * 6 + rng.normal(0, 3, (height, width)).cumsum(axis=1) * 0.02
    grey = np.clip(140 + streaks + rng.normal(0, 4, (height, width)), 0, 255).astype(np.uint8)
    return np.stack([grey, grey, np.clip(grey.astype(int) + 4, 0, 255).astype(np.uint8)], axis=-1)


@pytest.fixture()
def image_path(tmp_path) -> Path:
    path = tmp_path / "clean_plate.png"
    Image.fromarray(metal_image()).save(path)
    return path


@pytest.fixture()
def image_folder(tmp_path) -> Path:
    folder = tmp_path / "clean"
    folder.mkdir()
    for index, size in enumerate([(320, 240), (320, 240), (200, 200)]):
        Image.fromarray(metal_image(*size, seed=index)).save(folder / f"plate_{index}.png")
    (folder / "notes.txt").write_text("not an image")
    return folder


@pytest.fixture()
def config_dir(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "config"
    monkeypatch.setenv("DEFECTFORGE_CONFIG_DIR", str(folder))
    monkeypatch.delenv("DEFECTFORGE_DEVICE", raising=False)
    return folder


class MessageLog(list):
    """Every QMessageBox the app opened: (icon name, title, text); answers Yes/Ok without blocking."""

    def texts(self) -> str:
        return "\n".join(f"{title}: {text}" for _, title, text in self)


@pytest.fixture()
def messages(monkeypatch) -> MessageLog:
    log = MessageLog()

    def fake_exec(box: QMessageBox) -> int:
        log.append((box.icon().name, box.windowTitle(), box.text()))
        buttons = box.standardButtons()
        if buttons & QMessageBox.StandardButton.Yes:
            return QMessageBox.StandardButton.Yes
        return QMessageBox.StandardButton.Ok

    monkeypatch.setattr(QMessageBox, "exec", fake_exec)
    return log


@pytest.fixture(scope="session")
def gui_bundle_path(tmp_path_factory) -> Path:
    return build_test_bundle(tmp_path_factory.mktemp("gui_bundles") / "test-bundle")


def make_window(qtbot, settings=None, controller=None):
    from app.main_window import MainWindow
    from app.settings import Settings

    window = MainWindow(settings or Settings(), controller=controller)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    return window


def wait_for_model(qtbot, window, timeout: int = 20000) -> None:
    qtbot.waitUntil(lambda: window.controller.model is not None and not window.controller.loading, timeout=timeout)


@pytest.fixture()
def window(qtbot, config_dir, messages, gui_bundle_path, image_path):
    """The main window with the test bundle loaded and a clean 320x240 image open."""
    win = make_window(qtbot)
    win.start(image=image_path, model=gui_bundle_path)
    wait_for_model(qtbot, win)
    yield win
    win.controller.shutdown(10000)
    win.close()


# --- canvas input ----------------------------------------------------------------------------------------------
def _send(
    canvas, kind, pos: QPointF, button=Qt.MouseButton.LeftButton, buttons=None, modifiers=Qt.KeyboardModifier.NoModifier
) -> None:
    if buttons is None:
        buttons = Qt.MouseButton.NoButton if kind == QMouseEvent.Type.MouseButtonRelease else button
    event = QMouseEvent(
        kind,
        pos,
        canvas.mapToGlobal(pos),
        button if kind != QMouseEvent.Type.MouseMove else Qt.MouseButton.NoButton,
        buttons,
        modifiers,
    )
    QApplication.sendEvent(canvas, event)


def image_point(canvas, x: float, y: float) -> QPointF:
    return canvas.to_widget(x, y)


def drag(
    canvas,
    points: list[tuple[float, float]],
    button=Qt.MouseButton.LeftButton,
    modifiers=Qt.KeyboardModifier.NoModifier,
) -> None:
    """Press at the first image point, move through the rest, release at the last (real QMouseEvents)."""
    widget_points = [image_point(canvas, x, y) for x, y in points]
    _send(canvas, QMouseEvent.Type.MouseButtonPress, widget_points[0], button, modifiers=modifiers)
    for pos in widget_points[1:]:
        _send(canvas, QMouseEvent.Type.MouseMove, pos, button, buttons=button, modifiers=modifiers)
    _send(canvas, QMouseEvent.Type.MouseButtonRelease, widget_points[-1], button, modifiers=modifiers)


def click(canvas, x: float, y: float, button=Qt.MouseButton.LeftButton) -> None:
    pos = image_point(canvas, x, y)
    _send(canvas, QMouseEvent.Type.MouseButtonPress, pos, button)
    _send(canvas, QMouseEvent.Type.MouseButtonRelease, pos, button)


def double_click(canvas, x: float, y: float) -> None:
    pos = image_point(canvas, x, y)
    _send(canvas, QMouseEvent.Type.MouseButtonPress, pos)
    _send(canvas, QMouseEvent.Type.MouseButtonRelease, pos)
    _send(canvas, QMouseEvent.Type.MouseButtonDblClick, pos)
    _send(canvas, QMouseEvent.Type.MouseButtonRelease, pos)


def type_dataset_folder(
    monkeypatch, folder: Path | None, formats: tuple[str, ...] | None = None, val_percent: int | None = None
) -> list:
    """The dataset folder dialog, answered without blocking: `folder` typed (None keeps what it offers), the
    label formats ticked and the validation share set where given, then OK. Returns the dialogs shown, to look
    at what they offered."""
    from app.dataset_folder import DatasetFolderDialog

    shown = []

    def fake_exec(dialog: DatasetFolderDialog) -> int:
        shown.append(dialog.path_edit.text())
        if folder is not None:
            dialog.path_edit.setText(str(folder))
        if formats is not None:
            for name, check in dialog.format_checks.items():
                check.setChecked(name in formats)
        if val_percent is not None:
            dialog.val_percent.setValue(val_percent)
        dialog.accept()
        return dialog.result()

    monkeypatch.setattr(DatasetFolderDialog, "exec", fake_exec)
    return shown
