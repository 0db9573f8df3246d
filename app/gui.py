"""Starting the desktop app: QApplication, dark theme, translations (app.language), the main window."""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

from app.language import install_translators
from app.settings import Settings

log = logging.getLogger(__name__)

ACCENT = QColor(64, 156, 255)

STYLE_SHEET = """
QPushButton#primary { background: #2f7fe0; color: white; border: 1px solid #2a6fc4; border-radius: 4px;
                      padding: 4px 14px; font-weight: 600; }
QPushButton#primary:hover { background: #3a8cf0; }
QPushButton#primary:disabled { background: #3a3f47; color: #8a9099; border-color: #3a3f47; }
QDockWidget::title { padding: 5px 8px; background: #2b2e33; font-weight: 600; }
QToolBar { spacing: 3px; padding: 2px; }
QStatusBar QLabel { color: #b8bdc6; }
QProgressBar { border: 1px solid #454a52; border-radius: 3px; text-align: center; height: 18px; }
QProgressBar::chunk { background: #2f7fe0; }
"""


def apply_theme(app: QApplication) -> None:
    """Fusion in dark greys: images and the coloured mask stand out, the chrome recedes."""
    if "Fusion" in QStyleFactory.keys():  # noqa: SIM118 - a list, not a dict
        app.setStyle("Fusion")
    palette = QPalette()
    window, base, text = QColor(43, 46, 51), QColor(32, 34, 38), QColor(222, 225, 230)
    roles = {
        QPalette.ColorRole.Window: window,
        QPalette.ColorRole.WindowText: text,
        QPalette.ColorRole.Base: base,
        QPalette.ColorRole.AlternateBase: QColor(38, 41, 46),
        QPalette.ColorRole.ToolTipBase: QColor(250, 250, 250),
        QPalette.ColorRole.ToolTipText: QColor(20, 20, 20),
        QPalette.ColorRole.Text: text,
        QPalette.ColorRole.Button: QColor(52, 56, 62),
        QPalette.ColorRole.ButtonText: text,
        QPalette.ColorRole.Highlight: ACCENT,
        QPalette.ColorRole.HighlightedText: QColor(255, 255, 255),
        QPalette.ColorRole.Link: ACCENT,
        QPalette.ColorRole.Mid: QColor(120, 126, 135),
        QPalette.ColorRole.PlaceholderText: QColor(130, 135, 142),
    }
    for role, color in roles.items():
        palette.setColor(role, color)
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(115, 120, 128))
    app.setPalette(palette)
    app.setStyleSheet(STYLE_SHEET)


def create_app(argv: list[str] | None = None, settings: Settings | None = None) -> QApplication:
    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv[:1])
    app.setApplicationName("DefectForge")
    app.setOrganizationName("DefectForge")
    apply_theme(app)
    install_translators(app, (settings or Settings()).language)
    return app


_GUI_IMPORTED = time.perf_counter()


def main(image: str | None = None, model: str | None = None) -> int:
    """The `defectforge` app: open `image` (else a bundled sample) with `model` (else the default bundle)."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    settings = Settings.load()
    app = create_app(settings=settings)
    from app.main_window import MainWindow

    window = MainWindow(settings)
    window.show()
    window.check_language_font()
    window.start(image=Path(image) if image else None, model=Path(model) if model else None)
    if os.environ.get("DEFECTFORGE_STARTUP_PROBE"):
        # Used by scripts/build_bundle.sh to measure start-up: report once the first frame is painted, then quit.
        from PySide6.QtCore import QTimer

        def report() -> None:
            seconds = time.perf_counter() - _GUI_IMPORTED
            print(f"first window shown {seconds:.2f} s after the GUI started loading", flush=True)
            app.quit()

        QTimer.singleShot(0, report)
    code = int(app.exec())
    if window.controller.working:
        # Closing did not wait for a step that cannot be interrupted (a decode, a model load): its result is
        # unwanted and settings are saved, so end now instead of leaving a windowless process behind.
        logging.shutdown()
        os._exit(code)
    return code
