"""Icons from qtawesome's Material Design set, tinted for the app's dark theme; a missing name never crashes."""

from __future__ import annotations

import logging

from PySide6.QtGui import QIcon

log = logging.getLogger(__name__)

ICON_COLOR = "#d6d9de"
ACTIVE_COLOR = "#ffffff"
DISABLED_COLOR = "#6b7078"


def icon(name: str, color: str = ICON_COLOR) -> QIcon:
    try:
        import qtawesome

        return qtawesome.icon(name, color=color, color_active=ACTIVE_COLOR, color_disabled=DISABLED_COLOR)
    except Exception as exc:  # a font or name problem costs an icon, not the app
        log.warning("icon %s unavailable: %s", name, exc)
        return QIcon()
