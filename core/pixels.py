"""The one conversion between images and model tensors: (B, H, W, 3) uint8 <-> (B, 3, H, W) float in [-1, 1].

The tokenizer and the critic take and give pixels this way; the pipeline, scoring and the training jobs all
convert through here, so the scale and rounding cannot drift between what a model was trained on and what it sees.
"""

from __future__ import annotations

import numpy as np
import torch


def to_model_tensor(images: np.ndarray, device: torch.device | str | None = None) -> torch.Tensor:
    """(B, H, W, 3) uint8 -> (B, 3, H, W) float32 in [-1, 1], on `device` (moved as uint8: a quarter the bytes)."""
    batch = torch.from_numpy(np.ascontiguousarray(images, dtype=np.uint8))
    if device is not None:
        batch = batch.to(device)
    return batch.permute(0, 3, 1, 2).float().div(127.5).sub(1.0)


def to_uint8(pixels: torch.Tensor) -> np.ndarray:
    """(B, 3, H, W) model output, clamped to [-1, 1] -> (B, H, W, 3) uint8 on the CPU."""
    pixels = ((pixels.detach().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return pixels.permute(0, 2, 3, 1).cpu().numpy()
