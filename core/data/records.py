"""What every dataset reader yields: one image with its defect labels, in pixel coordinates."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from core.request import Box


@dataclass(frozen=True)
class DatasetSample:
    image: Path
    # Image-level class (classification datasets, or the class of every box); None for a clean image.
    defect_class: str | None
    boxes: tuple[Box, ...] = ()
    mask: Path | None = None  # 0/255 defect mask, where the dataset has one
    source: str = ""  # reader name: neu-det, neu-cls, sd-saliency, x-sdd, gc10, mvtec, folders, procedural


@dataclass
class DatasetProblem:
    """Something wrong in a dataset, reported by readers instead of stopping."""

    path: Path
    message: str


@dataclass
class Dataset:
    root: Path
    kind: str
    samples: list[DatasetSample] = field(default_factory=list)
    problems: list[DatasetProblem] = field(default_factory=list)

    @property
    def class_names(self) -> list[str]:
        names = {s.defect_class for s in self.samples if s.defect_class}
        names |= {b.defect_class for s in self.samples for b in s.boxes}
        return sorted(names)
