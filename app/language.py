"""The UI language: which one (the setting or the system's), its translators, changing it while the app runs, and
the notice when no installed font can show Korean.

Widgets are built with their texts already translated, so re-translating one means knowing which message its
text came from: the translation source (.ts, shipped beside the .qm) maps every text of every language back to
its (context, source) message, which is then translated again with the translators now installed. Texts put
together at run time ("Opened %1") are not messages; their owners refresh them (the window's retranslate)."""

from __future__ import annotations

import logging
import re
import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QObject, QTranslator
from PySide6.QtGui import QAction, QFontDatabase
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QGroupBox,
    QLabel,
    QLineEdit,
    QMenu,
    QProgressBar,
    QTabWidget,
    QTreeWidget,
    QWidget,
)

log = logging.getLogger(__name__)

I18N_DIR = Path(__file__).resolve().parent / "i18n"

KOREAN_FONT_MISSING = (
    "No installed font can show Korean, so Korean text may appear as empty boxes. Install a Korean font (for "
    "example Noto Sans CJK KR or NanumGothic) and start DefectForge again, or switch to English (View → "
    "Language).\n\n"
    "한국어를 표시할 수 있는 글꼴이 설치되어 있지 않아 한국어 글자가 빈 상자로 보일 수 있습니다. 한국어 글꼴"
    "(예: Noto Sans CJK KR, 나눔고딕)을 설치한 뒤 DefectForge를 다시 시작하거나, 영어로 바꾸세요 "
    "(보기 → 언어)."
)


def language_code(setting: str, system_locale: str | None = None) -> str:
    """'' follows the system locale (`system_locale`, e.g. "ko_KR"; default: Qt's); anything but Korean falls back
    to English."""
    code = setting or (system_locale or QLocale.system().name()).split("_")[0]
    return "ko" if code == "ko" else "en"


def install_translators(app: QApplication, setting: str) -> str:
    """Load the app's and Qt's own translations for the language; returns the code in use."""
    code = language_code(setting)
    for previous in getattr(app, "translators", []):  # a switch while running: the old language goes first
        app.removeTranslator(previous)
    app.translators = []  # keep references: a collected QTranslator silently stops translating
    if code == "en":
        return code
    ours = QTranslator(app)
    if ours.load(str(I18N_DIR / f"defectforge_{code}.qm")):
        app.installTranslator(ours)
        app.translators.append(ours)
    else:
        log.warning("no %s translation found in %s", code, I18N_DIR)
    qt_dir = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    qtbase = QTranslator(app)
    if qtbase.load(f"qtbase_{code}", qt_dir):  # standard buttons (OK, Cancel) and file dialogs
        app.installTranslator(qtbase)
        app.translators.append(qtbase)
    return code


@cache
def message_index(ts_path: Path) -> dict[str, tuple[str, str, bool]]:
    """Every source text and every translation in `ts_path` -> (context, source, without '&'): also each with
    its '&' mnemonics taken out, as tool and status tips show them. A source wins over a translation that
    happens to read the same."""
    try:
        root = ET.parse(ts_path).getroot()
    except (OSError, ET.ParseError) as exc:
        log.warning("cannot read %s (%s): texts change language at the next start", ts_path, exc)
        return {}
    texts: dict[str, tuple[str, str]] = {}
    translations: dict[str, tuple[str, str]] = {}
    for context in root.iter("context"):
        name = context.findtext("name") or ""
        for message in context.iter("message"):
            source = message.findtext("source") or ""
            texts.setdefault(source, (name, source))
            translation = message.findtext("translation") or ""
            if translation:
                translations.setdefault(translation, (name, source))
    exact = {**translations, **texts}
    stripped = {text.replace("&", ""): (*message, True) for text, message in exact.items() if "&" in text}
    return {**stripped, **{text: (*message, False) for text, message in exact.items()}}


# A tool tip the actions build as "<tip>  (<shortcut>)".
_SHORTCUT_SUFFIX = re.compile(r"(.+?)(  \([^()]*\))", re.DOTALL)


def retranslate(root: QWidget, ts_path: Path) -> None:
    """Translate again every text under `root` (widgets, menus, actions, tree headers, combo items, tabs) that
    is one of the app's messages, with the translators installed now."""
    index = message_index(ts_path)

    def again(text: str) -> str:
        core = text.strip()
        if core != text and core:  # a label padded with spaces (" Opacity ")
            start = text.index(core)
            return text[:start] + again(core) + text[start + len(core) :]
        body, suffix = text, ""
        match = _SHORTCUT_SUFFIX.fullmatch(text)
        if text not in index and match:
            body, suffix = match.groups()
        if body not in index:
            return text
        context, source, no_mnemonics = index[body]
        translated = QCoreApplication.translate(context, source)
        return (translated.replace("&", "") if no_mnemonics else translated) + suffix

    def retext(obj: QObject, getter: str, setter: str) -> None:
        text = getattr(obj, getter)()
        if text:
            new = again(text)
            if new != text:
                getattr(obj, setter)(new)

    widgets = [root, *root.findChildren(QWidget)]
    for widget in widgets:
        for getter, setter in (
            ("windowTitle", "setWindowTitle"),
            ("toolTip", "setToolTip"),
            ("statusTip", "setStatusTip"),
        ):
            retext(widget, getter, setter)
        if isinstance(widget, QAbstractButton | QLabel):
            retext(widget, "text", "setText")
        if isinstance(widget, QGroupBox | QMenu):
            retext(widget, "title", "setTitle")
        if isinstance(widget, QProgressBar):
            retext(widget, "format", "setFormat")
        if isinstance(widget, QLineEdit):
            retext(widget, "placeholderText", "setPlaceholderText")
        if isinstance(widget, QComboBox):
            for i in range(widget.count()):
                widget.setItemText(i, again(widget.itemText(i)))
        if isinstance(widget, QTabWidget):
            for i in range(widget.count()):
                widget.setTabText(i, again(widget.tabText(i)))
        if isinstance(widget, QTreeWidget):
            header = widget.headerItem()
            for column in range(header.columnCount()):
                header.setText(column, again(header.text(column)))
    for action in root.findChildren(QAction):
        for getter, setter in (
            ("text", "setText"),
            ("toolTip", "setToolTip"),
            ("statusTip", "setStatusTip"),
            ("iconText", "setIconText"),
        ):
            retext(action, getter, setter)


def korean_font_missing() -> bool:
    """Whether no installed font declares Korean (Hangul) support: Korean text would show as empty boxes."""
    return not QFontDatabase.families(QFontDatabase.WritingSystem.Korean)
