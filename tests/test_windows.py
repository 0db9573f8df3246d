"""Windowing: a large image is cropped around each mask, a small one resized, and pixels map back in place."""

from __future__ import annotations

import numpy as np

from core.windows import Window, plan_windows


def _mask(height: int, width: int, *boxes: tuple[int, int, int, int]) -> np.ndarray:
    mask = np.zeros((height, width), bool)
    for x0, y0, x1, y1 in boxes:
        mask[y0:y1, x0:x1] = True
    return mask


def test_small_mask_on_a_gc10_size_image_gets_a_native_resolution_window_around_it():
    mask = _mask(1000, 2048, (1500, 400, 1540, 460))
    (plan,) = plan_windows(mask, 256)
    window = plan.window
    assert (window.width, window.height, window.side) == (256, 256, 256)
    assert window.scale == 1.0  # no resampling: the model sees the camera's own pixels
    assert window.x0 <= 1500 and window.x1 >= 1540 and window.y0 <= 400 and window.y1 >= 460
    assert plan.mask.sum() == mask.sum()


def test_masks_far_apart_get_one_window_each_and_near_ones_share():
    mask = _mask(1000, 2048, (100, 100, 130, 120), (160, 150, 180, 170), (1800, 800, 1830, 830))
    plans = plan_windows(mask, 256)
    assert len(plans) == 2
    assert sum(int(p.mask.sum()) for p in plans) == int(mask.sum())
    near = plans[0].window
    assert near.x0 <= 100 and near.x1 >= 180  # both close masks in one window


def test_window_at_the_image_border_shifts_inside():
    mask = _mask(1000, 2048, (2030, 980, 2048, 1000))
    window = plan_windows(mask, 256)[0].window
    assert (window.x1, window.y1) == (2048, 1000) and window.width == 256


def test_neu_size_image_is_resized_up_to_the_model():
    mask = _mask(200, 200, (50, 60, 90, 100))
    (plan,) = plan_windows(mask, 256)
    window = plan.window
    assert (window.x0, window.y0, window.x1, window.y1) == (0, 0, 200, 200) and window.side == 200
    assert window.scale == 256 / 200
    image = np.random.default_rng(0).integers(0, 256, (200, 200, 3), dtype=np.uint8)
    model = window.to_model(image)
    assert model.shape == (256, 256, 3)
    back = window.from_model(model)
    assert back.shape == (200, 200, 3)
    assert np.abs(back.astype(int) - image).mean() < 40  # resampling, not garbage


def test_large_mask_is_downscaled_and_a_strip_image_is_padded_to_a_square():
    mask = _mask(1000, 2048, (200, 300, 1400, 700))
    window = plan_windows(mask, 256)[0].window
    assert window.height == 1000 and window.width > 1200 and window.side == window.width
    assert window.scale < 1
    crop = np.zeros((window.height, window.width, 3), np.uint8)
    assert window.to_model(crop).shape == (256, 256, 3)
    assert window.from_model(np.zeros((256, 256, 3), np.uint8)).shape == crop.shape


def test_thin_lines_survive_downscaling_to_the_model():
    window = Window(0, 0, 1024, 1024, 1024, 256)
    mask = np.zeros((1024, 1024), bool)
    mask[500, 100:900] = True  # a one-pixel scratch, 4x downscaled
    assert window.mask_to_model(mask)[125, 25:225].all()


def test_patch_maps_back_to_crop_pixels():
    window = Window(10, 20, 210, 220, 200, 256)
    box, pixels = window.patch_to_crop(np.zeros((32, 48, 3), np.uint8), (16, 32, 64, 64))
    assert box == (12, 25, 50, 50)
    assert pixels.shape == (25, 38, 3)
