"""Issue 18, "The window": the inspector's second session in a real window. Each test replays one step that
broke: a window that fits a 1366x768 laptop, the language change reaching every text, showing a variant again,
the split line, the status bar's words, safe defaults before work is lost, and holding C right after a run."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMessageBox

from tests.gui.conftest import drag


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
