"""Mask geometry: token masks, feathering, boxes, tightening, and class-shaped random masks for --auto-mask."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from core.annotations import mask_boxes
from core.masks import (
    SHAPE_KINDS,
    blend,
    blend_cover,
    dilate,
    erode,
    feathered_alpha,
    random_defect_mask,
    shape_kind,
    speck_report,
    tighten_to_changed,
    token_mask,
)
from core.request import Box
from tests.conftest import TEST_CLASSES


def test_dilate_and_erode_grow_and_shrink_round():
    mask = np.zeros((40, 40), bool)
    mask[20, 20] = True
    grown = dilate(mask, 3)
    assert grown[20, 17] and grown[23, 20] and not grown[17, 17] and not grown[20, 24]
    assert np.array_equal(erode(grown, 3), mask)


def test_token_mask_marks_every_token_the_grown_mask_touches():
    mask = np.zeros((64, 64), bool)
    mask[20, 20] = True  # token (1, 1); grown by 2 it stays inside that token
    assert np.argwhere(token_mask(mask, 16, grow_px=2)).tolist() == [[1, 1]]
    mask[:] = False
    mask[15, 15] = True  # on a corner: grown, it touches four tokens
    assert token_mask(mask, 16, grow_px=2).sum() == 4


def test_token_mask_without_growth_is_exactly_the_tokens_the_pixels_touch():
    """What training marks as a sample's defect tokens (the cache's region, the eval's held-out region)."""
    mask = np.zeros((64, 64), bool)
    mask[15, 15] = True  # one pixel at the corner of token (0, 0): only that token
    mask[40:50, 33] = True  # a thin line inside token column 2, rows 2 and 3
    assert np.argwhere(token_mask(mask, 16)).tolist() == [[0, 0], [2, 2], [3, 2]]


def test_feathered_alpha_is_one_on_the_mask_and_exactly_zero_beyond_the_feather():
    mask = np.zeros((60, 60), bool)
    mask[20:40, 20:40] = True
    alpha = feathered_alpha(mask, 6)
    assert (alpha[mask] == 1).all()
    assert (alpha[~dilate(mask, 7)] == 0).all()
    assert 0 < alpha[30, 43] < 1
    assert alpha[30, 41] > alpha[30, 43] > alpha[30, 45]  # eases out


def test_blend_copies_the_original_wherever_alpha_is_zero():
    rng = np.random.default_rng(0)
    original = rng.integers(0, 256, (30, 30, 3), dtype=np.uint8)
    generated = rng.integers(0, 256, (30, 30, 3), dtype=np.uint8)
    alpha = np.zeros((30, 30), np.float32)
    alpha[10:20, 10:20] = 0.5
    alpha[14:16, 14:16] = 1.0
    out = blend(original, generated, alpha)
    assert np.array_equal(out[alpha == 0], original[alpha == 0])
    assert np.array_equal(out[14:16, 14:16], generated[14:16, 14:16])


def test_boxes_come_from_connected_components():
    mask = np.zeros((50, 80), bool)
    mask[5:10, 60:75] = True
    mask[30:45, 2:6] = True
    mask[31, 6] = True  # touches diagonally: same component
    assert mask_boxes(mask, "patches") == [Box("patches", 60, 5, 75, 10), Box("patches", 2, 30, 7, 45)]


def test_tightening_keeps_only_what_really_changed_inside_the_mask():
    before = np.full((40, 40, 3), 100, np.uint8)
    after = before.copy()
    after[10:15, 10:30] = 200  # the drawn defect
    after[30:35, 30:35] = 200  # a change outside the painted mask: never labelled
    after[20, 20] = 103  # below the threshold: not a change
    mask = np.zeros((40, 40), bool)
    mask[5:25, 5:35] = True
    tight = tighten_to_changed(mask, before, after)
    assert mask_boxes(tight, "x") == [Box("x", 10, 10, 30, 15)]
    assert not tighten_to_changed(mask, before, before).any()


@pytest.mark.parametrize("defect_class", TEST_CLASSES)
def test_auto_masks_are_shaped_by_class_and_repeatable(defect_class):
    size = (200, 200)
    masks = [random_defect_mask(defect_class, size, np.random.default_rng(seed)) for seed in range(6)]
    again = random_defect_mask(defect_class, size, np.random.default_rng(0))
    assert np.array_equal(masks[0], again)
    assert not np.array_equal(masks[0], masks[1])
    for mask in masks:
        assert mask.shape == (200, 200) and mask.dtype == bool
        assert 0 < mask.mean() < 0.5


def _shape_stats(kind_class: str) -> dict[str, float]:
    parts, fill, elongation = [], [], []
    for seed in range(8):
        mask = random_defect_mask(kind_class, (256, 256), np.random.default_rng(seed)).astype(np.uint8)
        count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        parts.append(count - 1)
        x, y, w, h, area = stats[1:].T
        fill.append(float(mask.sum() / max(1, (np.ptp(np.nonzero(mask)[1]) + 1) * (np.ptp(np.nonzero(mask)[0]) + 1))))
        biggest = np.argmax(area) + 1
        points = np.argwhere(labels == biggest).astype(np.float32)
        eig = np.linalg.eigvalsh(np.cov(points.T) + 1e-6 * np.eye(2))
        elongation.append(float(np.sqrt(eig[1] / eig[0])))
    return {
        "parts": float(np.median(parts)),
        "fill": float(np.median(fill)),
        "elongation": float(np.median(elongation)),
    }


def test_auto_mask_shapes_look_like_their_defects():
    assert {shape_kind(c) for c in TEST_CLASSES} == set(SHAPE_KINDS)
    scratches = _shape_stats("scratches")
    patches = _shape_stats("patches")
    pits = _shape_stats("pitted_surface")
    inclusion = _shape_stats("inclusion")
    crazing = _shape_stats("crazing")
    scale = _shape_stats("rolled-in_scale")
    assert scratches["fill"] < 0.2  # thin curves fill little of their box
    assert patches["parts"] <= 2 and patches["fill"] > 0.3  # solid blobs
    assert pits["parts"] >= 4  # many dots
    assert inclusion["elongation"] > 2.0  # long and thin
    assert crazing["fill"] < 0.3 and crazing["parts"] <= 3  # a connected network of lines
    assert scale["parts"] >= 2  # scattered flakes


def test_unknown_and_cleanup_classes_get_blobs():
    assert shape_kind("__clean__") == "blobs"
    assert shape_kind("weird_thing") == "blobs"
    assert shape_kind("Sc") == "blobs" and shape_kind("scratch") == "curves"


def test_blend_cover_grows_the_mask_as_far_as_the_blend_changed_anything():
    mask = np.zeros((40, 40), bool)
    mask[15:25, 15:25] = True
    alpha = feathered_alpha(mask, 4)
    before = np.full((40, 40, 3), 100, np.uint8)
    after = blend(before, np.full_like(before, 200), alpha)
    cover = blend_cover(alpha, before, after)
    changed = np.any(after != before, axis=2)
    assert cover[mask].all() and not (changed & ~cover).any()
    assert not (cover & ~dilate(mask, 5)).any()
    assert not blend_cover(alpha, before, before).any()


def _dots(count: int, size: int, height: int = 400, width: int = 600, seed: int = 0) -> np.ndarray:
    """`count` separate size x size squares scattered on a grid (a mask painted with a tiny brush, dab by dab)."""
    mask = np.zeros((height, width), bool)
    rng = np.random.default_rng(seed)
    cells = [(y, x) for y in range(4, height - size - 4, 20) for x in range(4, width - size - 4, 20)]
    for index in rng.choice(len(cells), count, replace=False):
        y, x = cells[index]
        mask[y : y + size, x : x + size] = True
    return mask


def test_a_mask_of_400_tiny_dots_is_mostly_specks():
    report = speck_report(_dots(400, 3))
    assert report.regions == 400 and report.specks == 400 and report.mostly_specks


def test_a_few_strokes_or_a_scatter_of_large_dots_is_not_specks():
    assert not speck_report(_dots(20, 3)).mostly_specks  # a few dots: too few regions to matter
    big = speck_report(_dots(400, 5))  # 25 px each: real dots, not specks
    assert big.regions == 400 and big.specks == 0 and not big.mostly_specks
    assert speck_report(np.zeros((10, 10), bool)).speck_share == 0.0
