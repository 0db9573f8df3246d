"""Readers for public surface-defect datasets, all yielding the same DatasetSample records.

`open_dataset(root)` recognises the layout (NEU-DET, NEU-CLS, SD-saliency-900, X-SDD, GC10-DET, MVTec AD,
folder-per-class, procedural); `merge(datasets, load_class_map(path))` joins several under one class list.
Names load on first use, so importing `core.data.records` alone stays cheap (no OpenCV, no readers).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "ClassMap": "core.data.class_map",
    "ClassMapError": "core.data.class_map",
    "load_class_map": "core.data.class_map",
    "merge": "core.data.class_map",
    "DatasetError": "core.data.common",
    "boxes_from_mask": "core.data.common",
    "read_mask": "core.data.common",
    "KINDS": "core.data.detect",
    "detect_kind": "core.data.detect",
    "open_dataset": "core.data.detect",
    "Dataset": "core.data.records",
    "DatasetProblem": "core.data.records",
    "DatasetSample": "core.data.records",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'core.data' has no attribute {name!r}")
