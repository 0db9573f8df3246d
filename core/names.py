"""Class names: the one check every entry point (bundle, training options, dataset readers, class maps, export)
applies, because a class name becomes a folder name under the exported dataset.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterable

# Characters no folder name may hold on some supported system (Windows forbids these; '/' and '\\' separate paths).
_FORBIDDEN = set('/\\:<>"|?*')
MAX_CLASS_NAME = 100
# NEU-DET's six classes in its own order: the default model's classes, the procedural generator's and the reader's.
NEU_CLASSES: tuple[str, ...] = ("crazing", "inclusion", "patches", "pitted_surface", "rolled-in_scale", "scratches")
# NEU's two-letter class codes, lower case: NEU-DET writes them in <folder>, NEU-CLS names its files by them
# (`Cr_1.bmp`, `PS_12.bmp`: compare them case-insensitively).
NEU_CODES: dict[str, str] = dict(zip(NEU_CLASSES, ("cr", "in", "pa", "ps", "rs", "sc"), strict=True))
NEU_CLASS_OF_CODE: dict[str, str] = {code: name for name, code in NEU_CODES.items()}


class ClassNameError(ValueError):
    """A class name that cannot be a folder name."""


def class_name_problem(name: object) -> str | None:
    """Why `name` cannot be a class name, or None when it can."""
    if not isinstance(name, str):
        return f"{name!r} is not text"
    if not name.strip():
        return "an empty class name"
    if name in (".", "..") or name.strip(". ") == "":
        return f"{name!r} is a path, not a name"
    if name != name.strip() or name.endswith("."):
        return f"{name!r} starts or ends with a space or ends with a dot"
    bad = sorted({c for c in name if c in _FORBIDDEN or unicodedata.category(c).startswith("C")})
    if bad:
        shown = ", ".join(repr(c) for c in bad)
        return f"{name!r} holds {shown}, which cannot be in a folder name"
    if len(name) > MAX_CLASS_NAME:
        return f"{name[:20]!r}... is {len(name)} characters long (at most {MAX_CLASS_NAME})"
    return None


def check_class_name(name: object, where: str = "") -> str:
    """`name` if it is a usable class name, else ClassNameError naming where it came from."""
    problem = class_name_problem(name)
    if problem:
        prefix = f"{where}: " if where else ""
        raise ClassNameError(
            f"{prefix}bad class name: {problem} (a class name becomes a folder name: letters, "
            "digits, '-', '_', '.' and spaces inside, no path separators)"
        )
    return name  # type: ignore[return-value]


def check_class_names(names: Iterable[object], where: str = "") -> list[str]:
    """Every name checked, and no name twice."""
    checked = [check_class_name(name, where) for name in names]
    seen: set[str] = set()
    for name in checked:
        if name in seen:
            raise ClassNameError(f"{where + ': ' if where else ''}class {name!r} is listed twice")
        seen.add(name)
    return checked


MAX_STEM = 100  # sample ids add class, seed and suffix, temp names 14 more: well inside a file name's 255 bytes


def short_stem(stem: str, limit: int = MAX_STEM) -> str:
    """`stem` if it fits in `limit` characters, else its start and a hash of the whole: a source named with 240
    characters must not make "File name too long" (and stop a whole batch); two long names that share their
    start still get different ids."""
    if len(stem.encode("utf-8")) <= limit:
        return stem
    digest = hashlib.sha256(stem.encode("utf-8")).hexdigest()[:8]
    head = stem.encode("utf-8")[: limit - 9].decode("utf-8", "ignore")
    return f"{head}-{digest}"
