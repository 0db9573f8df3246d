"""SD-saliency-900: `Source Images/<Cls>_<n>.bmp` with 0/255 masks of the same stem in `Ground truth/`.

Classes come from the file-name prefix and stay as the dataset writes them (`In`, `Pa`, `Sc`); a class map
turns them into NEU names when datasets are merged.
"""

from __future__ import annotations

import re
from pathlib import Path

from core.data.common import child, image_size
from core.data.records import Dataset, DatasetProblem, DatasetSample
from core.image_files import list_images

SD_SALIENCY_CLASSES = ("In", "Pa", "Sc")
_NAME = re.compile(r"^(?P<code>[A-Za-z]+)_\d+")


def is_sd_saliency(root: Path) -> bool:
    return child(root, "Source Images") is not None and child(root, "Ground truth", "Ground Truth") is not None


def read_sd_saliency(root: Path) -> Dataset:
    root = Path(root)
    problems: list[DatasetProblem] = []
    samples = []
    known = {code.lower(): code for code in SD_SALIENCY_CLASSES}
    truth_dir = child(root, "Ground truth")
    masks = {p.stem: p for p in list_images(truth_dir)} if truth_dir else {}
    images = list_images(child(root, "Source Images"))
    for path in images:
        match = _NAME.match(path.stem)
        defect_class = known.get(match.group("code").lower()) if match else None
        if defect_class is None:
            problems.append(DatasetProblem(path, f"unknown class: expected a prefix {', '.join(SD_SALIENCY_CLASSES)}"))
            continue
        size = image_size(path, problems)
        if size is None:
            continue
        mask = masks.get(path.stem)
        if mask is None:
            problems.append(DatasetProblem(path, "no mask in Ground truth/"))
        else:
            mask_size = image_size(mask, problems)
            if mask_size is None:
                mask = None
            elif mask_size != size:
                problems.append(
                    DatasetProblem(
                        mask, f"mask is {mask_size[0]}x{mask_size[1]}, image is {size[0]}x{size[1]}; mask ignored"
                    )
                )
                mask = None
        samples.append(DatasetSample(path, defect_class, (), mask, "sd-saliency"))
    stems = {p.stem for p in images}
    for stem, mask in sorted(masks.items()):
        if stem not in stems:
            problems.append(DatasetProblem(mask, "mask without image"))
    return Dataset(root, "sd-saliency", samples, problems)
