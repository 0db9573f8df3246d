"""A contact sheet of procedural samples: one row per class, image and mask side by side, to look at by eye."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from core.procedural import NEU_CLASSES, make_sample

_LABEL_WIDTH = 120
_GAP = 4


def contact_sheet(
    seed: int = 0, per_class: int = 4, size: int = 200, classes: Sequence[str] = NEU_CLASSES, boxes: bool = True
) -> np.ndarray:
    """(H, W, 3) uint8 sheet: a row per class of `per_class` (image | mask) pairs, the class name on the left."""
    pair_w = 2 * size + _GAP
    width = _LABEL_WIDTH + per_class * (pair_w + 3 * _GAP)
    height = len(classes) * (size + _GAP) + _GAP
    sheet = np.full((height, width, 3), 40, np.uint8)
    for row, defect_class in enumerate(classes):
        y = _GAP + row * (size + _GAP)
        cv2.putText(
            sheet, defect_class, (6, y + size // 2), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (235, 235, 235), 1, cv2.LINE_AA
        )
        for col in range(per_class):
            sample = make_sample(seed * 1000 + row * 100 + col, size=size, defect_class=defect_class)
            x = _LABEL_WIDTH + col * (pair_w + 3 * _GAP)
            sheet[y : y + size, x : x + size] = sample.image
            mask_rgb = np.repeat((sample.mask.astype(np.uint8) * 255)[:, :, None], 3, axis=2)
            if boxes:
                for box in sample.boxes:
                    cv2.rectangle(mask_rgb, (box.x0, box.y0), (box.x1 - 1, box.y1 - 1), (0, 200, 255), 1)
            sheet[y : y + size, x + size + _GAP : x + pair_w] = mask_rgb
    return sheet


def save_contact_sheet(path: Path, seed: int = 0, per_class: int = 4, size: int = 200) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(contact_sheet(seed, per_class, size)).save(path)
    return path
