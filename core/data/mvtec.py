"""MVTec AD: `<category>/train/good/`, `<category>/test/<defect>/` and `ground_truth/<defect>/<n>_mask.png`.

The root may be the whole MVTec AD folder or one category. Classes are `<category>/<defect>` (`bottle/broken_large`)
because defect names repeat across categories with different looks (`crack`, `scratch`); `good` images are clean.
"""

from __future__ import annotations

from pathlib import Path

from core.data.common import child, image_size, subfolders
from core.data.records import Dataset, DatasetProblem, DatasetSample
from core.image_files import list_images


def _is_category(folder: Path) -> bool:
    train = child(folder, "train")
    has_train_good = train is not None and child(train, "good") is not None
    has_test = child(folder, "test") is not None and child(folder, "ground_truth") is not None
    return has_train_good or has_test


def categories(root: Path) -> list[Path]:
    root = Path(root)
    return [root] if _is_category(root) else [d for d in subfolders(root) if _is_category(d)]


def is_mvtec(root: Path) -> bool:
    return bool(categories(root))


def _read_category(folder: Path, problems: list[DatasetProblem]) -> list[DatasetSample]:
    samples = []
    train = child(folder, "train")
    train_good = child(train, "good") if train else None
    for path in list_images(train_good) if train_good else []:
        if image_size(path, problems) is not None:
            samples.append(DatasetSample(path, None, source="mvtec"))
    truth = child(folder, "ground_truth")
    for defect_dir in subfolders(child(folder, "test")) if child(folder, "test") else []:
        clean = defect_dir.name.lower() == "good"
        defect_class = None if clean else f"{folder.name}/{defect_dir.name}"
        mask_dir = child(truth, defect_dir.name) if truth and not clean else None
        for path in list_images(defect_dir):
            size = image_size(path, problems)
            if size is None:
                continue
            mask = None
            if not clean:
                candidate = mask_dir / f"{path.stem}_mask.png" if mask_dir else None
                if candidate is None or not candidate.is_file():
                    problems.append(DatasetProblem(path, "no mask in ground_truth/"))
                else:
                    mask_size = image_size(candidate, problems)
                    if mask_size is not None and mask_size != size:
                        problems.append(DatasetProblem(candidate, "mask size differs from the image; ignored"))
                    elif mask_size is not None:
                        mask = candidate
            samples.append(DatasetSample(path, defect_class, (), mask, "mvtec"))
    return samples


def read_mvtec(root: Path) -> Dataset:
    root = Path(root)
    problems: list[DatasetProblem] = []
    samples = []
    for folder in categories(root):
        samples += _read_category(folder, problems)
    return Dataset(root, "mvtec", samples, problems)
