"""Where bundled resources (default model, sample images) live, from source and frozen under PyInstaller."""

from __future__ import annotations

import sys
from pathlib import Path

from core.image_files import list_images

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
    return list_images(resource_path("samples"))


def app_version() -> str:
    """The installed DefectForge version, recorded in export manifests."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("defectforge")
    except PackageNotFoundError:
        return "0+unknown"
