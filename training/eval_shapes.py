"""eval's `shapes` section: defects generated inside shapes painted as people paint them, measured for grain and
for a pasted-on outline, and drawn on a contact sheet.

A painted mask is larger than the defect a user wants: a good inpaint draws a defect with its own outline inside
the shape and continues the surface up to the mask edge. Two measures, both on gray pixels:
  grain    high-frequency energy (mean square of the image minus its Gaussian blur, sigma 1.5 px) inside the
           generated region, over the same in real held-out defect boxes of the requested class, and over the
           same in the photo's own surface in a ring around the shape. A blurred fill scores far below 1.
  outline  edge strength (Sobel magnitude of the image low-passed at sigma 2 px) along the painted outline, in the
           result over in the original photo. A uniform disc whose edge is the painted edge scores well above 1;
           a defect drawn inside a surface continued to the edge scores about 1.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from training.eval_boxes import Example, label_tile

SHEET = "shapes_sheet.png"

SHAPES = ("stroke", "blob", "spots", "box")
GRAIN_SIGMA, OUTLINE_SIGMA = 1.5, 2.0
RING_PX = (3, 12)  # the photo's own grain: pixels 3 to 12 px outside the shape


def paint_shape(kind: str, size: int, rng: np.random.Generator) -> np.ndarray:
    """(size, size) bool: a mask painted as an inspector would, roughly 4-15 % of the image."""
    mask = np.zeros((size, size), np.uint8)
    s = size / 200  # shapes are drawn for a 200 px image and scaled
    centre = rng.uniform(0.35, 0.65, 2) * size
    if kind == "stroke":  # a brush stroke: a wobbly polyline, 6-10 px wide
        angle = rng.uniform(0, math.pi)
        length = rng.uniform(90, 150) * s
        t = np.linspace(-0.5, 0.5, 12)[:, None]
        points = centre + t * length * np.array([math.cos(angle), math.sin(angle)])
        points += rng.normal(0, 3 * s, points.shape)
        cv2.polylines(mask, [points.round().astype(np.int32)], False, 1, max(2, round(rng.uniform(6, 10) * s)))
    elif kind == "blob":  # a lumpy closed outline
        angles = np.linspace(0, 2 * math.pi, 24, endpoint=False)
        radius = rng.uniform(18, 30) * s * (1 + 0.25 * np.sin(angles * rng.integers(2, 4) + rng.uniform(0, 6)))
        aspect = rng.uniform(0.6, 1.0)
        points = centre + np.stack([radius * np.cos(angles), aspect * radius * np.sin(angles)], 1)
        cv2.fillPoly(mask, [points.round().astype(np.int32)], 1)
    elif kind == "spots":  # a cluster of dabs
        for _ in range(int(rng.integers(5, 9))):
            spot = centre + rng.normal(0, 18 * s, 2)
            cv2.circle(mask, tuple(int(v) for v in spot.round()), max(2, round(rng.uniform(4, 8) * s)), 1, -1)
    elif kind == "box":
        half = rng.uniform(20, 35, 2) * s
        (x0, y0), (x1, y1) = (centre - half).round().astype(int), (centre + half).round().astype(int)
        mask[max(0, y0) : y1, max(0, x0) : x1] = 1
    else:
        raise ValueError(f"unknown shape {kind!r}; choose one of {', '.join(SHAPES)}")
    return mask.astype(bool)


def _gray(image: np.ndarray) -> np.ndarray:
    return image.astype(np.float32).mean(axis=2) if image.ndim == 3 else image.astype(np.float32)


def grain(image: np.ndarray, region: np.ndarray) -> float:
    """Mean squared high-frequency residual of the gray image inside `region` (nan when empty)."""
    if not region.any():
        return float("nan")
    gray = _gray(image)
    residual = gray - cv2.GaussianBlur(gray, (0, 0), GRAIN_SIGMA)
    return float(np.mean(residual[region] ** 2))


def ring(mask: np.ndarray, inner: int = RING_PX[0], outer: int = RING_PX[1]) -> np.ndarray:
    grow = lambda px: cv2.dilate(mask.astype(np.uint8), np.ones((2 * px + 1,) * 2, np.uint8)).astype(bool)  # noqa: E731
    return grow(outer) & ~grow(inner)


def outline_strength(image: np.ndarray, mask: np.ndarray) -> float:
    """Mean gradient magnitude of the low-passed gray image on the mask's outline (its one-pixel boundary)."""
    gray = cv2.GaussianBlur(_gray(image), (0, 0), OUTLINE_SIGMA)
    magnitude = np.hypot(cv2.Sobel(gray, cv2.CV_32F, 1, 0), cv2.Sobel(gray, cv2.CV_32F, 0, 1))
    m = mask.astype(np.uint8)
    edge = (m ^ cv2.erode(m, np.ones((3, 3), np.uint8))).astype(bool)
    return float(magnitude[edge].mean()) if edge.any() else float("nan")


def real_grain_by_class(held: list[Example], classes: list[str]) -> dict[str, float]:
    """Median grain inside the real held-out defect boxes of each class."""
    values: dict[str, list[float]] = {name: [] for name in classes}
    for example in held:
        for box in example.prepared.boxes:
            if box.defect_class in values and (box.x1 - box.x0) * (box.y1 - box.y0) >= 64:
                region = np.zeros(example.prepared.image.shape[:2], bool)
                region[box.y0 : box.y1, box.x0 : box.x1] = True
                values[box.defect_class].append(grain(example.prepared.image, region))
    return {name: float(np.median(v)) if v else float("nan") for name, v in values.items()}


def _median(values: list[float]) -> float:
    values = [v for v in values if not math.isnan(v)]
    return float(np.median(values)) if values else float("nan")


def shapes_section(
    inpaint: Callable[[np.ndarray, np.ndarray, str, int], np.ndarray],
    held: list[Example],
    classes: list[str],
    per_shape: int,
    seed: int,
    sheet: Path | None,
) -> dict:
    """Each shape kind painted on `per_shape` held-out images and inpainted once per class. `inpaint(image, mask,
    class, seed)` returns the result. Returns medians per shape and per class, and the worst shape's outline."""
    rng = np.random.default_rng([seed, 4242])
    real = real_grain_by_class(held, classes)
    rows: list[dict] = []
    sheet_rows = []
    backgrounds = [held[i] for i in rng.permutation(len(held))]
    for s_index, kind in enumerate(SHAPES):
        for n in range(per_shape):
            example = backgrounds[(s_index * per_shape + n) % len(backgrounds)]
            image = example.prepared.image
            mask = paint_shape(kind, image.shape[0], rng)
            around = grain(image, ring(mask))
            before = outline_strength(image, mask)
            results = {}
            for c_index, name in enumerate(classes):
                result = inpaint(image, mask, name, seed + 1000 * s_index + 10 * n + c_index)
                results[name] = result
                inside = grain(result, mask)
                rows.append(
                    {
                        "shape": kind,
                        "class": name,
                        "grain_over_real": inside / real[name] if real[name] else float("nan"),
                        "grain_over_around": inside / around if around else float("nan"),
                        "outline_ratio": outline_strength(result, mask) / before if before else float("nan"),
                    }
                )
            if n == 0:
                sheet_rows.append((kind, image, mask, results))
    if sheet is not None:
        save_shapes_sheet(sheet, sheet_rows, classes)
    measures = ("grain_over_real", "grain_over_around", "outline_ratio")
    per_shape_stats = {k: {m: _median([r[m] for r in rows if r["shape"] == k]) for m in measures} for k in SHAPES}
    per_class = {c: {m: _median([r[m] for r in rows if r["class"] == c]) for m in measures} for c in classes}
    return {
        "shapes": list(SHAPES),
        "samples": len(rows),
        "real_grain": real,
        "per_shape": per_shape_stats,
        "per_class": per_class,
        "grain_over_real": _median([r["grain_over_real"] for r in rows]),
        "grain_over_around": _median([r["grain_over_around"] for r in rows]),
        "outline_ratio_worst_shape": max((v["outline_ratio"] for v in per_shape_stats.values()), default=math.nan),
        "rule": "medians over painted shapes x classes; grain = mean square of gray minus its sigma-1.5 blur; "
        "outline = Sobel magnitude of the sigma-2 low-pass on the mask outline, result / original",
    }


def save_shapes_sheet(path: Path, rows: list, classes: list[str]) -> None:
    """One row per painted shape: the original with the shape outlined, then the result for each class, at 100 %."""
    size, gap, head = rows[0][1].shape[0], 4, 130

    def header(text: str, width: int) -> np.ndarray:
        tile = np.full((24, width, 3), 255, np.uint8)
        cv2.putText(tile, text, (4, 17), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
        return tile

    titles = [header("shape", head)]
    for text in ["painted (outlined)", *classes]:
        titles += [np.full((24, gap, 3), 255, np.uint8), header(text, size)]
    lines = [np.concatenate(titles, axis=1)]
    for kind, image, mask, results in rows:
        outlined = image.copy()
        contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        cv2.drawContours(outlined, contours, -1, (255, 60, 60), 1)
        cells = [label_tile(kind, size, head)]
        for tile in [outlined, *(results[c] for c in classes)]:
            cells += [np.full((size, gap, 3), 255, np.uint8), tile]
        lines += [np.full((gap, lines[0].shape[1], 3), 255, np.uint8), np.concatenate(cells, axis=1)]
    Image.fromarray(np.concatenate(lines)).save(path)
