"""Procedural hot-rolled steel surfaces with NEU-style defects and exact masks, deterministic per seed.

The project's default model trains on these pictures, and the tests use them as small realistic inputs.
A surface is grayscale-looking steel (R = G = B): streaks along a rolling direction, low-frequency shading and
illumination falloff, fine grain, sensor noise and now and then a mild oxide tone. `draw_defect` adds one of
the six NEU-DET classes; its mask is exactly the set of pixels whose value changed.
Writing a NEU-DET-layout dataset and the preview sheet live in `core.procedural_writer`.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import cv2
import numpy as np

from core.names import NEU_CLASSES
from core.procedural_defects import DRAWERS
from core.procedural_noise import fractal_noise, smooth_noise, smoothstep, streak_noise
from core.request import Box

log = logging.getLogger(__name__)

# Bump when the pictures for a given seed change, so a dataset's provenance says which generator made it.
GENERATOR_VERSION = "1.0"

SURFACE_FAMILIES: tuple[str, ...] = ("rolled", "brushed", "matte")

# A pixel counts as defect only where the defect moved it by at least this many gray levels; the faint tail
# of a feathered edge below that is dropped, so the mask stays exactly "the pixels that changed".
MIN_CHANGE = 3.0


@dataclass
class ProceduralSample:
    image: np.ndarray  # (H, W, 3) uint8, the surface with its defect
    clean: np.ndarray  # (H, W, 3) uint8, the same surface without it
    mask: np.ndarray  # (H, W) bool, exactly the pixels where image != clean
    defect_class: str
    boxes: tuple[Box, ...]  # one per drawn instance (a crack network or a pit cluster is one instance)
    family: str = "rolled"
    rolling_angle: float = 0.0
    seed: int = 0


@dataclass
class SurfaceInfo:
    family: str
    rolling_angle: float  # degrees, counter-clockwise on screen; 0 = streaks run left to right


def _as_shape(size: int | tuple[int, int]) -> tuple[int, int]:
    """`size` is a side length or (height, width)."""
    if isinstance(size, int):
        return (size, size)
    height, width = size
    return (int(height), int(width))


def surface_luminance(
    size: int | tuple[int, int], rng: np.random.Generator, family: str | None = None
) -> tuple[np.ndarray, SurfaceInfo]:
    """A clean surface as float32 luminance (0..255, before sensor quantisation) and what it is made of."""
    shape = _as_shape(size)
    height, width = shape
    s = min(shape) / 200.0
    family = family or str(rng.choice(SURFACE_FAMILIES, p=[0.5, 0.25, 0.25]))
    if family not in SURFACE_FAMILIES:
        raise ValueError(f"unknown surface family {family!r}; expected one of {SURFACE_FAMILIES}")
    # Strip images are taken with rolling either across or down the frame, never far off those axes.
    rolling_angle = float(rng.choice([0.0, 90.0]) + rng.normal(0.0, 2.5))

    base = float(rng.uniform(85, 170))
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    yn, xn = ys / height - 0.5, xs / width - 0.5
    # Illumination: a tilt, a soft hot spot from the ring light, and slow shading across the strip.
    tilt = float(rng.normal(0, 9)) * xn + float(rng.normal(0, 9)) * yn
    hx, hy = rng.uniform(-0.4, 0.4, 2)
    falloff = -float(rng.uniform(0, 40)) * ((xn - hx) ** 2 + (yn - hy) ** 2)
    shading = float(rng.uniform(2, 8)) * smooth_noise(shape, rng, 0.6 * min(shape))
    lum = base + tilt + falloff + shading

    if family == "rolled":
        lum += float(rng.uniform(3, 9)) * streak_noise(
            shape, rng, rng.uniform(0.6, 2.0) * max(shape), rng.uniform(1.5, 5.0) * s, rolling_angle
        )
        lum += float(rng.uniform(2, 5)) * streak_noise(shape, rng, rng.uniform(15, 40) * s, 1.0 * s, rolling_angle)
        # A few sharp roll marks: long, thin lines brighter or darker than the strip.
        marks = streak_noise(shape, rng, max(shape), 0.8 * s, rolling_angle)
        lum += float(rng.uniform(4, 12)) * np.sign(marks) * smoothstep(2.0, 2.8, np.abs(marks))
        grain_amp, grain_scale = float(rng.uniform(2.5, 5)), 1.3 * s
    elif family == "brushed":
        lum += float(rng.uniform(4, 9)) * streak_noise(shape, rng, rng.uniform(25, 80) * s, 0.7 * s, rolling_angle)
        lum += float(rng.uniform(2, 5)) * streak_noise(shape, rng, max(shape), rng.uniform(3, 8) * s, rolling_angle)
        grain_amp, grain_scale = float(rng.uniform(1.5, 3.5)), 1.0 * s
    else:  # matte, shot-blasted: an even, isotropic grain with faint remains of the rolling streaks
        lum += float(rng.uniform(1, 4)) * streak_noise(shape, rng, rng.uniform(30, 80) * s, 2.0 * s, rolling_angle)
        lum += float(rng.uniform(2, 5)) * fractal_noise(shape, rng, 4 * s, octaves=2)
        grain_amp, grain_scale = float(rng.uniform(4, 8)), 1.1 * s
    lum += grain_amp * smooth_noise(shape, rng, grain_scale)

    if rng.random() < 0.3:  # mild oxide tone variation: broad, slightly darker clouds
        cloud = smoothstep(0.2, 1.4, fractal_noise(shape, rng, 0.35 * min(shape), octaves=3))
        lum *= 1.0 - float(rng.uniform(0.04, 0.12)) * cloud
    lum += rng.normal(0.0, float(rng.uniform(1.2, 3.0)), shape).astype(np.float32)  # sensor noise
    return np.clip(lum, 0, 255).astype(np.float32), SurfaceInfo(family, rolling_angle)


def _to_rgb(lum: np.ndarray) -> np.ndarray:
    gray = np.clip(np.rint(lum), 0, 255).astype(np.uint8)
    return np.repeat(gray[:, :, None], 3, axis=2)


def clean_surface(size: int | tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A defect-free steel surface, (H, W, 3) uint8 with R = G = B. `size` is a side or (height, width)."""
    return _to_rgb(surface_luminance(size, rng)[0])


def rolling_angle_of(image: np.ndarray) -> float:
    """Estimate the rolling direction of a surface from its streaks (structure tensor), in degrees.

    Lets `draw_defect` align inclusions and scale on any picture, not only on ones made here.
    """
    gray = image.mean(axis=2) if image.ndim == 3 else image
    gray = cv2.GaussianBlur(gray.astype(np.float32), (0, 0), 1.0)
    gx = cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3)
    jxx, jyy, jxy = float((gx * gx).sum()), float((gy * gy).sum()), float((gx * gy).sum())
    # Dominant gradient direction (image coordinates, y down); streaks run perpendicular to it.
    gradient_angle = 0.5 * math.atan2(2 * jxy, jxx - jyy)
    streak = math.degrees(gradient_angle) + 90.0
    return float(-streak % 180.0)  # to counter-clockwise on screen


def _instance_boxes(regions: list[np.ndarray], mask: np.ndarray, defect_class: str) -> tuple[Box, ...]:
    """One box per drawn instance (the changed pixels of its region), as NEU-DET's annotators box defects: a crack
    network, a band of rolled-in scale or a cluster of pits is one object, however many pieces its pixels fall
    into, and two overlapping patches stay two. `core.annotations.mask_boxes` (one box per connected region) is
    for masks whose instances nobody knows (painted ones); here the generator knows them."""
    boxes = []
    for region in regions:
        ys, xs = np.nonzero(region & mask)
        if len(xs):
            boxes.append(Box(defect_class, int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1))
    return tuple(boxes)


def _draw(
    image: np.ndarray, defect_class: str, rng: np.random.Generator, rolling_angle: float
) -> tuple[np.ndarray, np.ndarray, tuple[Box, ...]]:
    if defect_class not in DRAWERS:
        raise ValueError(f"unknown defect class {defect_class!r}; expected one of {NEU_CLASSES}")
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected an (H, W, 3) uint8 image, got {image.shape} {image.dtype}")
    lum = image.astype(np.float32).mean(axis=2)
    regions = []
    total = np.zeros(lum.shape, np.float32)
    # Up to three tries: a rare draw can land almost entirely off the frame or below the visible change.
    for _attempt in range(3):
        for delta in DRAWERS[defect_class](lum + total, rng, rolling_angle):
            delta = np.where(np.abs(delta) >= MIN_CHANGE, delta, 0.0).astype(np.float32)
            region = delta != 0
            if region.sum() < 4:
                continue
            total += delta
            regions.append(region)
        if regions:
            break
    shifted = np.clip(np.rint(image.astype(np.float32) + total[:, :, None]), 0, 255).astype(np.uint8)
    mask = (shifted != image).any(axis=2)
    return shifted, mask, _instance_boxes(regions, mask, defect_class)


def draw_defect(
    image: np.ndarray, defect_class: str, rng: np.random.Generator, rolling_angle: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Draw one or more instances of `defect_class` on a (H, W, 3) uint8 image.

    Returns the new image and a (H, W) bool mask that is True exactly where a pixel changed. The rolling
    direction is estimated from the image when not given.
    """
    angle = rolling_angle_of(image) if rolling_angle is None else rolling_angle
    result, mask, _ = _draw(image, defect_class, rng, angle)
    return result, mask


def make_sample(seed: int, size: int | tuple[int, int] = 200, defect_class: str | None = None) -> ProceduralSample:
    """One clean surface and the same surface with a defect; the same seed always gives the same pixels."""
    rng = np.random.default_rng(seed)
    defect_class = defect_class or str(rng.choice(NEU_CLASSES))
    lum, info = surface_luminance(size, rng)
    clean = _to_rgb(lum)
    image, mask, boxes = _draw(clean, defect_class, rng, info.rolling_angle)
    return ProceduralSample(image, clean, mask, defect_class, boxes, info.family, info.rolling_angle, seed)
