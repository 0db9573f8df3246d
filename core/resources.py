"""Where bundled resources (default model, sample images) live, from source and frozen under PyInstaller."""

from __future__ import annotations

import sys
from pathlib import Path

from core.choices import IMAGE_SUFFIXES

DEFAULT_MODEL_PARTS = ("models", "default")


def _root() -> Path:
    # PyInstaller unpacks data next to the frozen code in sys._MEIPASS; from source it is the repository root.
    frozen = getattr(sys, "_MEIPASS", None)
    return Path(frozen) if frozen else Path(__file__).resolve().parent.parent


def resource_path(*parts: str) -> Path:
    """Path of a file or folder under resources/ (it may not exist: callers say what is missing)."""
    return _root().joinpath("resources", *parts)


def default_model_path() -> Path:
    return resource_path(*DEFAULT_MODEL_PARTS)


def sample_image_paths() -> list[Path]:
    """The bundled clean sample images, in name order (empty if none ship)."""
    folder = resource_path("samples")
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


def app_version() -> str:
    """The installed DefectForge version, recorded in export manifests."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("defectforge")
    except PackageNotFoundError:
        return "0+unknown"
