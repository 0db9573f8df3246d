"""The export formats derived from a sample's label masks: COCO instances (RLE), YOLO segmentation polygons,
an Ultralytics data.yaml, and the reproducible train/val split they share. Pure functions; core/export.py writes.

No pycocotools or ultralytics here: both are heavy and only the tests need them, to read back what is written.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import yaml

from core.annotations import mask_instances
from core.request import Box

# What a user can ask for; images, masks, classes.txt and the manifest are always written.
FORMATS = ("voc", "yolo", "yolo-seg", "coco")
DEFAULT_FORMATS = ("voc", "yolo")
TRAIN, VAL = "train", "val"
SPLIT_LISTS = {TRAIN: "train.txt", VAL: "val.txt"}  # at the folder's top: ./images/<class>/<id>.png per line


class FormatError(ValueError):
    """Export options that cannot be honoured (an unknown format, a fraction outside 0..1)."""


@dataclass(frozen=True)
class ExportOptions:
    """What a dataset folder holds beside images and masks, and how its samples split into train and val."""

    formats: tuple[str, ...] = DEFAULT_FORMATS
    val_fraction: float = 0.0  # share of images (not instances) that go to val; 0 = no split, val is train
    split_seed: int = 0

    def __post_init__(self) -> None:
        unknown = [f for f in self.formats if f not in FORMATS]
        if unknown:
            raise FormatError(f"unknown export format {unknown[0]!r}; choose from {', '.join(FORMATS)}")
        if not 0.0 <= self.val_fraction < 1.0:
            raise FormatError(f"the validation fraction must be from 0 to below 1, got {self.val_fraction}")

    @classmethod
    def parse_formats(cls, text: str) -> tuple[str, ...]:
        """`voc,yolo,coco` -> ('voc', 'yolo', 'coco'), in the order given, duplicates dropped."""
        formats = tuple(dict.fromkeys(part.strip().lower() for part in text.split(",") if part.strip()))
        if not formats:
            raise FormatError(f"no export format given; choose from {', '.join(FORMATS)}")
        cls(formats=formats)  # validates
        return formats


def split_of(sample_id: str, seed: int, val_fraction: float) -> str:
    """TRAIN or VAL for one image, from its id and the seed alone: the same on every build, and a sample keeps
    its side when the folder grows (a split by position would reshuffle old samples into val)."""
    if val_fraction <= 0:
        return TRAIN
    digest = hashlib.sha256(f"{seed}\0{sample_id}".encode()).digest()
    return VAL if int.from_bytes(digest[:8], "big") / 2**64 < val_fraction else TRAIN


# ---- COCO -------------------------------------------------------------------------------------------------


def rle_encode(mask: np.ndarray) -> dict[str, Any]:
    """COCO's compressed RLE of a boolean mask (column-major runs, zeros first, as pycocotools' mask.encode
    writes them), so a reader decodes exactly our pixels; a polygon would lose the ragged edge."""
    height, width = mask.shape
    flat = np.asarray(mask, bool).ravel(order="F")
    changes = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    bounds = np.concatenate(([0], changes, [flat.size]))
    counts = np.diff(bounds).tolist()
    if flat.size and flat[0]:
        counts.insert(0, 0)
    out = []
    for index, count in enumerate(counts):
        value = count - counts[index - 2] if index > 2 else count
        while True:
            chunk = value & 0x1F
            value >>= 5
            more = value != -1 if chunk & 0x10 else value != 0
            out.append(chr(chunk + 48 + (0x20 if more else 0)))
            if not more:
                break
    return {"size": [height, width], "counts": "".join(out)}


def coco_annotations(
    masks: dict[str, np.ndarray], class_names: list[str], image_id: int, first_id: int
) -> list[dict[str, Any]]:
    """One COCO annotation per instance (8-connected region) of each class's mask; ids from `first_id`."""
    out = []
    for name, mask in masks.items():
        for instance in (each.pixels for each in mask_instances(mask)):
            ys, xs = np.nonzero(instance)
            x0, y0 = int(xs.min()), int(ys.min())
            out.append(
                {
                    "id": first_id + len(out),
                    "image_id": image_id,
                    "category_id": class_names.index(name) + 1,
                    "segmentation": rle_encode(instance),
                    "area": int(instance.sum()),
                    "bbox": [x0, y0, int(xs.max()) + 1 - x0, int(ys.max()) + 1 - y0],
                    "iscrowd": 0,
                }
            )
    return out


def coco_categories(class_names: list[str]) -> list[dict[str, Any]]:
    # Ids from 1: several trainers (torchvision's references, older MMDetection) keep 0 for the background.
    return [{"id": index + 1, "name": name, "supercategory": "defect"} for index, name in enumerate(class_names)]


# ---- YOLO segmentation ------------------------------------------------------------------------------------


def yolo_box_lines(boxes: list[Box], class_names: list[str], width: int, height: int) -> bytes:
    """YOLO detection labels: one `class cx cy w h` line per box, normalised to the image."""
    lines = []
    for box in boxes:
        cx, cy = (box.x0 + box.x1) / 2 / width, (box.y0 + box.y1) / 2 / height
        w, h = (box.x1 - box.x0) / width, (box.y1 - box.y0) / height
        lines.append(f"{class_names.index(box.defect_class)} {cx:.6f} {cy:.6f} {w:.6f} {h:.6f}\n")
    return "".join(lines).encode("ascii")


def yolo_polygon_lines(masks: dict[str, np.ndarray], class_names: list[str]) -> bytes:
    """YOLO segmentation labels: `class x1 y1 x2 y2 ...` normalised, one line per instance, traced along its
    outer edge through pixel centres (holes are filled: YOLO polygons have none). Every line has at least three
    points, so Ultralytics reads the file as polygons (a one-pixel instance becomes its pixel's square)."""
    lines = []
    for name, mask in masks.items():
        height, width = mask.shape
        index = class_names.index(name)
        for instance in (each.pixels for each in mask_instances(mask)):
            contours, _ = cv2.findContours(instance.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
            points = max(contours, key=len).reshape(-1, 2).astype(np.float64) + 0.5
            if len(points) < 3:
                ys, xs = np.nonzero(instance)
                x0, y0, x1, y1 = xs.min(), ys.min(), xs.max() + 1, ys.max() + 1
                points = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float64)
            points /= (width, height)
            np.clip(points, 0.0, 1.0, out=points)
            lines.append(f"{index} " + " ".join(f"{v:.6f}" for v in points.ravel()) + "\n")
    return "".join(lines).encode("ascii")


# ---- Ultralytics --------------------------------------------------------------------------------------------


def ultralytics_yaml(class_names: list[str], train_list: str, val_list: str) -> bytes:
    """data.yaml for Ultralytics. No `path`: Ultralytics then resolves the lists beside this file, so the folder
    can move; the lists hold `./images/<class>/<id>.png`, whose labels it finds at labels/<class>/<id>.txt."""
    data = {"train": train_list, "val": val_list, "nc": len(class_names), "names": dict(enumerate(class_names))}
    header = (
        "# Written by DefectForge from manifest.jsonl; rebuilt after each export run. Use with\n"
        "#   yolo segment train data=data.yaml   (or yolo detect train: it reads the polygons as boxes)\n"
    )
    return (header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True)).encode("utf-8")
