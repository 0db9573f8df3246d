"""GC10-DET: images in folders `1` … `10`, Pascal VOC in `lable/` (sic) with pinyin class names.

Quirks of the public release, handled here: the `10_yaozhed` spelling of `10_yaozhe`; the same image name in
two class folders (the folder is only the dominant defect; the XML is the truth, so the first copy is used);
images without an XML (reported, skipped: they carry no labels); a stray class `d` (reported, dropped).
Class names stay pinyin; a class map turns them into English (`1_chongkong` -> `punching_hole`).
"""

from __future__ import annotations

from pathlib import Path

from core.data.common import child, index_by_stem, subfolders
from core.data.neu_det import read_voc_pairs
from core.data.records import Dataset, DatasetProblem
from core.image_files import list_images

GC10_CLASSES = (
    "1_chongkong",
    "2_hanfeng",
    "3_yueyawan",
    "4_shuiban",
    "5_youban",
    "6_siban",
    "7_yiwu",
    "8_yahen",
    "9_zhehen",
    "10_yaozhe",
)
GC10_ALIASES = {"10_yaozhed": "10_yaozhe"}


def _label_dir(root: Path) -> Path | None:
    return child(root, "lable", "label")


def _image_dirs(root: Path) -> list[Path]:
    numbered = [d for d in subfolders(root) if d.name.isdigit()]
    return sorted(numbered, key=lambda d: int(d.name))


def is_gc10(root: Path) -> bool:
    return _label_dir(Path(root)) is not None and bool(_image_dirs(Path(root)))


def read_gc10(root: Path) -> Dataset:
    root = Path(root)
    problems: list[DatasetProblem] = []
    label_dir = _label_dir(root)
    paths = [path for folder in _image_dirs(root) for path in list_images(folder)]
    images = index_by_stem(paths, problems)
    xml_files = sorted(label_dir.glob("*.xml")) if label_dir else []
    before = len(problems)
    samples = read_voc_pairs(images, xml_files, frozenset(GC10_CLASSES), "gc10", problems, aliases=GC10_ALIASES)
    # A GC10 image without XML has no labels at all (its folder is not a reliable class): say why it is skipped.
    for problem in problems[before:]:
        if problem.message == "image without annotation":
            problem.message = "image without annotation in lable/; skipped"
    return Dataset(root, "gc10", samples, problems)
