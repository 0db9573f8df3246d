"""The eval report's measures on inputs whose answer is known: KID, token grid, texture distance, the judge's
box crops and the held-out split."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.data.records import Dataset, DatasetSample
from core.request import Box
from core.scoring import crop_box
from training.datasets import heldout_paths, split_dataset
from training.metrics import grid_ratio, kid, texture_distance


def _gray(array: np.ndarray) -> np.ndarray:
    return np.repeat(np.clip(array, 0, 255).astype(np.uint8)[..., None], 3, axis=2)


def test_kid_is_near_zero_for_one_distribution_and_grows_with_a_shift():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(200, 16)), rng.normal(size=(200, 16))
    same = kid(a, b)
    shifted = kid(a, b + 1.0)
    assert abs(same) < 0.05
    assert shifted > 10 * max(abs(same), 1e-3)
    assert np.isnan(kid(a[:1], b))  # an estimate needs two of each


def test_grid_ratio_sees_token_blocks_and_not_noise():
    rng = np.random.default_rng(1)
    noise = rng.normal(128, 20, size=(64, 64))
    blocks = np.kron(rng.normal(128, 20, size=(8, 8)), np.ones((8, 8))) + rng.normal(0, 3, size=(64, 64))
    region = np.ones((64, 64), dtype=bool)
    assert grid_ratio(_gray(noise), region, 8) == pytest.approx(1.0, abs=0.15)
    assert grid_ratio(_gray(blocks), region, 8) > 3.0
    # the same blocks measured at the wrong phase show no grid: the measure looks where the token borders are
    assert grid_ratio(_gray(blocks), region, 8, phase=(4, 4)) < 1.0
    assert grid_ratio(_gray(noise), np.zeros((64, 64), dtype=bool), 8) is None


def test_texture_distance_separates_a_smooth_fill_from_matching_texture():
    rng = np.random.default_rng(2)
    image = rng.normal(128, 25, size=(96, 96))
    left = np.zeros((96, 96), dtype=bool)
    left[:, :48] = True
    same = texture_distance(_gray(image), left, ~left)
    smooth = image.copy()
    smooth[:, :48] = 128  # a grey smudge: right mean, no texture
    assert same < 0.2
    assert texture_distance(_gray(smooth), left, ~left) > 5 * same
    assert texture_distance(_gray(image), np.zeros_like(left), ~left) is None


def test_crop_box_keeps_a_thin_box_thin_and_looks_only_at_the_box():
    image = np.zeros((100, 100, 3), dtype=np.uint8)
    image[48:52, 10:90] = 255  # a horizontal scratch
    image[:, 95:] = 200  # something bright far from the box
    crop = crop_box(image, (10, 48, 90, 52), size=40)
    assert crop.shape == (40, 40, 3)
    bright_rows = np.nonzero(crop[:, :, 0].max(axis=1) > 128)[0]
    assert len(bright_rows) <= 4  # still a thin line, not stretched to fill the square
    others = np.ones(40, dtype=bool)
    others[bright_rows] = False
    assert crop[others].max() == 0  # the bright stripe far from the box stays outside the crop


def _dataset(tmp_path: Path, counts: dict[str, int]) -> Dataset:
    samples = [
        DatasetSample(tmp_path / f"{name}_{i}.jpg", name, (Box(name, 0, 0, 4, 4),))
        for name, n in counts.items()
        for i in range(n)
    ]
    return Dataset(tmp_path, "test", samples)


def test_heldout_split_is_per_class_stable_and_never_takes_a_whole_class(tmp_path):
    dataset = _dataset(tmp_path, {"a": 275, "b": 40, "c": 2})
    held = heldout_paths(dataset, 0.1, 0)
    by_class = {name: sum(1 for p in held if p.name.startswith(f"{name}_")) for name in "abc"}
    assert by_class == {"a": 28, "b": 4, "c": 1}  # round(27.5) = 28; a class of two keeps one to train on
    assert heldout_paths(dataset, 0.1, 0) == held  # the same split every time
    assert heldout_paths(dataset, 0.1, 1) != held  # another seed, another split
    reordered = Dataset(tmp_path, "test", list(reversed(dataset.samples)))
    assert heldout_paths(reordered, 0.1, 0) == held  # file order does not matter
    train, heldout = split_dataset(dataset, 0.1, 0)
    assert {s.image for s in heldout} == held and not ({s.image for s in train} & held)
    assert heldout_paths(dataset, 0.0, 0) == set()
