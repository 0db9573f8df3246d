"""Image quality measures shared by training and the eval report.

- SSIM: Gaussian window 11, sigma 1.5, on [0, 1] images, averaged over channels (Wang et al. 2004).
- PSNR: 10 log10(1 / MSE) on [0, 1] images.
- Edge IoU: Canny edges (thresholds 50/150 on 8-bit gray) of input and reconstruction, both dilated by one
  pixel (3x3) so a one-pixel shift of an edge still counts, then intersection over union.
- Seam score: core.scoring.seam_score (variants are scored with it too), re-exported here.
- KID: the unbiased squared MMD between two feature sets under the cubic polynomial kernel
  k(x, y) = (x.y / d + 1)^3 (Binkowski et al. 2018); 0 when both sets come from one distribution.
- Grid ratio: how much stronger intensity steps are across token borders than elsewhere. The mean absolute
  difference between neighbouring pixels that straddle a token border (every `period` pixels, at the known
  phase) divided by the mean over all other neighbouring pairs, in x and y, inside a region. 1.0: no grid.
- Texture distance: how far a region's texture is from a reference texture: the 1-D Wasserstein distances
  between their grey-level distributions and between their gradient-magnitude distributions, each divided by
  the reference's own spread (grey-level standard deviation, mean gradient), summed. 0: same distributions.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from core.scoring import gradient_magnitude, seam_score

__all__ = [
    "edge_iou",
    "edges",
    "gradient_magnitude",
    "grid_ratio",
    "kid",
    "psnr",
    "seam_score",
    "ssim",
    "texture_distance",
]
EDGE_LOW, EDGE_HIGH = 50, 150


def _gaussian_window(size: int = 11, sigma: float = 1.5, device=None, dtype=None) -> torch.Tensor:
    coords = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-(coords**2) / (2 * sigma**2))
    g = (g / g.sum()).to(device=device, dtype=dtype)
    return g[:, None] * g[None, :]


def ssim(a: torch.Tensor, b: torch.Tensor, per_image: bool = False) -> torch.Tensor:
    """SSIM of (B, C, H, W) tensors in [0, 1]; differentiable (also used as a loss)."""
    c = a.shape[1]
    window = _gaussian_window(device=a.device, dtype=a.dtype).expand(c, 1, 11, 11)
    mu_a = F.conv2d(a, window, groups=c)
    mu_b = F.conv2d(b, window, groups=c)
    var_a = F.conv2d(a * a, window, groups=c) - mu_a**2
    var_b = F.conv2d(b * b, window, groups=c) - mu_b**2
    cov = F.conv2d(a * b, window, groups=c) - mu_a * mu_b
    c1, c2 = 0.01**2, 0.03**2
    value = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))
    return value.flatten(1).mean(1) if per_image else value.mean()


def psnr(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per-image PSNR (dB) of (B, C, H, W) tensors in [0, 1]."""
    mse = (a - b).pow(2).flatten(1).mean(1).clamp_min(1e-10)
    return 10 * torch.log10(1.0 / mse)


def _gray(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image


def edges(image: np.ndarray) -> np.ndarray:
    return cv2.Canny(_gray(image), EDGE_LOW, EDGE_HIGH) > 0


def edge_iou(a: np.ndarray, b: np.ndarray) -> float:
    """Edge IoU of two (H, W, 3) uint8 images with one pixel of tolerance. Both edge-free counts as 1."""
    kernel = np.ones((3, 3), np.uint8)
    ea = cv2.dilate(edges(a).astype(np.uint8), kernel) > 0
    eb = cv2.dilate(edges(b).astype(np.uint8), kernel) > 0
    union = np.logical_or(ea, eb).sum()
    return 1.0 if union == 0 else float(np.logical_and(ea, eb).sum() / union)


def kid(a: np.ndarray, b: np.ndarray) -> float:
    """Kernel Inception Distance of feature sets (n, d) and (m, d), n, m >= 2 (see the module notes)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    n, m, d = len(a), len(b), a.shape[1]
    if n < 2 or m < 2:
        return float("nan")
    k_aa = (a @ a.T / d + 1) ** 3
    k_bb = (b @ b.T / d + 1) ** 3
    k_ab = (a @ b.T / d + 1) ** 3
    return float(
        (k_aa.sum() - np.trace(k_aa)) / (n * (n - 1)) + (k_bb.sum() - np.trace(k_bb)) / (m * (m - 1)) - 2 * k_ab.mean()
    )


def grid_ratio(image: np.ndarray, region: np.ndarray, period: int, phase: tuple[int, int] = (0, 0)) -> float | None:
    """Token-border step strength inside `region` relative to every other step (see the module notes).

    `phase` (y, x): the first token border's pixel row and column (a border lies between pixel p-1 and p)."""
    gray = _gray(image).astype(np.float32)
    region = region.astype(bool)
    ratios = []
    for axis, offset in ((1, phase[1]), (0, phase[0])):
        step = np.abs(np.diff(gray, axis=axis))
        inside = region[:, 1:] & region[:, :-1] if axis == 1 else region[1:, :] & region[:-1, :]
        position = np.arange(1, gray.shape[axis])  # step i lies between pixel i-1 and i
        border = (position - offset) % period == 0
        border = border[None, :] if axis == 1 else border[:, None]
        across, within = inside & border, inside & ~border
        if across.sum() < 4 or within.sum() < 4:
            continue
        ratios.append(step[across].mean() / max(float(step[within].mean()), 1e-6))
    return float(np.mean(ratios)) if ratios else None


def _wasserstein(a: np.ndarray, b: np.ndarray, quantiles: int = 101) -> float:
    q = np.linspace(0, 1, quantiles)
    return float(np.abs(np.quantile(a, q) - np.quantile(b, q)).mean())


def texture_distance(image: np.ndarray, region: np.ndarray, reference: np.ndarray) -> float | None:
    """Texture distance of `region` from `reference` (both (H, W) bool on `image`; see the module notes)."""
    region, reference = region.astype(bool), reference.astype(bool)
    if region.sum() < 16 or reference.sum() < 16:
        return None
    gray = _gray(image).astype(np.float32)
    grad = gradient_magnitude(image)
    spread = max(float(gray[reference].std()), 1.0)
    sharpness = max(float(grad[reference].mean()), 1.0)
    return (
        _wasserstein(gray[region], gray[reference]) / spread + _wasserstein(grad[region], grad[reference]) / sharpness
    )
