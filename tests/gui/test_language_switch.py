"""Issue 12, gap 9: the language changes at once (no restart), class names read in Korean in the Korean UI while
everything written keeps the model's names, and a missing Korean font is said once, in both languages."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication, QLabel

from app import language
from app.language import install_translators
from tests.gui.conftest import drag

NEU_KOREAN = {
    "crazing": "크레이징",
    "inclusion": "개재물",
    "patches": "패치",
    "pitted_surface": "피팅",
    "rolled-in_scale": "압연 스케일",
    "scratches": "스크래치",
}


@pytest.fixture()
def english_after(qapp):
    yield
    install_translators(QApplication.instance(), "en")  # the next test starts in English again


@pytest.fixture()
def font_present(monkeypatch):
    monkeypatch.setattr(language, "korean_font_missing", lambda: False)


def _choose_language(window, code: str) -> None:
    next(a for a in window.language_menu.actions() if a.data() == code).trigger()


def _class_texts(window) -> list[str]:
    tree = window.class_panel.tree
    return [tree.topLevelItem(i).text(0) for i in range(tree.topLevelItemCount())]


def test_switching_to_korean_and_back_needs_no_restart(window, english_after, font_present, tmp_path, messages):
    assert window.actions_.generate.text() == "&Generate"
    _choose_language(window, "ko")
    assert window.settings.language == "ko"
    assert [a.text() for a in window.menuBar().actions()][:2] == ["파일(&F)", "편집(&E)"]
    assert window.actions_.generate.text() == "생성(&G)"
    assert window.actions_.export.toolTip().startswith("채택한 결과와 마스크")  # a tip with its shortcut
    assert window.classes_dock.windowTitle() == "결함 클래스"
    assert window.sampler_panel.progress.text() == "준비됨"
    assert window.statusBar().currentMessage() == "언어: 한국어"
    assert " 불투명도 " in [label.text() for label in window.findChildren(QLabel)]
    window.grab().save(str(tmp_path / "korean_without_restart.png"))
    _choose_language(window, "en")
    assert [a.text() for a in window.menuBar().actions()][:2] == ["&File", "&Edit"]
    assert window.actions_.generate.text() == "&Generate" and window.classes_dock.windowTitle() == "Defect classes"
    assert [a.text() for a in window.language_menu.actions()][1:] == ["English", "한국어"]  # each in its own name
    assert messages == []


def test_class_names_read_in_korean_but_the_document_keeps_the_model_names(window, english_after, font_present):
    _choose_language(window, "ko")
    assert _class_texts(window)[:6] == [NEU_KOREAN[n] for n in window.controller.model.info.class_names]
    assert _class_texts(window)[6] == "결함 지우기"
    assert window.actions_.classes[5].text() == "스크래치"
    window.actions_.classes[5].trigger()
    window.set_tool("rectangle")
    drag(window.canvas, [(100, 80), (160, 120)])
    assert [layer.defect_class for layer in window.document.layers()] == ["scratches"]  # what export writes
    _choose_language(window, "en")
    assert _class_texts(window)[:6] == list(window.controller.model.info.class_names)


def test_a_missing_korean_font_is_said_once_in_english_and_korean(window, english_after, monkeypatch, messages):
    monkeypatch.setattr(language, "korean_font_missing", lambda: True)
    _choose_language(window, "en")
    assert messages == []  # English needs no Korean font
    _choose_language(window, "ko")
    _choose_language(window, "en")
    _choose_language(window, "ko")
    assert len(messages) == 1
    assert "No installed font can show Korean" in messages[0][2] and "한국어를 표시할 수 있는 글꼴" in messages[0][2]
