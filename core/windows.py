"""Where the model looks: square windows around each mask region, mapped to and from the model's resolution.

The model sees `model_size` x `model_size` pixels. Each cluster of nearby mask regions gets one window with
context around it, cut from the image; where the image is smaller than the window in one direction the crop is
padded to a square by mirroring, then resized to the model size: upscaled for a small image (NEU's 200x200),
downscaled for a mask larger than the model size, not resampled at all when it fits (a small mask on a large
image). Regions far apart get a window each.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

# Mask regions closer than this share of the model size start out in one cluster (one window, one pass).
_CLUSTER_REACH = 0.125


@dataclass(frozen=True)
class Window:
    """A crop of the image (x1, y1 exclusive), padded to `side` x `side` and resized to `model_size`."""

    x0: int
    y0: int
    x1: int
    y1: int
    side: int
    model_size: int

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    @property
    def scale(self) -> float:
        """Model pixels per image pixel."""
        return self.model_size / self.side

    def crop(self, image: np.ndarray) -> np.ndarray:
        """The window's pixels of a full-size image (a view)."""
        return image[self.y0 : self.y1, self.x0 : self.x1]

    @staticmethod
    def _resize(array: np.ndarray, size: int) -> np.ndarray:
        if array.shape[0] == size and array.shape[1] == size:
            return array.copy()
        # Area averaging only pays off from 2x down; below that it blurs (NEU's 256 -> 200 round trip loses
        # twice the detail it does with cubic), and cubic does not alias yet.
        interpolation = cv2.INTER_AREA if array.shape[0] >= 2 * size else cv2.INTER_CUBIC
        return cv2.resize(array, (size, size), interpolation=interpolation)

    def to_model(self, crop: np.ndarray) -> np.ndarray:
        """A crop (h, w, C) uint8 as the model's (S, S, C) input: mirrored to a square, then resized."""
        pad = ((0, self.side - crop.shape[0]), (0, self.side - crop.shape[1])) + ((0, 0),) * (crop.ndim - 2)
        square = np.pad(crop, pad, mode="symmetric") if any(p[1] for p in pad) else crop
        return self._resize(np.ascontiguousarray(square), self.model_size)

    def mask_to_model(self, crop_mask: np.ndarray) -> np.ndarray:
        """A crop mask as (S, S) bool; a pixel counts if any mask pixel covers it (thin lines never vanish)."""
        square = np.zeros((self.side, self.side), dtype=np.float32)
        square[: crop_mask.shape[0], : crop_mask.shape[1]] = crop_mask
        if self.side == self.model_size:
            return square > 0
        interpolation = cv2.INTER_AREA if self.side > self.model_size else cv2.INTER_LINEAR
        return cv2.resize(square, (self.model_size, self.model_size), interpolation=interpolation) > 0

    def from_model(self, model_image: np.ndarray) -> np.ndarray:
        """Model-resolution pixels (S, S, C) uint8 back at crop resolution (h, w, C)."""
        square = self._resize(model_image, self.side)
        return square[: self.height, : self.width]

    def model_box_to_crop(self, box: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
        """A model-pixel box (x0, y0, x1, y1) as the crop-pixel box covering it, clipped to the crop."""
        inverse = self.side / self.model_size
        x0, y0 = math.floor(box[0] * inverse), math.floor(box[1] * inverse)
        x1, y1 = math.ceil(box[2] * inverse), math.ceil(box[3] * inverse)
        return max(0, x0), max(0, y0), min(self.width, x1), min(self.height, y1)

    def patch_to_crop(
        self, patch: np.ndarray, box: tuple[int, int, int, int]
    ) -> tuple[tuple[int, int, int, int], np.ndarray]:
        """Model pixels `patch` of model box `box` resized to crop resolution: (crop box, pixels)."""
        inverse = self.side / self.model_size
        x0, y0 = math.floor(box[0] * inverse), math.floor(box[1] * inverse)
        x1, y1 = max(x0 + 1, math.ceil(box[2] * inverse)), max(y0 + 1, math.ceil(box[3] * inverse))
        if patch.shape[1] != x1 - x0 or patch.shape[0] != y1 - y0:
            interpolation = cv2.INTER_AREA if patch.shape[1] >= 2 * (x1 - x0) else cv2.INTER_CUBIC
            patch = cv2.resize(patch, (x1 - x0, y1 - y0), interpolation=interpolation)
        cx0, cy0, cx1, cy1 = max(0, x0), max(0, y0), min(self.width, x1), min(self.height, y1)
        return (cx0, cy0, cx1, cy1), patch[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0]


@dataclass
class WindowPlan:
    """One window and the part of the layer's mask it inpaints, (h, w) bool in crop coordinates."""

    window: Window
    mask: np.ndarray


def window_side(extent: int, model_size: int, context_margin: float, guard_px: int) -> int:
    """Side of the square window (image pixels) for a mask box whose longer side is `extent`.

    At least the model size (so a small mask is never upsampled), the box plus `context_margin` of it on each
    side, and enough that `guard_px` model pixels (feather band and a token of context) fit around the box.
    """
    side = max(model_size, math.ceil(extent * (1 + 2 * max(0.0, context_margin))))
    room = model_size - 2 * guard_px
    if room > 0:
        side = max(side, math.ceil(extent * model_size / room))
    return side


def _fit(box: tuple[int, int, int, int], side: int, width: int, height: int, model_size: int) -> Window:
    crop_w, crop_h = min(side, width), min(side, height)
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    x0 = int(min(max(round(cx - crop_w / 2), 0), width - crop_w))
    y0 = int(min(max(round(cy - crop_h / 2), 0), height - crop_h))
    return Window(x0, y0, x0 + crop_w, y0 + crop_h, max(crop_w, crop_h), model_size)


def _union(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    return min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])


def _extent(box: tuple[int, int, int, int]) -> int:
    return max(box[2] - box[0], box[3] - box[1])


def plan_windows(
    mask: np.ndarray, model_size: int, context_margin: float = 0.5, guard_px: int = 16
) -> list[WindowPlan]:
    """Windows covering every pixel of `mask` (H, W): one per cluster of nearby regions, top-left first.

    Two clusters share a window when together they fit in the window one of them needs anyway.
    """
    height, width = mask.shape
    mask = mask.astype(bool)
    reach = max(1, round(model_size * _CLUSTER_REACH))
    near = cv2.dilate(mask.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_RECT, (reach, reach)))
    count, labels = cv2.connectedComponents(near, connectivity=8)
    # Each cluster's box is the union of its own mask regions' boxes (not of the grown region).
    parts, part_labels, part_stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    cluster_of_part = np.zeros(parts, dtype=np.int64)
    cluster_of_part[part_labels[mask]] = labels[mask]  # a region lies inside one grown cluster
    boxes: dict[int, tuple[int, int, int, int]] = {}
    for part in range(1, parts):
        x, y, w, h = (int(v) for v in part_stats[part, :4])
        cluster = int(cluster_of_part[part])
        box = (x, y, x + w, y + h)
        boxes[cluster] = _union(boxes[cluster], box) if cluster in boxes else box
    clusters = [(box, [cluster]) for cluster, box in sorted(boxes.items())]

    def side(box: tuple[int, int, int, int]) -> int:
        return window_side(_extent(box), model_size, context_margin, guard_px)

    merged = True
    while merged and len(clusters) > 1:
        merged = False
        for i in range(len(clusters)):
            for j in range(i + 1, len(clusters)):
                (box_a, ids_a), (box_b, ids_b) = clusters[i], clusters[j]
                union = _union(box_a, box_b)
                if side(union) <= max(side(box_a), side(box_b)):
                    clusters[i] = (union, ids_a + ids_b)
                    del clusters[j]
                    merged = True
                    break
            if merged:
                break

    plans = []
    for box, ids in sorted(clusters, key=lambda c: (c[0][1], c[0][0])):
        window = _fit(box, side(box), width, height, model_size)
        region = np.isin(window.crop(labels), ids) if count > 2 else np.ones((window.height, window.width), bool)
        plans.append(WindowPlan(window, window.crop(mask) & region))
    return plans
