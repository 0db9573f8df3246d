"""Noise fields for the procedural metal surfaces and defects: smooth, streaked and ridged noise, shapes.

Every field is float32, roughly zero-mean and unit-variance, drawn only from the numpy Generator it is given,
so the same generator state gives the same pixels. Large blurs are avoided on purpose: streaks come from
stretching a small random grid (cv2.resize), which keeps a 256x256 field well under a millisecond or two.
"""

from __future__ import annotations

import math

import cv2
import numpy as np


def normalized(field: np.ndarray) -> np.ndarray:
    field = field.astype(np.float32, copy=False)
    std = float(field.std())
    return (field - float(field.mean())) / (std if std > 1e-6 else 1.0)


def smooth_noise(shape: tuple[int, int], rng: np.random.Generator, scale: float) -> np.ndarray:
    """Isotropic value noise with features about `scale` pixels across (bicubic-upsampled random grid)."""
    height, width = shape
    scale = max(float(scale), 1.0)
    grid_h = int(math.ceil(height / scale)) + 3
    grid_w = int(math.ceil(width / scale)) + 3
    grid = rng.standard_normal((grid_h, grid_w)).astype(np.float32)
    big = cv2.resize(grid, (int(grid_w * scale), int(grid_h * scale)), interpolation=cv2.INTER_CUBIC)
    # A random sub-pixel offset so features do not line up with the grid from one image to the next.
    oy = int(rng.integers(0, max(1, big.shape[0] - height)))
    ox = int(rng.integers(0, max(1, big.shape[1] - width)))
    return normalized(big[oy : oy + height, ox : ox + width])


def fractal_noise(
    shape: tuple[int, int], rng: np.random.Generator, scale: float, octaves: int = 4, persistence: float = 0.5
) -> np.ndarray:
    """Sum of smooth noise octaves, each half the scale of the one before."""
    total = np.zeros(shape, np.float32)
    amplitude = 1.0
    for octave in range(octaves):
        total += amplitude * smooth_noise(shape, rng, max(scale / 2**octave, 1.0))
        amplitude *= persistence
    return normalized(total)


def rotate_field(field: np.ndarray, angle_deg: float, out_shape: tuple[int, int]) -> np.ndarray:
    """Rotate a (larger) field about its centre and cut out `out_shape` from the middle."""
    height, width = out_shape
    big_h, big_w = field.shape
    matrix = cv2.getRotationMatrix2D((big_w / 2.0, big_h / 2.0), angle_deg, 1.0)
    matrix[0, 2] += (width - big_w) / 2.0
    matrix[1, 2] += (height - big_h) / 2.0
    return cv2.warpAffine(field, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def streak_noise(
    shape: tuple[int, int], rng: np.random.Generator, length: float, width: float, angle_deg: float
) -> np.ndarray:
    """Noise stretched into streaks about `length` px long and `width` px across, along `angle_deg`.

    Angle 0 runs streaks left to right (image x axis); angles grow counter-clockwise as in OpenCV.
    """
    height, width_px = shape
    side = int(math.ceil(math.hypot(height, width_px))) + 4
    grid_w = max(2, int(math.ceil(side / max(length, 1.0))) + 2)
    grid_h = max(2, int(math.ceil(side / max(width, 0.5))) + 2)
    grid = rng.standard_normal((grid_h, grid_w)).astype(np.float32)
    field = cv2.resize(grid, (side, side), interpolation=cv2.INTER_CUBIC)
    if abs(angle_deg) < 1e-3:
        oy = (side - height) // 2
        ox = (side - width_px) // 2
        return normalized(field[oy : oy + height, ox : ox + width_px])
    return normalized(rotate_field(field, angle_deg, shape))


def soft_ellipse(
    shape: tuple[int, int], center: tuple[float, float], radii: tuple[float, float], angle_deg: float
) -> np.ndarray:
    """1 at the centre, 0 on the rim and outside: 1 - r^2 clipped, r the normalized elliptic radius."""
    height, width = shape
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    theta = math.radians(angle_deg)
    dx, dy = xs - center[0], ys - center[1]
    # Image y points down, so a counter-clockwise angle on screen has a negative y component.
    u = dx * math.cos(theta) - dy * math.sin(theta)
    v = dx * math.sin(theta) + dy * math.cos(theta)
    r2 = (u / max(radii[0], 1e-3)) ** 2 + (v / max(radii[1], 1e-3)) ** 2
    return np.clip(1.0 - r2, 0.0, 1.0)


def smoothstep(edge0: float, edge1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - edge0) / (edge1 - edge0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def direction(angle_deg: float) -> tuple[float, float]:
    """Unit (dx, dy) in image coordinates (y down) for an on-screen counter-clockwise angle."""
    theta = math.radians(angle_deg)
    return math.cos(theta), -math.sin(theta)
