"""NEU-DET readers: the flat `IMAGES/` + `ANNOTATIONS/` layout, the `train|validation/images/<class>/` +
`train|validation/annotations/` split, and our procedural layout (flat NEU-DET plus `MASKS/`)."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import yaml

from core.annotations import VocError, read_voc
from core.choices import is_image_name
from core.data.common import check_boxes, child, image_size, index_by_stem, main_class, subfolders
from core.data.records import Dataset, DatasetProblem, DatasetSample
from core.image_files import list_images
from core.names import NEU_CLASSES

log = logging.getLogger(__name__)

SPLITS = ("train", "validation", "val", "test")
_NUMBERED = re.compile(r"^(?P<name>.+?)_\d+$")


def class_from_stem(stem: str, known: frozenset[str]) -> str | None:
    """NEU-DET names files `<class>_<n>`; the class part, when it is a known class."""
    match = _NUMBERED.match(stem)
    return match.group("name") if match and match.group("name") in known else None


def _image_for(filename: str, xml_path: Path, images: dict[str, Path]) -> Path | None:
    """The image an annotation describes: by its <filename> (which NEU-DET sometimes leaves without `.jpg`),
    else by the annotation's own file name."""
    if filename:
        stem = Path(filename).stem if is_image_name(filename) else filename
        if stem in images:
            return images[stem]
    return images.get(xml_path.stem)


def read_voc_pairs(
    images: dict[str, Path],
    xml_files: list[Path],
    known: frozenset[str],
    source: str,
    problems: list[DatasetProblem],
    image_classes: dict[str, str] | None = None,
    masks: dict[str, Path] | None = None,
    aliases: dict[str, str] | None = None,
) -> list[DatasetSample]:
    """Samples from images (by stem) and VOC files; every mismatch becomes a problem, never an exception.

    `image_classes` gives a class per image stem where the layout says it (a class folder); `aliases` renames
    object names before they are checked against `known`.
    """
    image_classes = image_classes or {}
    masks = masks or {}
    aliases = aliases or {}
    samples = []
    annotated: set[Path] = set()
    for xml_path in xml_files:
        try:
            annotation = read_voc(xml_path)
        except VocError as error:
            problems.append(DatasetProblem(xml_path, str(error)))
            continue
        image_path = _image_for(annotation.filename, xml_path, images)
        if image_path is None:
            problems.append(DatasetProblem(xml_path, f"annotation without image ({annotation.filename or '?'})"))
            continue
        if image_path in annotated:
            problems.append(DatasetProblem(xml_path, f"a second annotation for {image_path.name}; ignored"))
            continue
        annotated.add(image_path)
        size = image_size(image_path, problems)
        if size is None:
            continue
        if annotation.width and annotation.height and (annotation.width, annotation.height) != size:
            problems.append(
                DatasetProblem(
                    xml_path, f"annotation says {annotation.width}x{annotation.height}, image is {size[0]}x{size[1]}"
                )
            )
        boxes = []
        for obj in annotation.objects:
            name = aliases.get(obj.name, obj.name)
            if name not in known:
                problems.append(DatasetProblem(xml_path, f"unknown class {obj.name!r}; box dropped"))
                continue
            boxes.append(obj.to_box(name))
        boxes = list(check_boxes(boxes, size, xml_path, problems))
        if not annotation.objects:
            problems.append(DatasetProblem(xml_path, "annotation has no objects"))
        fallback = image_classes.get(image_path.stem) or class_from_stem(image_path.stem, known)
        defect_class = main_class(boxes, fallback)
        if defect_class is None:
            continue
        mask = masks.get(image_path.stem)
        samples.append(DatasetSample(image_path, defect_class, tuple(boxes), mask, source))
    for stem, image_path in sorted(images.items()):
        if image_path in annotated:
            continue
        problems.append(DatasetProblem(image_path, "image without annotation"))
        defect_class = image_classes.get(stem) or class_from_stem(stem, known)
        if defect_class and image_size(image_path, problems) is not None:
            samples.append(DatasetSample(image_path, defect_class, (), masks.get(stem), source))
    return samples


def is_flat(root: Path) -> bool:
    return child(root, "IMAGES") is not None and child(root, "ANNOTATIONS") is not None


def split_folders(root: Path) -> list[Path]:
    """Split folders (train/validation/...) that hold `images/` and `annotations/`; the root itself if it does."""
    found = [folder for folder in subfolders(root) if folder.name.lower() in SPLITS and _is_split(folder)]
    if not found and _is_split(root) and not is_flat(root):
        found = [root]
    return found


def _is_split(folder: Path) -> bool:
    images = child(folder, "images")
    return images is not None and child(folder, "annotations") is not None and bool(subfolders(images))


def read_neu_det(root: Path) -> Dataset:
    """NEU-DET in either layout; object names must be the six NEU classes (or the split's class folders)."""
    root = Path(root)
    problems: list[DatasetProblem] = []
    samples: list[DatasetSample] = []
    if is_flat(root):
        images = index_by_stem(list_images(child(root, "IMAGES")), problems)
        xml_files = sorted(child(root, "ANNOTATIONS").glob("*.xml"))
        samples = read_voc_pairs(images, xml_files, frozenset(NEU_CLASSES), "neu-det", problems)
    for split in split_folders(root):
        class_dirs = subfolders(child(split, "images"))
        known = frozenset(NEU_CLASSES) | {d.name for d in class_dirs}
        paths, image_classes = [], {}
        for class_dir in class_dirs:
            for path in list_images(class_dir):
                paths.append(path)
                image_classes.setdefault(path.stem, class_dir.name)
        images = index_by_stem(paths, problems)
        xml_files = sorted(child(split, "annotations").glob("*.xml"))
        samples += read_voc_pairs(images, xml_files, known, "neu-det", problems, image_classes)
    return Dataset(root, "neu-det", samples, problems)


def is_procedural(root: Path) -> bool:
    return is_flat(root) and (child(root, "MASKS") is not None or (root / "procedural.yaml").is_file())


def read_procedural(root: Path) -> Dataset:
    """Our own `write_neu_det` output: NEU-DET flat layout with exact masks in `MASKS/<stem>.png`."""
    root = Path(root)
    problems: list[DatasetProblem] = []
    known = set(NEU_CLASSES)
    provenance = root / "procedural.yaml"
    if provenance.is_file():
        try:
            known |= set((yaml.safe_load(provenance.read_text(encoding="utf-8")) or {}).get("classes") or [])
        except (yaml.YAMLError, OSError, AttributeError) as error:
            problems.append(DatasetProblem(provenance, f"unreadable provenance: {error}"))
    images = index_by_stem(list_images(child(root, "IMAGES")), problems)
    mask_dir = child(root, "MASKS")
    masks = {p.stem: p for p in list_images(mask_dir)} if mask_dir else {}
    for stem in sorted(set(images) - set(masks)):
        problems.append(DatasetProblem(images[stem], "no mask in MASKS/"))
    for stem in sorted(set(masks) - set(images)):
        problems.append(DatasetProblem(masks[stem], "mask without image"))
    xml_files = sorted(child(root, "ANNOTATIONS").glob("*.xml"))
    samples = read_voc_pairs(images, xml_files, frozenset(known), "procedural", problems, masks=masks)
    return Dataset(root, "procedural", samples, problems)
