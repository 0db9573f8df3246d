"""Which files of a folder are images: one rule for the app's folder view, synth's --images, the bundled samples
and every dataset reader. Standard library only, like core.choices, whose suffixes it applies."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.choices import is_image_name


def _hidden(path: Path, folder: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(folder).parts)


def list_images(folder: Path, recursive: bool = False, key: Callable[[Path], Any] | None = None) -> list[Path]:
    """The image files in `folder` (and in its sub-folders when `recursive`): a name ending in one of
    core.choices.IMAGE_SUFFIXES, in any case; hidden files and everything inside hidden folders skipped (editors'
    and OSes' litter such as `._crazing_1.jpg` or `.thumbnails/`). Sorted by path, or by `key` (the app sorts
    as a person counts), so every run sees them in the same order. A missing folder has none."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = folder.rglob("*") if recursive else folder.iterdir()
    images = [p for p in found if is_image_name(p.name) and not _hidden(p, folder) and p.is_file()]
    return sorted(images, key=key or str)
