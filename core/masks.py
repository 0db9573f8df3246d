"""Mask geometry: grow and shrink, token masks, feathered blending, labels and boxes, a speck check, and the
class-shaped random masks of `defectforge synth --auto-mask`. Masks are (H, W) bool arrays at image resolution."""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np


def _disk(radius: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))


def dilate(mask: np.ndarray, radius: int) -> np.ndarray:
    """Grow by `radius` pixels (round brush)."""
    if radius <= 0:
        return mask.astype(bool, copy=True)
    return cv2.dilate(mask.astype(np.uint8), _disk(radius)).astype(bool)


def erode(mask: np.ndarray, radius: int) -> np.ndarray:
    """Shrink by `radius` pixels (round brush); pixels beyond the border count as outside the mask."""
    if radius <= 0:
        return mask.astype(bool, copy=True)
    return cv2.erode(mask.astype(np.uint8), _disk(radius), borderType=cv2.BORDER_CONSTANT, borderValue=0).astype(bool)


def mask_size_problem(mask_size: tuple[int, int], image_size: tuple[int, int]) -> str | None:
    """The one rule for putting a mask on an image, whether it is a file the user imports or the mask painted on
    the previous image: it must have the image's size (width, height), never stretched (a stretched stroke grows
    into another defect, a circle into an ellipse). None when it fits, else why not, to follow the mask's name."""
    if tuple(mask_size) == tuple(image_size):
        return None
    return (
        f"is {mask_size[0]}x{mask_size[1]} but the image is {image_size[0]}x{image_size[1]}; "
        "a mask must have the image's size"
    )


def token_mask(pixel_mask: np.ndarray, token_px: int, grow_px: int = 0) -> np.ndarray:
    """(h, w) bool: the tokens that `pixel_mask` (h*token_px, w*token_px), grown by `grow_px`, touches.

    The one pixel-to-token rule: training marks a sample's defect tokens with it (no growth), the pipeline the
    tokens it re-samples (grown by the feather band, so the blend never reaches an unsampled token)."""
    height, width = pixel_mask.shape
    if height % token_px or width % token_px:
        raise ValueError(f"pixel mask {width}x{height} is not a whole number of {token_px}-pixel tokens")
    grown = dilate(pixel_mask, grow_px)
    return grown.reshape(height // token_px, token_px, width // token_px, token_px).any(axis=(1, 3))


def feathered_alpha(mask: np.ndarray, feather_px: int) -> np.ndarray:
    """Blend weight (H, W) float32: 1 on the mask, easing to 0 over `feather_px` pixels outside it.

    Exactly 0 farther than `feather_px` from the mask, so those pixels keep their input values bit for bit.
    """
    mask = mask.astype(bool)
    if feather_px <= 0 or not mask.any():
        return mask.astype(np.float32)
    distance = cv2.distanceTransform((~mask).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    ramp = np.clip(1.0 - distance / (feather_px + 1.0), 0.0, 1.0)
    return (ramp * ramp * (3.0 - 2.0 * ramp)).astype(np.float32)  # smoothstep: no visible edge at either end


def blend_cover(alpha: np.ndarray, before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """Where a blend with weight `alpha` left a mark: (H, W) bool, the mask grown into the feather band as far as
    the farthest pixel the blend changed (any channel, any amount).

    The alpha falls with the distance to the mask, so {alpha >= a} is the mask grown by one distance: one defect
    stays one region (one box), and every changed pixel lies inside it. Empty where nothing changed.
    """
    changed = np.any(before != after, axis=2) if before.ndim == 3 else before != after
    changed &= alpha > 0
    if not changed.any():
        return changed
    return alpha >= alpha[changed].min()


def blend(original: np.ndarray, generated: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """original * (1 - alpha) + generated * alpha, uint8; where alpha is 0 the original values are copied."""
    out = original.copy()
    region = alpha > 0
    if not region.any():
        return out
    weight = alpha[region][:, None]
    mixed = original[region].astype(np.float32) * (1.0 - weight) + generated[region].astype(np.float32) * weight
    out[region] = np.clip(np.rint(mixed), 0, 255).astype(np.uint8)
    return out


def remove_small(mask: np.ndarray, min_area: int) -> np.ndarray:
    """`mask` without its 8-connected regions smaller than `min_area` pixels."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    keep = np.zeros(count, dtype=bool)
    keep[1:] = stats[1:, cv2.CC_STAT_AREA] >= min_area
    return keep[labels]


# A mask is "mostly specks" when it has at least SPECK_MIN_REGIONS 8-connected regions and at least SPECK_SHARE of
# them are smaller than SPECK_AREA_PX pixels: a scatter of dots that each get a window's worth of context, so the
# run is slow and changes far more of the image than was painted (400 dots: 49 s, 89 % of the image changed).
SPECK_AREA_PX = 16
SPECK_MIN_REGIONS = 50
SPECK_SHARE = 0.8


@dataclass(frozen=True)
class SpeckReport:
    """How a mask breaks into regions: all of them, and those under SPECK_AREA_PX pixels."""

    regions: int
    specks: int

    @property
    def speck_share(self) -> float:
        return self.specks / self.regions if self.regions else 0.0

    @property
    def mostly_specks(self) -> bool:
        return self.regions >= SPECK_MIN_REGIONS and self.speck_share >= SPECK_SHARE


def speck_report(mask: np.ndarray) -> SpeckReport:
    """Count the 8-connected regions of `mask` and those smaller than SPECK_AREA_PX pixels."""
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    areas = stats[1:, cv2.CC_STAT_AREA]
    return SpeckReport(int(count - 1), int((areas < SPECK_AREA_PX).sum()))


def tighten_to_changed(
    mask: np.ndarray, before: np.ndarray, after: np.ndarray, threshold: int = 12, min_area: int = 4
) -> np.ndarray:
    """The part of `mask` where the image really changed (any channel by more than `threshold`).

    Small gaps are closed so one defect stays one region; specks under `min_area` pixels are dropped.
    May be empty, when the model drew nothing visible.
    """
    diff = np.abs(before.astype(np.int16) - after.astype(np.int16))
    if diff.ndim == 3:
        diff = diff.max(axis=2)
    changed = (diff > threshold) & mask
    if not changed.any():
        return changed
    changed = cv2.morphologyEx(changed.astype(np.uint8), cv2.MORPH_CLOSE, _disk(2)).astype(bool) & mask
    return remove_small(changed, min_area)


# ---- class-shaped random masks (--auto-mask) ----------------------------------------------------------

SHAPE_KINDS = ("curves", "blobs", "dots", "elongated", "network", "flakes")
# Keyword in the (lower-case) class name -> the shape it gets; covers NEU, X-SDD and GC10 style names.
_SHAPE_KEYWORDS = (
    ("scratch", "curves"),
    ("crease", "curves"),
    ("crack", "curves"),
    ("line", "curves"),
    ("patch", "blobs"),
    ("spot", "blobs"),
    ("stain", "blobs"),
    ("pit", "dots"),
    ("punch", "dots"),
    ("hole", "dots"),
    ("inclusion", "elongated"),
    ("inclu", "elongated"),
    ("craz", "network"),
    ("scale", "flakes"),
    ("iron", "flakes"),
)


def shape_kind(defect_class: str) -> str:
    """The mask shape drawn for a class: 'curves' for scratches, 'dots' for pitted surface, ... ('blobs' default)."""
    name = defect_class.lower()
    for keyword, kind in _SHAPE_KEYWORDS:
        if keyword in name:
            return kind
    return "blobs"


def _polyline(canvas: np.ndarray, points: np.ndarray, thickness: int) -> None:
    cv2.polylines(canvas, [np.rint(points).astype(np.int32).reshape(-1, 1, 2)], False, 1, thickness)


def _curves(canvas: np.ndarray, rng: np.random.Generator, center: np.ndarray, extent: float, unit: float) -> None:
    for _ in range(int(rng.integers(1, 4))):
        angle = rng.uniform(0, math.pi)
        length = extent * rng.uniform(0.6, 1.2)
        n = 24
        turns = np.cumsum(rng.normal(0, 0.06, n))
        steps = np.stack([np.cos(angle + turns), np.sin(angle + turns)], axis=1) * (length / n)
        start = center + rng.normal(0, extent * 0.1, 2) - steps.sum(axis=0) / 2
        points = np.vstack([start, start + np.cumsum(steps, axis=0)])
        _polyline(canvas, points, max(1, round(unit * rng.uniform(1, 3))))


def _blobs(canvas: np.ndarray, rng: np.random.Generator, center: np.ndarray, extent: float, unit: float) -> None:
    for _ in range(int(rng.integers(3, 8))):
        c = center + rng.normal(0, extent * 0.15, 2)
        axes = np.maximum(1, extent * rng.uniform(0.12, 0.35, 2))
        cv2.ellipse(
            canvas, (round(c[0]), round(c[1])), (round(axes[0]), round(axes[1])), rng.uniform(0, 180), 0, 360, 1, -1
        )


def _dots(canvas: np.ndarray, rng: np.random.Generator, center: np.ndarray, extent: float, unit: float) -> None:
    for _ in range(int(rng.integers(8, 40))):
        c = center + rng.normal(0, extent * 0.22, 2)
        radius = max(1, round(unit * rng.uniform(0.8, 3.5)))
        cv2.circle(canvas, (round(c[0]), round(c[1])), radius, 1, -1)


def _elongated(canvas: np.ndarray, rng: np.random.Generator, center: np.ndarray, extent: float, unit: float) -> None:
    direction = rng.uniform(0, 180)
    along = np.array([math.cos(math.radians(direction)), math.sin(math.radians(direction))])
    for _ in range(int(rng.integers(1, 4))):
        c = center + along * rng.normal(0, extent * 0.25) + rng.normal(0, extent * 0.03, 2)
        major = max(2.0, extent * rng.uniform(0.2, 0.45))
        minor = max(1.0, major / rng.uniform(3, 8))
        cv2.ellipse(
            canvas,
            (round(c[0]), round(c[1])),
            (round(major), round(minor)),
            direction + rng.normal(0, 6),
            0,
            360,
            1,
            -1,
        )


def _network(canvas: np.ndarray, rng: np.random.Generator, center: np.ndarray, extent: float, unit: float) -> None:
    nodes = center + rng.uniform(-0.5, 0.5, (int(rng.integers(8, 20)), 2)) * extent
    thickness = max(1, round(unit * rng.uniform(0.8, 1.6)))
    edges = set()
    for i, node in enumerate(nodes):
        for j in np.argsort(np.linalg.norm(nodes - node, axis=1))[1:3]:
            edges.add((min(i, int(j)), max(i, int(j))))
    for i, j in sorted(edges):
        # a jagged edge, as crazing cracks look: the straight segment with a jittered midpoint
        middle = (nodes[i] + nodes[j]) / 2 + rng.normal(0, extent * 0.03, 2)
        _polyline(canvas, np.stack([nodes[i], middle, nodes[j]]), thickness)


def _flakes(canvas: np.ndarray, rng: np.random.Generator, center: np.ndarray, extent: float, unit: float) -> None:
    for _ in range(int(rng.integers(4, 12))):
        # rolled-in scale streaks along the rolling direction: spread wider than tall
        c = center + rng.normal(0, 1, 2) * np.array([extent * 0.3, extent * 0.12])
        radius = max(2.0, extent * rng.uniform(0.04, 0.12))
        n = int(rng.integers(5, 9))
        angles = np.sort(rng.uniform(0, 2 * math.pi, n))
        radii = radius * rng.uniform(0.55, 1.0, n)
        points = c + np.stack([np.cos(angles) * radii * 1.4, np.sin(angles) * radii], axis=1)
        cv2.fillPoly(canvas, [np.rint(points).astype(np.int32)], 1)


_DRAW = {
    "curves": _curves,
    "blobs": _blobs,
    "dots": _dots,
    "elongated": _elongated,
    "network": _network,
    "flakes": _flakes,
}


def random_defect_mask(
    defect_class: str, size: tuple[int, int], rng: np.random.Generator, extent: tuple[float, float] = (0.12, 0.35)
) -> np.ndarray:
    """A random mask shaped like `defect_class` at a random place: (H, W) bool for `size` = (W, H).

    `extent` is the defect's size range as a share of the image's shorter side. Never empty, never all of it.
    """
    width, height = size
    if width < 4 or height < 4:
        raise ValueError(f"image {width}x{height} is too small for a random defect mask")
    short = min(width, height)
    span = max(8.0, short * rng.uniform(*extent))
    unit = max(1.0, short / 256)  # line widths and dot sizes follow the image scale
    half = min(span / 2, (short - 2) / 2)
    center = np.array([rng.uniform(half, width - half), rng.uniform(half, height - half)])
    canvas = np.zeros((height, width), dtype=np.uint8)
    _DRAW[shape_kind(defect_class)](canvas, rng, center, span, unit)
    mask = canvas.astype(bool)
    if not mask.any():
        cv2.circle(canvas, (round(center[0]), round(center[1])), max(1, round(unit * 2)), 1, -1)
        mask = canvas.astype(bool)
    if mask.all():
        mask = erode(mask, max(1, short // 8))
    return mask
