"""The build side of a labeled folder (`DatasetExporter.build`): every manifest record is checked against the
folder before it is used (its paths inside the folder, its sizes agreeing with its image, its classes in
classes.txt), and the whole-folder files (split lists, COCO instances, data.yaml) are written from those that pass.
A record that fails is left out with one warning naming the sample and why; a classes.txt whose index order no
longer matches the labels already written refuses the whole build (BuildRefused), since every index would shift."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import cv2
import numpy as np

from core.annotations import CONNECTIVITY
from core.export_formats import (
    TRAIN,
    VAL,
    ExportOptions,
    coco_annotations,
    coco_categories,
    split_of,
    ultralytics_yaml,
)
from core.fsutil import inside
from core.imageio import ImageError, image_size, load_mask
from core.resources import app_version

log = logging.getLogger(__name__)

COCO_FILE = "instances.json"  # under annotations/
DATA_YAML = "data.yaml"
SPLIT_LISTS = {TRAIN: "train.txt", VAL: "val.txt"}
# A mask of more separate regions than this is noise, not defects: counting them is cheap, but one COCO
# annotation per region would take minutes and gigabytes (5,329 regions: 74 s, 5.9 GB).
MAX_REGIONS_PER_MASK = 1000


class BuildRefused(Exception):
    """The folder cannot be built without corrupting it (e.g. classes.txt no longer matches the labels)."""


class SkipSample(Exception):
    """This record cannot be described truthfully; it is left out of the whole-folder files."""


@dataclass
class Sample:
    sample_id: str
    image: str  # images/<folder>/<id>.png, relative to the root
    size: tuple[int, int]  # the image's (width, height), from its header
    masks: dict[str, str] = field(default_factory=dict)  # class -> masks/<class>/<id>.png
    has_polygons: bool = False


def _relative_path(root: Path, value: Any) -> PurePosixPath:
    if not isinstance(value, str) or not value or "\\" in value or "\0" in value:
        raise SkipSample(f"a file entry {value!r} is not a relative path")
    path = PurePosixPath(value)
    if path.is_absolute() or ".." in path.parts or not inside(root, root / path):
        raise SkipSample(f"it names {value}, which is outside the folder")
    return path


def check_record(root: Path, record: dict[str, Any], class_names: list[str]) -> Sample:
    """The sample a manifest record describes, proven against the folder; SkipSample(reason) otherwise."""
    sample_id = record.get("id")
    if not isinstance(sample_id, str) or not sample_id:
        raise SkipSample("it has no id")
    files = record.get("files")
    if not isinstance(files, list):
        raise SkipSample("its 'files' is not a list of paths")
    paths = [_relative_path(root, value) for value in files]
    images = [p for p in paths if p.parts[0] == "images" and len(p.parts) == 3]
    if len(images) != 1:
        raise SkipSample("it does not name exactly one image under images/<folder>/")
    masks = {}
    for path in paths:
        if path.parts[0] == "masks":
            if len(path.parts) != 3 or path.parts[1] not in class_names:
                raise SkipSample(f"its mask {path} is not under masks/<a class of classes.txt>/")
            masks[path.parts[1]] = str(path)
    for path in [images[0], *map(PurePosixPath, masks.values())]:
        if not (root / path).is_file():
            raise SkipSample(f"{path} is missing")
    try:
        size = image_size(root / images[0])
        for mask in masks.values():
            mask_size = image_size(root / mask, what="mask")
            if mask_size != size:
                raise SkipSample(
                    f"its mask {mask} is {mask_size[0]}x{mask_size[1]} but the image is {size[0]}x{size[1]}"
                )
    except ImageError as exc:
        raise SkipSample(str(exc)) from None
    recorded = record.get("size")
    if recorded is not None and (not isinstance(recorded, list) or [*recorded] != [*size]):
        raise SkipSample(f"the manifest gives its size as {recorded!r} but the image is {size[0]}x{size[1]}")
    has_polygons = any(p.parts[0] == "labels" and len(p.parts) == 3 for p in paths)
    return Sample(sample_id, str(images[0]), size, masks, has_polygons)


def check_index_order(root: Path, records: list[dict[str, Any]], class_names: list[str]) -> None:
    """BuildRefused unless classes.txt still lists every class the samples hold, at the YOLO index their label
    files were written with (a hand-reordered or shortened classes.txt would relabel every sample)."""
    written: dict[int, tuple[str, str]] = {}  # index -> (class, the label file that says so)
    for record in records:
        classes = record.get("classes")
        for name in classes if isinstance(classes, list) else []:
            if isinstance(name, str) and name not in class_names:
                raise BuildRefused(
                    f"sample {record.get('id')!r} is of class {name!r}, which classes.txt no longer lists; "
                    "removing a class shifts every YOLO index after it. Put it back where it was."
                )
        files = record.get("files") if isinstance(record.get("files"), list) else []
        boxes = record.get("boxes") if isinstance(record.get("boxes"), list) else []
        seen = {name for name, _ in written.values()}
        if all(isinstance(box, list) and box and box[0] in seen for box in boxes):
            continue  # one witness per class is enough: every export checked classes.txt as it wrote
        for value in files:
            if not isinstance(value, str) or not value.startswith("labels/") or value.count("/") != 1:
                continue
            try:
                path = _relative_path(root, value)
                lines = (root / path).read_text(encoding="ascii").splitlines()
            except (SkipSample, OSError, UnicodeDecodeError):
                continue
            for line, box in zip(lines, boxes, strict=False):
                head = line.split(maxsplit=1)[:1]
                if head and head[0].isdigit() and isinstance(box, list) and box and isinstance(box[0], str):
                    written.setdefault(int(head[0]), (box[0], value))
    for index, (name, where) in sorted(written.items()):
        listed = class_names[index] if index < len(class_names) else None
        if listed != name:
            raise BuildRefused(
                f"classes.txt gives YOLO index {index} to {listed!r}, but {where} was written with {name!r} there; "
                "the index order already written is part of the dataset: restore classes.txt's order"
            )


def _region_count(mask: np.ndarray) -> int:
    count, _ = cv2.connectedComponents(mask.astype(np.uint8), connectivity=CONNECTIVITY)
    return count - 1


def whole_folder_formats(root: Path, options: ExportOptions) -> set[str]:
    """The formats whose whole-folder files this build writes: those asked for, and those an earlier run left
    in the folder (they must describe every sample too, not only the ones of the run that wrote them)."""
    formats = set(options.formats)
    if (root / "annotations" / COCO_FILE).exists():
        formats.add("coco")
    if (root / DATA_YAML).exists():
        formats.add("yolo-seg")
    return formats


def build_files(
    root: Path,
    class_names: list[str],
    options: ExportOptions,
    records: list[dict[str, Any]],
    replace: Callable[[Path, bytes | None], None],
) -> dict[str, list[str]]:
    """Write the split lists, COCO instances and data.yaml from `records` (each checked first) through `replace`
    (an atomic writer; None removes a stale file). Returns the sample ids of each split."""
    check_index_order(root, records, class_names)
    formats = whole_folder_formats(root, options)
    split = options.val_fraction > 0
    ids: dict[str, list[str]] = {TRAIN: [], VAL: []}
    lines: dict[str, list[str]] = {TRAIN: [], VAL: []}
    coco: dict[str, dict[str, list]] = {name: {"images": [], "annotations": []} for name in ("all", TRAIN, VAL)}
    without_polygons = 0
    for image_id, record in enumerate(records, start=1):
        try:
            sample = check_record(root, record, class_names)
            masks = {}
            if "coco" in formats:
                for name, mask_file in sample.masks.items():
                    masks[name] = load_mask(root / mask_file, sample.size)
                    regions = _region_count(masks[name])
                    if regions > MAX_REGIONS_PER_MASK:
                        raise SkipSample(
                            f"its {name} mask has {regions} separate regions (at most {MAX_REGIONS_PER_MASK}): noise, "
                            "not defects"
                        )
        except (SkipSample, ImageError) as exc:
            log.warning("%s: sample %r left out of the dataset files: %s", root, record.get("id"), exc)
            continue
        side = split_of(sample.sample_id, options.split_seed, options.val_fraction)
        ids[side].append(sample.sample_id)
        lines[side].append(f"./{sample.image}\n")
        if "yolo-seg" in formats and not sample.has_polygons:
            without_polygons += 1
        if "coco" in formats:
            width, height = sample.size
            entry = {"id": image_id, "file_name": sample.image, "width": width, "height": height}
            for name in ("all", side):
                annotations = coco[name]["annotations"]
                coco[name]["images"].append(entry)
                annotations += coco_annotations(masks, class_names, image_id, len(annotations) + 1)
    if without_polygons:
        log.warning(
            "%d sample(s) in %s were exported without yolo-seg labels; Ultralytics sees them as images without defects",
            without_polygons,
            root,
        )
    replace(Path(SPLIT_LISTS[TRAIN]), "".join(lines[TRAIN]).encode("utf-8"))
    replace(Path(SPLIT_LISTS[VAL]), "".join(lines[VAL]).encode("utf-8") if split else None)
    if "coco" in formats:
        for name, target in (("all", COCO_FILE), (TRAIN, "instances_train.json"), (VAL, "instances_val.json")):
            data = None
            if name == "all" or split:
                data = json.dumps(
                    {
                        "info": {"description": "DefectForge synthetic defects", "version": app_version()},
                        **coco[name],
                        "categories": coco_categories(class_names),
                    }
                ).encode()
            replace(Path("annotations", target), data)
    if "yolo-seg" in formats:
        val_list = SPLIT_LISTS[VAL] if split else SPLIT_LISTS[TRAIN]
        replace(Path(DATA_YAML), ultralytics_yaml(class_names, SPLIT_LISTS[TRAIN], val_list))
    log.info("built %s: %d train, %d val", root, len(ids[TRAIN]), len(ids[VAL]))
    return ids
