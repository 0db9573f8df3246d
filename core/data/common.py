"""What every reader needs: cheap header checks, box checks, folder look-ups (images are listed by
core.image_files.list_images, the rule the app and synth use too).

Mask files are read by `core.imageio.load_mask` (one rule for the app and the readers)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from core.data.records import DatasetProblem
from core.request import Box

log = logging.getLogger(__name__)


class DatasetError(Exception):
    """The folder cannot be read as a dataset at all (missing, not a folder, no layout recognised)."""


def subfolders(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def index_by_stem(paths: Iterable[Path], problems: list[DatasetProblem]) -> dict[str, Path]:
    """Images by file stem (annotations refer to images by name); a repeated name is reported, first one wins."""
    images: dict[str, Path] = {}
    for path in paths:
        if path.stem in images:
            problems.append(DatasetProblem(path, f"duplicate image name, also at {images[path.stem]}; ignored"))
            continue
        images[path.stem] = path
    return images


def child(folder: Path, *names: str) -> Path | None:
    """The first existing child named like one of `names`, ignoring case (datasets ship as IMAGES or images)."""
    if not folder.is_dir():
        return None
    wanted = [n.lower() for n in names]
    entries = {p.name.lower(): p for p in folder.iterdir()}
    for name in wanted:
        if name in entries:
            return entries[name]
    return None


def image_size(path: Path, problems: list[DatasetProblem]) -> tuple[int, int] | None:
    """(width, height) from the file header only; a problem instead of an exception when it can't be read."""
    try:
        with Image.open(path) as image:
            width, height = image.size
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as error:
        problems.append(DatasetProblem(path, f"unreadable image: {error.__class__.__name__}: {error}"))
        return None
    if width <= 0 or height <= 0:
        problems.append(DatasetProblem(path, f"image has no pixels ({width}x{height})"))
        return None
    return width, height


def check_boxes(
    boxes: Iterable[Box], size: tuple[int, int], path: Path, problems: list[DatasetProblem]
) -> tuple[Box, ...]:
    """Boxes clipped to the image; each one that reached outside is reported, an empty one is dropped."""
    width, height = size
    kept = []
    for box in boxes:
        inside = 0 <= box.x0 < box.x1 <= width and 0 <= box.y0 < box.y1 <= height
        if inside:
            kept.append(box)
            continue
        clipped = Box(box.defect_class, max(box.x0, 0), max(box.y0, 0), min(box.x1, width), min(box.y1, height))
        where = f"box {box.defect_class} ({box.x0}, {box.y0}, {box.x1}, {box.y1})"
        if clipped.x0 < clipped.x1 and clipped.y0 < clipped.y1:
            problems.append(DatasetProblem(path, f"{where} reaches outside the {width}x{height} image; clipped"))
            kept.append(clipped)
        else:
            problems.append(DatasetProblem(path, f"{where} is empty or outside the {width}x{height} image; dropped"))
    return tuple(kept)


def main_class(boxes: Iterable[Box], fallback: str | None = None) -> str | None:
    """The image-level class: the fallback (folder or file-name class) if given, else the commonest box class."""
    if fallback:
        return fallback
    counts: dict[str, int] = {}
    for box in boxes:
        counts[box.defect_class] = counts.get(box.defect_class, 0) + 1
    return max(sorted(counts), key=lambda name: counts[name]) if counts else None
