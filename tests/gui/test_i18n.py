"""Every UI string goes through Qt's translation system, and the Korean translation is complete and loads."""

from __future__ import annotations

import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QLocale, QTranslator

from app.language import I18N_DIR, language_code
from tests.gui.conftest import make_window

ROOT = Path(__file__).resolve().parents[2]
TS = I18N_DIR / "defectforge_ko.ts"
QM = I18N_DIR / "defectforge_ko.qm"


def _tool(name: str) -> str | None:
    found = Path(sys.executable).parent / name
    return str(found) if found.exists() else shutil.which(name)


def _lupdate(tmp_path: Path) -> Path:
    """The shipped .ts brought up to the app's tr() strings now, as scripts/update_translations.sh does."""
    tool = _tool("pyside6-lupdate")
    if tool is None:
        pytest.skip("pyside6-lupdate not installed")
    fresh = tmp_path / "fresh.ts"
    shutil.copy(TS, fresh)
    sources = sorted(str(p) for p in (ROOT / "app").glob("*.py"))
    subprocess.run([tool, *sources, "-no-obsolete", "-ts", str(fresh)], check=True, capture_output=True)
    return fresh


def _translations(ts: Path) -> dict[tuple[str, str], tuple[str, str | None]]:
    """(context, source) -> (translation, its type: None when finished, else unfinished/vanished/obsolete)."""
    found = {}
    for context in ET.parse(ts).getroot().iter("context"):
        for message in context.iter("message"):
            translation = message.find("translation")
            found[(context.findtext("name"), message.findtext("source"))] = (
                translation.text or "",
                translation.get("type"),
            )
    return found


def test_every_string_in_the_app_has_a_korean_translation(tmp_path):
    fresh = _lupdate(tmp_path)
    messages = list(ET.parse(fresh).getroot().iter("message"))
    assert len(messages) > 200
    untranslated = [
        m.findtext("source")
        for m in messages
        if m.find("translation").get("type") == "unfinished" or not m.findtext("translation")
    ]
    assert untranslated == [], "run scripts/update_translations.sh and translate these"


def test_the_shipped_translation_source_is_current_so_no_moved_string_lost_its_korean(tmp_path):
    """A string that moves to another class changes its translation context: the shipped .ts must hold it in
    the new context, translated, with nothing left unfinished, vanished or obsolete in the old one."""
    shipped = _translations(TS)
    assert [key for key, (text, kind) in shipped.items() if kind is not None or not text] == []
    assert _translations(_lupdate(tmp_path)) == shipped, "run scripts/update_translations.sh and re-key moved strings"


def test_the_compiled_korean_translation_is_shipped_and_current(tmp_path):
    assert QM.is_file() and QM.stat().st_size > 1000
    tool = _tool("pyside6-lrelease")
    if tool is None:
        pytest.skip("pyside6-lrelease not installed")
    fresh = tmp_path / "fresh.qm"
    subprocess.run([tool, str(TS), "-qm", str(fresh)], check=True, capture_output=True)
    assert fresh.read_bytes() == QM.read_bytes(), "the .qm is stale: run scripts/update_translations.sh"


def test_korean_follows_the_setting_or_the_system_locale():
    assert language_code("", "ko_KR") == "ko"  # no setting: the system's Korean
    assert language_code("en", "ko_KR") == "en"  # the setting beats the system
    assert language_code("", "de_DE") == "en"  # no German translation: English
    assert language_code("ko", "de_DE") == "ko"
    assert language_code("") == language_code("", QLocale.system().name())  # the default asks Qt


def test_the_window_speaks_korean_with_the_translation_installed(qapp, qtbot, config_dir, messages):
    translator = QTranslator()
    assert translator.load(str(QM))
    QCoreApplication.installTranslator(translator)
    try:
        window = make_window(qtbot)
        titles = [action.text() for action in window.menuBar().actions()]
        assert titles[:2] == ["파일(&F)", "편집(&E)"]
        assert window.actions_.generate.text() == "생성(&G)"
        assert window.sampler_panel.progress.text() == "준비됨"
        window.sampler_panel.show_step(3, 12)
        assert window.sampler_panel.progress.text() == "12단계 중 3단계"
        assert window.classes_dock.windowTitle() == "결함 클래스"
        assert window.model_label.text() == "불러온 모델 없음"  # said by the model presenter, in its own context
        window.recent_menu.aboutToShow.emit()  # filled by the session presenter
        assert [action.text() for action in window.recent_menu.actions()] == ["(없음)"]
        window.close()
    finally:
        QCoreApplication.removeTranslator(translator)
