"""Open any supported dataset folder: recognise its layout and hand it to the right reader."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from core.data.common import DatasetError, subfolders
from core.data.folders import is_class_folders, is_xsdd, read_class_folders, read_xsdd
from core.data.gc10 import is_gc10, read_gc10
from core.data.mvtec import is_mvtec, read_mvtec
from core.data.neu_cls import is_neu_cls, read_neu_cls
from core.data.neu_det import is_flat, is_procedural, read_neu_det, read_procedural, split_folders
from core.data.records import Dataset, DatasetProblem
from core.data.sd_saliency import is_sd_saliency, read_sd_saliency

log = logging.getLogger(__name__)

# Checked in this order: the most specific layouts first (procedural is NEU-DET plus masks; folder-per-class
# matches nearly anything, so it comes last).
DETECTORS: list[tuple[str, Callable[[Path], bool]]] = [
    ("procedural", is_procedural),
    ("neu-det", lambda root: is_flat(root) or bool(split_folders(root))),
    ("gc10", is_gc10),
    ("sd-saliency", is_sd_saliency),
    ("x-sdd", is_xsdd),
    ("mvtec", is_mvtec),
    ("neu-cls", is_neu_cls),
    ("folders", is_class_folders),
]

READERS: dict[str, Callable[[Path], Dataset]] = {
    "procedural": read_procedural,
    "neu-det": read_neu_det,
    "gc10": read_gc10,
    "sd-saliency": read_sd_saliency,
    "x-sdd": read_xsdd,
    "mvtec": read_mvtec,
    "neu-cls": read_neu_cls,
    "folders": read_class_folders,
}
KINDS = tuple(READERS)


def detect_kind(root: Path) -> tuple[str, Path] | None:
    """(kind, folder to read) for a dataset folder, or None. A download that wraps the dataset in one more
    folder (`NEU-DET/…`, `GC10-DET/…`) is looked into."""
    root = Path(root)
    for kind, matches in DETECTORS:
        if kind == "folders":
            break
        if matches(root):
            return kind, root
    inner = subfolders(root)
    if len(inner) == 1:
        found = detect_kind(inner[0])
        if found:
            return found
    return ("folders", root) if is_class_folders(root) else None


def read_dataset(root: Path, kind: str = "auto") -> Dataset:
    """Read a dataset folder; problems inside it are collected in `Dataset.problems`, never raised.

    Raises DatasetError only when the folder cannot be read at all: missing, not a folder, unreadable, or (with
    kind="auto") no known layout.
    """
    root = Path(root)
    if not root.exists():
        raise DatasetError(f"{root} does not exist")
    if not root.is_dir():
        raise DatasetError(f"{root} is not a folder")
    try:
        if kind == "auto":
            found = detect_kind(root)
            if found is None:
                raise DatasetError(f"{root}: no known dataset layout ({', '.join(KINDS)})")
            kind, root = found
        if kind not in READERS:
            raise DatasetError(f"unknown dataset kind {kind!r}; expected one of {', '.join(KINDS)} or auto")
        dataset = READERS[kind](root)
        if not dataset.samples and not dataset.problems:
            # A kind given by hand that finds nothing: say so rather than show an empty, clean-looking dataset.
            dataset.problems.append(DatasetProblem(root, f"no {kind} data found here"))
    except PermissionError as error:
        raise DatasetError(f"{root}: {error.strerror or error}") from error
    log.info("%s: %s, %d samples, %d problems", root, kind, len(dataset.samples), len(dataset.problems))
    return dataset
