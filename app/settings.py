"""User settings: a JSON file in the platform's config folder (platformdirs), read leniently, written atomically.

Qt-free so it round-trips in plain tests. DEFECTFORGE_CONFIG_DIR moves the folder (tests, portable installs).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from core.choices import DEVICE_CHOICES
from core.config import SamplerConfig
from core.export_formats import DEFAULT_FORMATS, FORMATS, ExportOptions
from core.fsutil import write_atomic
from core.request import MAX_SHORT_SEED

log = logging.getLogger(__name__)

APP_NAME = "DefectForge"
CONFIG_ENV = "DEFECTFORGE_CONFIG_DIR"
FILE_NAME = "settings.json"
MAX_RECENT = 10
# The sampler panel offers up to this many variants a run (synth: core.request.MAX_VARIANTS).
MAX_PANEL_VARIANTS = 8
LANGUAGES = ("", "en", "ko")  # "" = follow the system locale
MAX_VAL_PERCENT = 50  # the dataset dialog's validation share goes up to this


def config_dir() -> Path:
    override = os.environ.get(CONFIG_ENV)
    return Path(override) if override else Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def user_models_dir() -> Path:
    """Where a user drops extra model bundles (listed by the model picker next to the bundled ones)."""
    override = os.environ.get(CONFIG_ENV)
    base = Path(override) if override else Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    return base / "models"


# The SamplerSettings that override a SamplerConfig field (checked against its Bounds when read).
SAMPLER_FIELDS = ("steps", "cfg_weight", "temp_min", "temp_max")


@dataclass
class SamplerSettings:
    """The sampler panel's values; None = take the model bundle's default."""

    steps: int | None = None
    cfg_weight: float | None = None
    temp_min: float | None = None
    temp_max: float | None = None
    seed: int = 0
    random_seed: bool = True
    variants: int = 2
    live_preview: bool = True


@dataclass
class ExportSettings:
    """What app exports write beside images and masks (the dataset folder dialog): label formats, and the share
    of images the folder's split lists put in val, drawn by the seed."""

    formats: list[str] = field(default_factory=lambda: list(DEFAULT_FORMATS))
    val_percent: int = 0
    split_seed: int = 0

    def options(self) -> ExportOptions:
        return ExportOptions(tuple(self.formats), self.val_percent / 100, self.split_seed)


@dataclass
class Settings:
    recent_files: list[str] = field(default_factory=list)
    last_image_dir: str = ""
    last_mask_dir: str = ""
    dataset_dir: str = ""
    brush_size: int = 24
    overlay_opacity: float = 0.5
    sampler: SamplerSettings = field(default_factory=SamplerSettings)
    export: ExportSettings = field(default_factory=ExportSettings)
    device: str = "auto"
    model_path: str = ""  # "" = the bundled default model
    language: str = ""
    tool: str = "brush"
    window_geometry: str = ""  # base64 of QMainWindow.saveGeometry()/saveState()
    window_state: str = ""

    def add_recent(self, path: Path | str) -> None:
        text = str(path)
        self.recent_files = [text] + [p for p in self.recent_files if p != text]
        del self.recent_files[MAX_RECENT:]

    # --- persistence ---------------------------------------------------------------------------------------
    @classmethod
    def load(cls, path: Path | None = None) -> Settings:
        """Read settings; a missing, unreadable or partly wrong file gives defaults for what is wrong."""
        path = path or config_dir() / FILE_NAME
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise ValueError(f"expected a JSON object, got {type(data).__name__}")
            return cls.from_dict(data)
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError, RecursionError, TypeError) as exc:
            # Kept aside, not overwritten by the next save, and reported once: the next start reads defaults.
            aside = path.with_name(f"{path.name}.bad")
            try:
                os.replace(path, aside)
                where = f"; it was moved to {aside}"
            except OSError:
                where = ""
            problem = "nested too deeply" if isinstance(exc, RecursionError) else str(exc).splitlines()[0]
            log.warning("settings %s could not be read (%s); starting with defaults%s", path, problem, where)
            return cls()

    def save(self, path: Path | None = None) -> Path:
        path = path or config_dir() / FILE_NAME
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(dataclasses.asdict(self), indent=2, ensure_ascii=False)
        write_atomic(path, text)
        return path

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Settings:
        settings = cls()
        for f in dataclasses.fields(cls):
            if f.name not in data:
                continue
            value = data[f.name]
            if f.name == "sampler":
                settings.sampler = _sampler_from(value)
            elif f.name == "export":
                settings.export = _export_from(value)
            elif _same_kind(getattr(settings, f.name), value):
                setattr(settings, f.name, value)
        settings.brush_size = int(min(512, max(1, settings.brush_size)))
        settings.overlay_opacity = float(min(1.0, max(0.0, settings.overlay_opacity)))
        settings.recent_files = [str(p) for p in settings.recent_files][:MAX_RECENT]
        if settings.device not in DEVICE_CHOICES:
            settings.device = "auto"
        if settings.language not in LANGUAGES:
            settings.language = ""
        return settings


def _same_kind(default: Any, value: Any) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float))
    return isinstance(value, type(default))


def _sampler_from(data: Any) -> SamplerSettings:
    sampler = SamplerSettings()
    if not isinstance(data, dict):
        return sampler
    kinds = {
        "steps": int,
        "cfg_weight": float,
        "temp_min": float,
        "temp_max": float,
        "seed": int,
        "random_seed": bool,
        "variants": int,
        "live_preview": bool,
    }
    for name, kind in kinds.items():
        value = data.get(name)
        if value is None or isinstance(value, bool) != (kind is bool):
            continue
        if isinstance(value, (int, float)) and math.isfinite(value):
            value = kind(value)
            # A sampler value outside SamplerConfig's Bounds (the panel's range too) is dropped: the model's
            # default applies, not a clamped neighbour.
            if name in SAMPLER_FIELDS and not SamplerConfig.bounds(name).contains(value):
                continue
            setattr(sampler, name, value)
    sampler.variants = min(MAX_PANEL_VARIANTS, max(1, sampler.variants))
    return sampler


def _export_from(data: Any) -> ExportSettings:
    """Known formats in a known order (none known: the defaults), a share from 0 to MAX_VAL_PERCENT, a seed the
    dialog can show."""
    export = ExportSettings()
    if not isinstance(data, dict):
        return export
    formats = data.get("formats")
    if isinstance(formats, list):
        known = [f for f in FORMATS if f in formats]
        export.formats = known or export.formats
    percent, seed = data.get("val_percent"), data.get("split_seed")
    if isinstance(percent, int) and not isinstance(percent, bool):
        export.val_percent = min(MAX_VAL_PERCENT, max(0, percent))
    if isinstance(seed, int) and not isinstance(seed, bool):
        export.split_seed = min(MAX_SHORT_SEED, max(0, seed))  # the dialog's seed box holds 32 bits
    return export
