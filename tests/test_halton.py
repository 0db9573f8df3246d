import json

import numpy as np
import pytest

from core.halton import halton_flat_order, halton_order, reveal_schedule
from tests.conftest import FIXTURES

FIX = json.loads((FIXTURES / "halton_sampler_fixtures.json").read_text())


@pytest.mark.parametrize("size", [16, 32])
def test_halton_order_equals_upstream_exactly(size):
    assert halton_order(size).tolist() == FIX["order"][f"{size}x{size}"]


@pytest.mark.parametrize("key", sorted(FIX["reveal"]))
def test_reveal_schedule_equals_upstream_exactly(key):
    grid, steps = key.split("_steps")
    n = int(grid.split("x")[0]) ** 2
    assert reveal_schedule(n, int(steps)) == FIX["reveal"][key]["counts"]


@pytest.mark.parametrize("grid", [1, 3, (5, 7), 24, 48, 64, (10, 30)])
def test_halton_order_visits_every_cell_once_for_any_grid(grid):
    rows, cols = (grid, grid) if isinstance(grid, int) else grid
    order = halton_order(grid)
    assert order.shape == (rows * cols, 2)
    assert len({tuple(p) for p in order.tolist()}) == rows * cols
    flat = halton_flat_order(grid)
    assert sorted(flat.tolist()) == list(range(rows * cols))


@pytest.mark.parametrize("n,steps", [(1, 32), (5, 32), (38, 5), (256, 32), (1000, 7)])
def test_reveal_schedule_covers_all_tokens_and_never_has_more_steps_than_tokens(n, steps):
    counts = reveal_schedule(n, steps)
    assert sum(counts) == n
    assert len(counts) == min(n, steps)
    assert all(c >= 0 for c in counts) and counts[0] >= 1


def test_reveal_starts_sparse_and_ends_dense():
    counts = reveal_schedule(256, 32)
    assert counts[0] < counts[-1]
    assert np.all(np.diff(np.cumsum(counts)) >= 0)
