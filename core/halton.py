"""The 2-D Halton token order and the arccos reveal schedule of Halton-MaskGIT, for any grid size.

Both reproduce the upstream HaltonSampler bit for bit (tests compare with its recorded output).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import torch


def _radical_inverse(indices: np.ndarray, base: int) -> np.ndarray:
    """Van der Corput radical inverse of integer indices, as exact float64 numerator / denominator."""
    numerator = np.zeros_like(indices)
    denominator = np.ones_like(indices)
    rest = indices.copy()
    while np.any(rest > 0):
        numerator = numerator * base + rest % base
        denominator = denominator * base
        rest //= base
    # Upstream's generator yields n/d as a Python float (float64), then torch.asarray makes it
    # float32 and multiplies by the grid size in float32: keep the same rounding so floors agree.
    return numerator / denominator


@lru_cache(maxsize=32)
def _halton_order_cached(rows: int, cols: int) -> np.ndarray:
    n_cells = rows * cols
    order: list[tuple[int, int]] = []
    seen = np.zeros((rows, cols), dtype=bool)
    start = 1  # the sequence is indexed from 1, as upstream's generator is
    chunk = max(1024, 4 * n_cells)
    while len(order) < n_cells:
        idx = np.arange(start, start + chunk, dtype=np.int64)
        v_rows = _radical_inverse(idx, 2).astype(np.float32) * np.float32(rows)
        v_cols = _radical_inverse(idx, 3).astype(np.float32) * np.float32(cols)
        r = np.floor(v_rows).astype(np.int64)
        c = np.floor(v_cols).astype(np.int64)
        for ri, ci in zip(r.tolist(), c.tolist(), strict=True):
            if not seen[ri, ci]:
                seen[ri, ci] = True
                order.append((ri, ci))
        start += chunk
        if start > 10_000 * n_cells + 100_000:  # pragma: no cover - the sequence covers any grid long before
            raise RuntimeError(f"Halton sequence failed to cover a {rows}x{cols} grid")
    out = np.asarray(order, dtype=np.int64)
    out.setflags(write=False)
    return out


def halton_order(grid: int | tuple[int, int]) -> np.ndarray:
    """Visit order of a token grid: an (N, 2) int64 array of (row, col), every cell exactly once.

    Row = floor(halton_base2 * rows), col = floor(halton_base3 * cols); first visit wins. Unlike upstream
    (a fixed 10,000 points, which leaves 6 cells of a 64x64 grid out) the sequence runs until all are covered.
    """
    rows, cols = (grid, grid) if isinstance(grid, int) else grid
    if rows < 1 or cols < 1:
        raise ValueError(f"grid must be at least 1x1, got {rows}x{cols}")
    return _halton_order_cached(int(rows), int(cols))


def halton_flat_order(grid: int | tuple[int, int]) -> np.ndarray:
    """The Halton order as flat indices row * cols + col."""
    rows, cols = (grid, grid) if isinstance(grid, int) else grid
    order = halton_order((rows, cols))
    return order[:, 0] * cols + order[:, 1]


def reveal_schedule(n_tokens: int, steps: int) -> list[int]:
    """Tokens revealed at each step: counts summing to n_tokens, one entry per step.

    Step i (0-based) reveals up to r_i = max(i+1, int((1 - arccos((i+1)/steps) / (pi/2)) * n_tokens)),
    computed in float32 as upstream does. Steps are capped at n_tokens so none is empty of purpose.
    """
    if n_tokens < 0 or steps < 1:
        raise ValueError("n_tokens must be >= 0 and steps >= 1")
    if n_tokens == 0:
        return []
    steps = min(steps, n_tokens)
    counts = []
    prev = 0
    for index in range(steps):
        ratio = (index + 1) / steps
        r = 1 - (torch.arccos(torch.tensor(ratio)) / (math.pi * 0.5))
        r = max(index + 1, int(r * n_tokens))
        r = min(r, n_tokens)
        counts.append(r - prev)
        prev = r
    counts[-1] += n_tokens - prev  # float32 rounding can leave the last token out; never drop it
    return counts
