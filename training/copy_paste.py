"""The model-free baseline of `eval downstream`: a real defect crop pasted into another real image with Poisson
blending (cv2.seamlessClone), the augmentation an inspector could make without DefectForge.

A detector gains from it because the defect is real; DefectForge has a reason to exist only where its samples
beat this at the same counts and the same optimiser steps.
"""

from __future__ import annotations

import cv2
import numpy as np

from core.request import Box

MARGIN = 4  # source pixels around the box travel with it: a defect's own edges must lie inside the blended area
PAD = 2  # the target is padded so a paste touching its border still has a blending boundary
TRIES = 24  # random places tried; the one overlapping the target's own boxes least wins


def _overlap(x0: int, y0: int, x1: int, y1: int, boxes: tuple[Box, ...]) -> int:
    return sum(max(0, min(x1, b.x1) - max(x0, b.x0)) * max(0, min(y1, b.y1) - max(y0, b.y0)) for b in boxes)


def paste_defect(
    target: np.ndarray,
    target_boxes: tuple[Box, ...],
    source: np.ndarray,
    box: tuple[int, int, int, int],
    name: str,
    rng: np.random.Generator,
) -> tuple[np.ndarray, tuple[Box, ...], tuple[int, int, int, int]]:
    """`source`'s `box` (x0, y0, x1, y1) Poisson-blended into `target` (H, W, 3) uint8 at a seeded place that
    overlaps the target's own boxes least. Returns the image, its boxes (the target's, less any the paste covers
    by more than half, plus the pasted one as `name`) and the pasted box."""
    height, width = target.shape[:2]
    sh, sw = source.shape[:2]
    bx0, by0, bx1, by1 = box
    # the crop: the box plus MARGIN where the source has it, never larger than the target
    x0, y0 = max(0, bx0 - MARGIN), max(0, by0 - MARGIN)
    x1, y1 = min(sw, bx1 + MARGIN, x0 + width), min(sh, by1 + MARGIN, y0 + height)
    crop = np.ascontiguousarray(source[y0:y1, x0:x1])
    bh, bw = crop.shape[:2]
    if bh < 3 or bw < 3:
        raise ValueError(f"a {bw}x{bh} px box is too small to paste")
    # where the defect's own box lies in the crop, clipped to the blended interior
    inner = (max(1, bx0 - x0), max(1, by0 - y0), min(bw - 1, bx1 - x0), min(bh - 1, by1 - y0))
    places = [(int(rng.integers(0, width - bw + 1)), int(rng.integers(0, height - bh + 1))) for _ in range(TRIES)]

    def placed(left: int, top: int) -> tuple[int, int, int, int]:
        return left + inner[0], top + inner[1], left + inner[2], top + inner[3]

    left, top = min(places, key=lambda p: _overlap(*placed(*p), target_boxes))
    padded = cv2.copyMakeBorder(target, PAD, PAD, PAD, PAD, cv2.BORDER_REFLECT)
    mask = np.zeros((bh, bw), dtype=np.uint8)
    mask[1:-1, 1:-1] = 255  # a frame of target pixels gives the Poisson equation its boundary
    # OpenCV puts the mask's first nonzero column at center.x - (last - first) // 2 (inclusive indices 1..bw-2),
    # so this centre lands the crop's pixel (1, 1) on the target's (left + 1, top + 1), the frame on the rest.
    centre = (PAD + left + 1 + (bw - 3) // 2, PAD + top + 1 + (bh - 3) // 2)
    blended = cv2.seamlessClone(crop, padded, mask, centre, cv2.NORMAL_CLONE)
    image = blended[PAD : PAD + height, PAD : PAD + width]
    pasted = placed(left, top)
    kept = tuple(b for b in target_boxes if _overlap(*pasted, (b,)) * 2 <= max(1, (b.x1 - b.x0) * (b.y1 - b.y0)))
    return np.ascontiguousarray(image), (*kept, Box(name, *pasted)), pasted
