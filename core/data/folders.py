"""Folder-per-class datasets: plain `<root>/<class>/…` and X-SDD (`datas/<class>/`, jpg and png mixed)."""

from __future__ import annotations

from pathlib import Path

from core.data.common import child, image_size, subfolders
from core.data.records import Dataset, DatasetProblem, DatasetSample
from core.image_files import list_images

# Folders of defect-free pictures, as people name them; their images get no class.
CLEAN_FOLDER_NAMES = frozenset({"good", "ok", "clean", "normal", "no_defect", "defect_free"})


def _read_class_folders(root: Path, base: Path, kind: str) -> Dataset:
    problems: list[DatasetProblem] = []
    samples = []
    for class_dir in subfolders(base):
        defect_class = None if class_dir.name.lower() in CLEAN_FOLDER_NAMES else class_dir.name
        images = list_images(class_dir, recursive=True)
        if not images:
            problems.append(DatasetProblem(class_dir, "class folder holds no images"))
        for path in images:
            if image_size(path, problems) is not None:
                samples.append(DatasetSample(path, defect_class, source=kind))
    for path in list_images(base):
        problems.append(DatasetProblem(path, "image outside any class folder; ignored"))
    return Dataset(root, kind, samples, problems)


def is_class_folders(root: Path) -> bool:
    return any(list_images(folder, recursive=True) for folder in subfolders(Path(root)))


def read_class_folders(root: Path) -> Dataset:
    """Each subfolder is a class (`good`, `ok`, `clean`, … hold clean images); nested folders count too."""
    return _read_class_folders(Path(root), Path(root), "folders")


def _xsdd_base(root: Path) -> Path | None:
    return root if root.name.lower() == "datas" else child(root, "datas")


def is_xsdd(root: Path) -> bool:
    base = _xsdd_base(Path(root))
    return base is not None and bool(subfolders(base))


def read_xsdd(root: Path) -> Dataset:
    root = Path(root)
    base = _xsdd_base(root)
    if base is None:
        return Dataset(root, "x-sdd", [], [DatasetProblem(root, "no datas/ folder")])
    return _read_class_folders(root, base, "x-sdd")
