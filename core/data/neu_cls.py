"""NEU-CLS: one flat folder of 200x200 BMPs named by class code, `Cr_1.bmp`, `In_…`, `Pa_…`, `PS_…`, `RS_…`, `Sc_…`."""

from __future__ import annotations

import re
from pathlib import Path

from core.data.common import image_size
from core.data.records import Dataset, DatasetProblem, DatasetSample
from core.image_files import list_images
from core.names import NEU_CLASS_OF_CODE

_NAME = re.compile(r"^(?P<code>[A-Za-z]+)_\d+$")


def class_of(path: Path) -> str | None:
    match = _NAME.match(path.stem)
    # Compared case-insensitively: copies circulate as both `PS_` and `Ps_`.
    return NEU_CLASS_OF_CODE.get(match.group("code").lower()) if match else None


def is_neu_cls(root: Path) -> bool:
    """Most images at the top level carry a NEU-CLS prefix."""
    images = list_images(Path(root))
    return bool(images) and sum(class_of(p) is not None for p in images) * 2 > len(images)


def read_neu_cls(root: Path) -> Dataset:
    root = Path(root)
    problems: list[DatasetProblem] = []
    samples = []
    for path in list_images(root):
        defect_class = class_of(path)
        if defect_class is None:
            problems.append(
                DatasetProblem(path, "unknown class: the name has no NEU-CLS prefix (Cr_, In_, Pa_, PS_, RS_, Sc_)")
            )
            continue
        if image_size(path, problems) is not None:
            samples.append(DatasetSample(path, defect_class, source="neu-cls"))
    return Dataset(root, "neu-cls", samples, problems)
