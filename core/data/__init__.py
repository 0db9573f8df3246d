"""Readers for public surface-defect datasets, all yielding the same DatasetSample records.

`read_dataset(root)` recognises the layout (NEU-DET, NEU-CLS, SD-saliency-900, X-SDD, GC10-DET, MVTec AD,
folder-per-class, procedural); `merge(datasets, load_class_map(path))` joins several under one class list.
Training opens its data through `training.datasets.open_dataset`, which adds YAML dataset specs and refuses an
empty result on top of this reader.
"""

from core.data.class_map import ClassMap, ClassMapError, load_class_map, merge
from core.data.common import DatasetError
from core.data.detect import KINDS, detect_kind, read_dataset
from core.data.records import Dataset, DatasetProblem, DatasetSample

__all__ = [
    "KINDS",
    "ClassMap",
    "ClassMapError",
    "Dataset",
    "DatasetError",
    "DatasetProblem",
    "DatasetSample",
    "detect_kind",
    "load_class_map",
    "merge",
    "read_dataset",
]
