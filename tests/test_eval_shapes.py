"""eval's painted-shape measures: grain sees a blurred fill, the outline ratio sees a pasted-on disc."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from training.eval_shapes import SHAPES, grain, outline_strength, paint_shape, ring


def _steel(seed: int = 0, size: int = 200) -> np.ndarray:
    rng = np.random.default_rng(seed)
    gray = 128 + 18 * rng.standard_normal((size, size))
    gray = cv2.GaussianBlur(gray, (0, 0), 0.7)
    return np.repeat(np.clip(gray, 0, 255).astype(np.uint8)[..., None], 3, axis=2)


@pytest.mark.parametrize("kind", SHAPES)
def test_each_painted_shape_is_a_plausible_share_of_the_image_and_seeded(kind):
    a = paint_shape(kind, 200, np.random.default_rng(3))
    b = paint_shape(kind, 200, np.random.default_rng(3))
    assert np.array_equal(a, b) and 0.005 < a.mean() < 0.25


def test_grain_of_a_smooth_fill_is_far_below_the_photos_own_and_a_copy_of_the_surface_is_not():
    photo = _steel()
    mask = paint_shape("blob", 200, np.random.default_rng(1))
    smooth = cv2.inpaint(photo, mask.astype(np.uint8), 5, cv2.INPAINT_TELEA)
    around = grain(photo, ring(mask))
    assert grain(smooth, mask) / around < 0.3
    other = _steel(seed=9)  # the same kind of surface, other grains: a fill with the right texture
    textured = np.where(mask[..., None], other, photo)
    assert 0.8 < grain(textured, mask) / around < 1.25


def test_outline_ratio_flags_a_uniform_disc_but_not_a_defect_drawn_inside_the_shape():
    photo = _steel()
    mask = np.zeros((200, 200), bool)
    cv2.circle(mask.view(np.uint8), (100, 100), 30, 1, -1)
    before = outline_strength(photo, mask)
    disc = photo.copy()
    disc[mask] = 60  # a uniform dark disc exactly the painted shape
    assert outline_strength(disc, mask) / before > 1.5
    inside = photo.copy()
    core = np.zeros((200, 200), np.uint8)
    cv2.ellipse(core, (100, 100), (14, 8), 30, 0, 360, 1, -1)  # a defect with its own outline, well inside
    inside[core.astype(bool)] = 60
    assert outline_strength(inside, mask) / before < 1.5
