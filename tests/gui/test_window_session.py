"""Issue 18, "The window": the inspector's second session in a real window. Each test replays one step that
broke: a window that fits a 1366x768 laptop, the language change reaching every text, showing a variant again,
the split line, the status bar's words, safe defaults before work is lost, and holding C right after a run."""

from __future__ import annotations

import pytest
import torch
from PySide6.QtCore import QPointF, QSize, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox

from app import language
from app.controller import Controller
from app.language import install_translators
from tests.gui.conftest import _send, drag, make_window, wait_for_model
from tests.gui.fakes import GatedPipeline


def _paint(window, corners=((100, 80), (160, 120))) -> None:
    window.set_active_class("scratches")
    window.set_tool("rectangle")
    drag(window.canvas, list(corners))


def _generate(qtbot, window, variants: int = 1) -> None:
    window.sampler_panel.variants.setValue(variants)
    window.actions_.generate.trigger()
    qtbot.waitUntil(lambda: not window.controller.busy and window.generation.result is not None, timeout=60000)


@pytest.fixture()
def enter_answers(monkeypatch, messages) -> list:
    """Every question answered with Enter, as a hurried inspector does: [(title, the button Enter chose)]. The
    window's variants are dropped at the end, so closing it asks nothing."""
    answers = []

    def exec_with_enter(box: QMessageBox) -> int:
        box.show()
        QTest.keyClick(box, Qt.Key.Key_Return)
        button = box.standardButton(box.clickedButton())
        answers.append((box.windowTitle(), button))
        return button

    monkeypatch.setattr(QMessageBox, "exec", exec_with_enter)
    return answers


# --- item 15 ---------------------------------------------------------------------------------------------------
def test_enter_at_the_discard_question_keeps_the_variants(window, qtbot, image_folder, enter_answers):
    _paint(window)
    _generate(qtbot, window)
    result = window.generation.result
    assert not window.session.open_folder(image_folder)
    assert not window.close()
    assert [answer for _, answer in enter_answers] == [QMessageBox.StandardButton.No] * 2
    assert window.generation.result is result and window.isVisible()
    window.generation.set_result(None)


def test_generate_asks_before_it_replaces_unexported_variants(window, qtbot, enter_answers):
    _paint(window)
    _generate(qtbot, window)
    result = window.generation.result
    window.actions_.generate.trigger()
    window.actions_.regenerate.trigger()
    assert [title for title, _ in enter_answers] == ["Replace variants?"] * 2
    assert not window.controller.busy and window.generation.result is result  # Enter said No: nothing replaced
    window.actions_.rerun.trigger()  # the same request again: the same pixels, nothing to lose, no question
    qtbot.waitUntil(lambda: not window.controller.busy and window.generation.result is not result, timeout=60000)
    assert len(enter_answers) == 2
    window.generation.set_result(None)


# --- item 14 ---------------------------------------------------------------------------------------------------
@pytest.fixture()
def gated(qtbot, config_dir, messages, image_path, gui_bundle_path):
    """A window whose runs take two steps, each let through by the test: (window, pipeline)."""
    pipelines: list[GatedPipeline] = []

    def factory(bundle):
        pipelines.append(GatedPipeline(bundle, steps=2))
        return pipelines[-1]

    win = make_window(qtbot, controller=Controller(pipeline_factory=factory))
    win.start(image=image_path, model=gui_bundle_path)
    wait_for_model(qtbot, win)
    _paint(win)
    win.sampler_panel.variants.setValue(1)
    yield win, pipelines[-1]
    win.generation.set_result(None)
    win.controller.shutdown(10000)
    win.close()


def _gated_run(qtbot, window, pipeline, seed: int, cancel: bool = False) -> str:
    """One run with `seed` (finished, or cancelled after its first step); returns what the status bar said
    before the first step."""
    started = []

    def record(_request) -> None:
        started.append(window.statusBar().currentMessage())

    window.controller.runStarted.connect(record)
    window.sampler_panel.seed.setValue(seed)
    window.actions_.generate.trigger()
    qtbot.waitUntil(lambda: bool(started), timeout=5000)
    if cancel:
        pipeline.allow(1)
        qtbot.waitUntil(lambda: window.sampler_panel.progress.text() == "Step 1 of 2", timeout=5000)
        window.actions_.cancel.trigger()
    pipeline.allow(2)
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=10000)
    window.controller.runStarted.disconnect(record)
    return started[0]


def test_last_seed_is_the_seed_of_the_variants_on_show_not_of_a_cancelled_run(gated, qtbot):
    window, pipeline = gated
    window.sampler_panel.random_seed.setChecked(False)
    _gated_run(qtbot, window, pipeline, seed=5)
    _gated_run(qtbot, window, pipeline, seed=9, cancel=True)
    assert window.generation.result.request.seed == 5 and window.sampler_panel.last_seed.text() == "5"


def test_only_a_models_first_run_says_it_takes_longest(gated, qtbot):
    window, pipeline = gated
    window.sampler_panel.random_seed.setChecked(False)
    first = _gated_run(qtbot, window, pipeline, seed=1)
    second = _gated_run(qtbot, window, pipeline, seed=2)
    assert "Preparing" in first and "the first run takes longest" in first
    assert "Preparing" in second and "first run" not in second


def test_the_steps_for_this_mask_go_when_the_mask_is_undone(window, qtbot):
    _paint(window)
    _generate(qtbot, window)
    assert window.sampler_panel.run_steps.text().startswith("→ ")
    window.undo_stack.undo()
    assert not window.document.has_mask() and window.sampler_panel.run_steps.text() == ""
    window.generation.set_result(None)


def test_ctrl_e_with_nothing_accepted_says_why_in_the_status_bar(window, qtbot):
    window.canvas.setFocus()
    qtbot.keyClick(window.canvas, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    assert "Nothing to export" in window.statusBar().currentMessage()
    _paint(window)
    _generate(qtbot, window)
    qtbot.keyClick(window.canvas, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    assert "Accept a variant first" in window.statusBar().currentMessage()
    window.generation.set_result(None)


# --- item 12 ---------------------------------------------------------------------------------------------------
def test_clicking_the_selected_thumbnail_after_a_mask_edit_shows_that_variant_again(window, qtbot):
    _paint(window)
    _generate(qtbot, window, variants=2)
    thumbs = window.gallery.list
    variant = window.gallery.current_variant()
    window.generation.accept_variant(variant)
    window.set_tool("eraser")
    drag(window.canvas, [(110, 90), (120, 95)])
    assert not window.canvas.showing_result and window.gallery.current_variant() == variant
    rect = thumbs.visualItemRect(thumbs.currentItem())
    qtbot.mouseClick(thumbs.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.canvas.showing_result and window.generation.shown_variant == variant
    window.generation.set_result(None)


# --- item 13 ---------------------------------------------------------------------------------------------------
def test_the_split_line_shows_a_resize_cursor_and_dragging_it_keeps_the_outline_and_readout_live(window, qtbot):
    _paint(window)
    _generate(qtbot, window)
    canvas = window.canvas
    window.set_tool("brush")
    window.gallery.split.setValue(50)
    y = canvas.height() / 2
    on_line, away = QPointF(canvas.split_x() + 2, y), QPointF(canvas.split_x() + 80, y)
    _send(canvas, QMouseEvent.Type.MouseMove, on_line, Qt.MouseButton.NoButton)
    assert canvas.cursor().shape() == Qt.CursorShape.SplitHCursor
    _send(canvas, QMouseEvent.Type.MouseMove, away, Qt.MouseButton.NoButton)
    assert canvas.cursor().shape() == Qt.CursorShape.CrossCursor
    _send(canvas, QMouseEvent.Type.MouseButtonPress, on_line)
    end = canvas.to_widget(window.document.width * 0.25, 30)
    _send(canvas, QMouseEvent.Type.MouseMove, end, buttons=Qt.MouseButton.LeftButton)
    assert canvas.brush_position == end  # the brush outline is drawn where the pointer is
    x, y = canvas.to_image(end)
    assert window.position_label.text() == f"{int(x)}, {int(y)}"
    _send(canvas, QMouseEvent.Type.MouseButtonRelease, end)
    assert abs(canvas.split_share - 0.25) < 0.02 and canvas.cursor().shape() == Qt.CursorShape.SplitHCursor
    window.generation.set_result(None)


# --- item 17 ---------------------------------------------------------------------------------------------------
def _active(qtbot, window) -> None:
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5000)


def _hold_c(qtbot, window) -> bool:
    """Press C where the keyboard sends it now (the focus widget, else the window); whether that compares."""
    target = QApplication.focusWidget() or window
    qtbot.keyPress(target, Qt.Key.Key_C)
    comparing = window.canvas.comparing
    qtbot.keyRelease(QApplication.focusWidget() or window, Qt.Key.Key_C)
    return comparing and not window.canvas.comparing


def test_holding_c_compares_right_after_a_run_started_with_the_generate_button(window, qtbot):
    _active(qtbot, window)
    _paint(window)
    button = window.sampler_panel.generate_button
    for _ in range(2):  # the first run and the next, which asks to replace the first (the fixture says Yes)
        button.setFocus()
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: not window.controller.busy and window.generation.result is not None, timeout=60000)
        assert QApplication.focusWidget() is window.canvas  # not handed to a combo box on the hidden Model tab
        assert _hold_c(qtbot, window)
    window.generation.set_result(None)


def test_holding_c_compares_with_nothing_focused_and_lasts_until_released_wherever_the_focus_went(window, qtbot):
    _active(qtbot, window)
    _paint(window)
    _generate(qtbot, window)
    focused = QApplication.focusWidget()
    if focused is not None:
        focused.clearFocus()  # as when the focused button is disabled and no other widget takes the focus
    assert QApplication.focusWidget() is None and _hold_c(qtbot, window)
    window.canvas.setFocus()
    qtbot.keyPress(window.canvas, Qt.Key.Key_C)
    window.gallery.list.setFocus()  # the run's result arrives and the focus moves while C is held
    assert window.canvas.comparing
    qtbot.keyRelease(window.gallery.list, Qt.Key.Key_C)
    assert not window.canvas.comparing
    window.model_panel.device.setFocus()  # a list to pick from, not a field to type in: C compares there too
    assert _hold_c(qtbot, window)
    window.generation.set_result(None)


# --- item 11 ---------------------------------------------------------------------------------------------------
@pytest.fixture()
def english_after(qapp):
    yield
    install_translators(QApplication.instance(), "en")  # the next test starts in English again


def _choose_language(window, code: str) -> None:
    next(a for a in window.language_menu.actions() if a.data() == code).trigger()


def test_the_model_tab_device_line_and_device_warning_change_language(
    window, qtbot, english_after, monkeypatch, messages
):
    monkeypatch.setattr(language, "korean_font_missing", lambda: False)
    cuda = torch.cuda.is_available()
    if not cuda:  # the warning shows only where CUDA is missing
        window.model_device.set_device("cuda")
        wait_for_model(qtbot, window)
    panel = window.model_panel
    assert "Running on" in panel.status.text() and "Trained on" in panel.details.text()
    assert cuda or "is not available here" in panel.status.text()
    plots = [plot.title for plot in panel.card.plots]
    _choose_language(window, "ko")
    assert "실행 장치" in panel.status.text() and "Running on" not in panel.status.text()
    assert "학습 데이터" in panel.details.text() and "Trained on" not in panel.details.text()
    assert cuda or ("사용할 수 없어" in panel.status.text() and "is not available" not in panel.status.text())
    assert len(panel.card.plots) == len(plots)
    _choose_language(window, "en")
    assert "Running on" in panel.status.text() and "Trained on" in panel.details.text()
    assert messages == []


# --- item 10 ---------------------------------------------------------------------------------------------------
def test_the_window_fits_a_1366x768_laptop_and_its_docks_grow_back_after_shrinking(window, qtbot, image_folder):
    assert window.session.open_folder(image_folder)  # the Files dock shows
    _paint(window)
    _generate(qtbot, window, variants=4)
    hint = window.minimumSizeHint()
    assert hint.height() <= 600 and hint.width() <= 1000  # a 1366x768 screen less a title bar and a panel
    laptop = QSize(1366, 740)
    window.resize(laptop)
    qtbot.waitUntil(lambda: window.size() == laptop, timeout=3000)
    names = window.files_panel.list

    def names_fit() -> bool:
        return names.sizeHintForColumn(0) <= names.viewport().width()

    qtbot.waitUntil(names_fit, timeout=3000)
    files, right = window.files_dock.width(), window.gallery_dock.width()
    generate = window.sampler_dock.height()
    window.resize(hint)  # as small as it goes
    qtbot.waitUntil(lambda: window.files_dock.width() < files and not names_fit(), timeout=3000)
    window.resize(laptop)  # maximised again
    qtbot.waitUntil(
        lambda: (
            window.files_dock.width() >= files
            and window.gallery_dock.width() >= right
            and window.sampler_dock.height() >= generate
            and names_fit()
        ),
        timeout=3000,
    )
    window.generation.set_result(None)


def test_a_first_window_fits_the_screen_with_its_title_bar(qtbot, config_dir):
    from app.main_window import MainWindow
    from app.settings import Settings

    window = MainWindow(Settings())
    qtbot.addWidget(window)
    free = window.screen().availableGeometry()
    assert window.width() <= free.width() and window.height() + 30 <= free.height()
