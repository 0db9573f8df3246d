"""Image quality measures shared by training and the eval report.

- SSIM: Gaussian window 11, sigma 1.5, on [0, 1] images, averaged over channels (Wang et al. 2004).
- PSNR: 10 log10(1 / MSE) on [0, 1] images.
- Edge IoU: Canny edges (thresholds 50/150 on 8-bit gray) of input and reconstruction, both dilated by one
  pixel (3x3) so a one-pixel shift of an edge still counts, then intersection over union.
- Seam score: mean Sobel gradient magnitude on a thin band across the blend boundary divided by the mean
  gradient just inside and just outside it. About 1 means no visible seam; the same ratio on the original
  image is the reference the generated one is compared with.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch
import torch.nn.functional as F

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


def gradient_magnitude(image: np.ndarray) -> np.ndarray:
    gray = _gray(image).astype(np.float32)
    gx = cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3)
    return np.sqrt(gx * gx + gy * gy)


def seam_score(image: np.ndarray, region: np.ndarray, band_px: int = 2) -> float | None:
    """Gradient on the boundary band of `region` / gradient in the bands just inside and outside it."""
    region = region.astype(np.uint8)
    kernel = np.ones((2 * band_px + 1, 2 * band_px + 1), np.uint8)
    grown = cv2.dilate(region, kernel) > 0
    shrunk = cv2.erode(region, kernel) > 0
    boundary = grown & ~shrunk
    inner = (cv2.erode(region, kernel, iterations=3) > 0)
    inside = shrunk & ~inner
    outside = (cv2.dilate(region, kernel, iterations=3) > 0) & ~grown
    if not boundary.any() or not inside.any() or not outside.any():
        return None
    grad = gradient_magnitude(image)
    reference = 0.5 * (grad[inside].mean() + grad[outside].mean())
    return float(grad[boundary].mean() / max(reference, 1e-6))
