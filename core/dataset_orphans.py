"""Sample files no manifest line owns: left by an export killed between placing its files and appending its line,
or owned by a line that was torn. Folder readers (ImageFolder, VOC) would see them beside the rerun's copy of the
same sample. The next export or build of the folder (under its lock, so no writer is mid-way) moves them into
`.orphaned/<time>/` (nothing is deleted) with one warning, and the rerun writes the sample under its own id."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.fsutil import describe_os_error, inside

log = logging.getLogger(__name__)

ORPHAN_FOLDER = ".orphaned"
# The names DefectForge gives a sample's files (<source>_<folder>_s<seed>[-n]); anything else is not ours to move.
_SAMPLE_FILE = re.compile(r"_s\d+(-\d+)?\.(png|xml|txt)$")
# Where a sample's files live: (top folder, whether they sit one folder deeper, in a class folder).
_PLACES = (("images", True), ("masks", True), ("annotations", False), ("labels", False), ("labels", True))


def _sample_files(root: Path) -> Iterator[Path]:
    """Relative paths of the files in the sample folders that carry a sample file's name."""
    for top, nested in _PLACES:
        base = root / top
        if not base.is_dir() or not inside(root, base):
            continue
        folders = [f for f in base.iterdir() if f.is_dir() and not f.is_symlink()] if nested else [base]
        for folder in folders:
            for path in folder.iterdir():
                if path.is_file() and not path.is_symlink() and _SAMPLE_FILE.search(path.name):
                    yield path.relative_to(root)


def set_orphans_aside(root: Path, records: list[dict[str, Any]]) -> int:
    """Move the files of samples whose image no record lists into `.orphaned/`; how many were moved. A manifest
    with a record that does not list its files (or lists them oddly) is left alone: no file is proven an orphan."""
    owned: set[str] = set()
    for record in records:
        files = record.get("files")
        if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
            return 0
        owned.update(files)
    unowned = [path for path in _sample_files(root) if path.as_posix() not in owned]
    # A sample is its image: files of an id without an unowned image are someone else's strays, left alone.
    orphan_ids = {path.stem for path in unowned if path.parts[0] == "images"}
    orphans = [path for path in unowned if path.stem in orphan_ids]
    if not orphans:
        return 0
    aside = root / ORPHAN_FOLDER / datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    if not inside(root, aside):
        log.warning(
            "%s: %s leads out of the folder; %d orphaned file(s) left in place", root, ORPHAN_FOLDER, len(orphans)
        )
        return 0
    moved = 0
    for relative in orphans:
        try:
            (aside / relative).parent.mkdir(parents=True, exist_ok=True)
            os.replace(root / relative, aside / relative)
            moved += 1
        except OSError as exc:
            log.warning("%s: could not move %s aside (%s)", root, relative, describe_os_error(exc))
    samples = len({path.stem for path in orphans})
    log.warning(
        "%s: %d file(s) of %d sample(s) that no manifest line owns (an export killed mid-way, or a torn manifest "
        "line) were moved to %s; the next run writes those samples again",
        root,
        moved,
        samples,
        aside.relative_to(root),
    )
    return moved
