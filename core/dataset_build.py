"""The build side of a labeled folder (`DatasetExporter.build`): every manifest record is checked against the
folder before it is used (its paths inside the folder, its sizes agreeing with its image, its classes in
classes.txt), and the whole-folder files (split lists, COCO instances, data.yaml) are written from those that pass.
A record that fails is left out with one warning naming the sample and why; a classes.txt whose index order no
longer matches the labels already written refuses the whole build (BuildRefused), since every index would shift."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from core.export_formats import SPLIT_LISTS, TRAIN, VAL, ExportOptions, split_of
from core.export_writers import WRITERS, FolderBuild, SkipSample
from core.fsutil import inside
from core.imageio import ImageError, image_size

log = logging.getLogger(__name__)


class BuildRefused(Exception):
    """The folder cannot be built without corrupting it (e.g. classes.txt no longer matches the labels)."""


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


def folder_builds(root: Path, class_names: list[str], options: ExportOptions) -> list[FolderBuild]:
    """The whole-folder files this build writes: those of the formats asked for, and those an earlier run left in
    the folder (they must describe every sample too, not only the ones of the run that wrote them)."""
    builds = []
    for name, writer in WRITERS.items():
        build = writer.folder_build(root, class_names)
        if build is not None and (name in options.formats or writer.found_in(root)):
            builds.append(build)
    return builds


def build_files(
    root: Path,
    class_names: list[str],
    options: ExportOptions,
    records: list[dict[str, Any]],
    replace: Callable[[Path, bytes | None], None],
) -> dict[str, list[str]]:
    """Write the split lists and each format's whole-folder files (COCO instances, data.yaml) from `records` (each
    checked first) through `replace` (an atomic writer; None removes a stale file). Returns the sample ids of each
    split."""
    check_index_order(root, records, class_names)
    builds = folder_builds(root, class_names, options)
    split = options.val_fraction > 0
    ids: dict[str, list[str]] = {TRAIN: [], VAL: []}
    lines: dict[str, list[str]] = {TRAIN: [], VAL: []}
    for image_id, record in enumerate(records, start=1):
        try:
            sample = check_record(root, record, class_names)
            checked = [build.check(sample) for build in builds]
        except (SkipSample, ImageError) as exc:
            log.warning("%s: sample %r left out of the dataset files: %s", root, record.get("id"), exc)
            continue
        side = split_of(sample.sample_id, options.split_seed, options.val_fraction)
        ids[side].append(sample.sample_id)
        lines[side].append(f"./{sample.image}\n")
        for build, found in zip(builds, checked, strict=True):
            build.add(sample, side, image_id, found)
    replace(Path(SPLIT_LISTS[TRAIN]), "".join(lines[TRAIN]).encode("utf-8"))
    replace(Path(SPLIT_LISTS[VAL]), "".join(lines[VAL]).encode("utf-8") if split else None)
    for build in builds:
        build.write(replace, split)
    log.info("built %s: %d train, %d val", root, len(ids[TRAIN]), len(ids[VAL]))
    return ids
