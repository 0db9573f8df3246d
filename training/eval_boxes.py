"""The boxes behind eval's generation measures: which held-out defect box each image re-inpaints, how the
erased box's texture compares with the image's own background, and the contact sheet that shows them all."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from training.datasets import PreparedImage, prepare
from training.metrics import texture_distance

MIN_CONTEXT = 0.3  # share of the image a re-inpainted box leaves untouched
MIN_BACKGROUND = 0.2  # clean-up is measured only where this share of the image is defect-free


@dataclass
class Example:
    """A held-out sample ready for the measures: model-size image, defect region, optional clean base."""

    prepared: PreparedImage
    label: int  # -1: no class the bundle knows
    base: np.ndarray | None  # the clean surface under the defect, where the dataset has it


def clean_base(sample, image_size: int) -> np.ndarray | None:
    """Procedural datasets keep the surface before the defect was drawn in CLEAN/<stem>.png."""
    root = sample.image.parent.parent
    clean = root / "CLEAN" / f"{sample.image.stem}.png"
    if not clean.is_file():
        return None
    return prepare(replace(sample, image=clean), image_size).image


def xyxy(box) -> tuple[int, int, int, int]:
    return box.x0, box.y0, box.x1, box.y1


def pick_boxes(
    held: list[Example], classes: list[str], per_class: int
) -> list[tuple[Example, tuple[int, int, int, int]]]:
    """Up to `per_class` held-out images of each class, each with one of its boxes to re-inpaint: the largest
    box that leaves at least MIN_CONTEXT of the image as context (a larger one is shrunk about its centre)."""
    chosen = []
    for name in classes:
        count = 0
        for example in held:
            if count >= per_class:
                break
            boxes = [b for b in example.prepared.boxes if b.defect_class == name]
            if example.prepared.defect_class != name or not boxes:
                continue
            box = max(boxes, key=lambda b: (b.x1 - b.x0) * (b.y1 - b.y0))
            chosen.append((example, inpaint_box(xyxy(box), example.prepared.image.shape[:2])))
            count += 1
    return chosen


def inpaint_box(box: tuple[int, int, int, int], shape: tuple[int, int]) -> tuple[int, int, int, int]:
    """The box to mask and re-inpaint: the defect's box, shrunk about its centre where it would leave less than
    MIN_CONTEXT of the (h, w) image as context."""
    h, w = shape
    limit = (1 - MIN_CONTEXT) * h * w
    x0, y0, x1, y1 = box
    area = (x1 - x0) * (y1 - y0)
    if area > limit:
        shrink = math.sqrt(limit / area)
        cx, cy, bw, bh = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) * shrink, (y1 - y0) * shrink
        x0, x1 = max(0, round(cx - bw / 2)), min(w, round(cx + bw / 2))
        y0, y1 = max(0, round(cy - bh / 2)), min(h, round(cy + bh / 2))
    return x0, y0, x1, y1


def cleanup_row(
    example, mask: np.ndarray, image: np.ndarray, erased: np.ndarray, smooth: np.ndarray
) -> dict[str, float] | None:
    """Texture distances from the image's defect-free background: the erased box, the defect before erasing,
    a smooth fill, and as the floor each half of the image's background (left, right, top, bottom) against
    the whole: how far one stretch of clean surface is from the rest of it."""
    defects = np.zeros_like(mask)
    for b in example.prepared.boxes:
        defects[b.y0 : b.y1, b.x0 : b.x1] = True
    background = ~(cv2.dilate(defects.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0)
    if background.mean() < MIN_BACKGROUND:
        return None
    h, w = mask.shape
    halves = []
    for half in (np.s_[:, : w // 2], np.s_[:, w // 2 :], np.s_[: h // 2, :], np.s_[h // 2 :, :]):
        part = np.zeros_like(mask)
        part[half] = True
        halves.append(texture_distance(image, background & part, background))
    values = {
        "erased": texture_distance(erased, mask, background),
        "defect": texture_distance(image, mask, background),
        "smooth_fill": texture_distance(smooth, mask, background),
        "background": mean_of([v for v in halves if v is not None]),
    }
    return None if any(v is None or math.isnan(v) for v in values.values()) else values  # type: ignore[return-value]


def mean_of(values: list[float]) -> float:
    values = [v for v in values if v is not None and not math.isnan(v)]
    return float(np.mean(values)) if values else float("nan")


def label_tile(text: str, height: int, width: int) -> np.ndarray:
    tile = np.full((height, width, 3), 255, dtype=np.uint8)
    for i, part in enumerate(text.replace("_", " ").replace("-", "- ").split(" ")[:3]):
        cv2.putText(tile, part, (6, 22 + 20 * i), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    return tile


def save_contact_sheet(path: Path, columns: list, classes: list[str]) -> None:
    """One column per held-out image; rows: the original with its mask outlined, each class, clean-up.
    The same backgrounds and masks in every row, so the requested class is the only thing that changes."""
    if not columns:
        return
    size = columns[0][0].prepared.image.shape[0]
    gap = 4

    def outlined(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
        out = image.copy()
        contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        cv2.drawContours(out, contours, -1, (255, 60, 60), 1)
        return out

    rows = [("original (mask outlined)", [outlined(e.prepared.image, m) for e, m, _, _ in columns])]
    rows += [(name, [images[name] for _, _, images, _ in columns]) for name in classes]
    rows += [("clean-up", [erased for *_, erased in columns])]
    lines = []
    for title, tiles in rows:
        cells = [label_tile(title, size, 130)]
        for tile in tiles:
            cells += [np.full((size, gap, 3), 255, np.uint8), cv2.resize(tile, (size, size))]
        lines += [np.concatenate(cells, axis=1), np.full((gap, 130 + len(tiles) * (size + gap), 3), 255, np.uint8)]
    Image.fromarray(np.concatenate(lines[:-1])).save(path)
