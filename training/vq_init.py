"""Warm-starting a tokenizer from a trained bundle's VQ, with another codebook size or channel count.

A new tokenizer shape (a smaller codebook, one gray channel) need not start from noise: every weight whose shape
still fits is copied, the first and last convolutions are folded between RGB and gray (a gray image repeated in
three channels meets the RGB kernel summed over its inputs), and the codebook is spherical k-means of the
encoder's latents on training images, so every code starts in use where the data is.
"""

from __future__ import annotations

import logging

import numpy as np
import torch
import torch.nn.functional as F

from core.pixels import to_model_tensor
from core.vq import VQModel

log = logging.getLogger(__name__)

IN_CONV = ("encoder.conv_in.weight",)
OUT_CONV = ("decoder.conv_out.weight", "decoder.conv_out.bias")
CODEBOOK = "quantize.embedding.weight"
USAGE = "quantize.codebook_used"


class WarmStartError(ValueError):
    """The source VQ cannot seed this architecture; the message says which weight differs."""


def _fold_channels(name: str, value: torch.Tensor, shape: torch.Size) -> torch.Tensor:
    """An RGB<->gray change of the first or last convolution, so a gray image is treated as its RGB copy was."""
    if name in IN_CONV:  # (out, in, k, k): w*[x, x, x] = (sum of w over in)*x
        return value.sum(1, keepdim=True) if shape[1] == 1 else value.repeat(1, shape[1], 1, 1) / shape[1]
    if shape[0] == 1:  # conv_out: (out, ...) -> the mean of the colour outputs
        return value.mean(0, keepdim=True)
    return value.repeat(shape[0], *([1] * (value.ndim - 1)))


@torch.no_grad()
def spherical_kmeans(points: torch.Tensor, k: int, iterations: int, generator: torch.Generator) -> torch.Tensor:
    """k unit vectors that cluster unit-norm `points` (N, d) by cosine; an empty cluster takes a random point."""
    points = F.normalize(points.float(), dim=-1)
    centres = points[torch.randperm(len(points), generator=generator)[:k]].clone()
    if len(centres) < k:
        raise WarmStartError(f"k-means needs at least {k} latents, got {len(points)}")
    for _ in range(iterations):
        assign = (points @ centres.t()).argmax(1)
        sums = torch.zeros_like(centres).index_add_(0, assign, points)
        counts = torch.bincount(assign, minlength=k)
        empty = counts == 0
        centres = F.normalize(sums, dim=-1)
        if empty.any():
            centres[empty] = points[torch.randint(len(points), (int(empty.sum()),), generator=generator)]
    return centres


@torch.no_grad()
def warm_start(
    target: VQModel, source: VQModel, images: np.ndarray, seed: int = 0, iterations: int = 25
) -> dict[str, int | str]:
    """Seed `target` from `source` in place. `images`: (N, S, S, 3) uint8 training images for the codebook.

    Returns what was done (counts of copied and folded tensors, and how the codebook was made)."""
    own, theirs = target.state_dict(), source.state_dict()
    copied, folded = 0, 0
    for name, value in own.items():
        if name in (CODEBOOK, USAGE):
            continue
        if name not in theirs:
            raise WarmStartError(f"the source VQ has no weight {name}")
        src = theirs[name]
        if src.shape == value.shape:
            value.copy_(src)
            copied += 1
        elif name in IN_CONV + OUT_CONV and src.ndim == value.ndim:
            value.copy_(_fold_channels(name, src, value.shape))
            folded += 1
        else:
            raise WarmStartError(
                f"weight {name} is {tuple(src.shape)} in the source VQ and {tuple(value.shape)} here: "
                "only the codebook size and the channel count may differ"
            )
    same_codebook = theirs[CODEBOOK].shape == own[CODEBOOK].shape
    if same_codebook:
        own[CODEBOOK].copy_(theirs[CODEBOOK])
        how = "copied"
    else:
        generator = torch.Generator().manual_seed(seed)
        latents = []
        was_training = target.training
        target.eval()
        for start in range(0, len(images), 16):
            z = target.quant_conv(target.encoder(_input(target, images[start : start + 16])))
            latents.append(z.permute(0, 2, 3, 1).reshape(-1, z.shape[1]))
        target.train(was_training)
        codes = spherical_kmeans(torch.cat(latents), target.config.codebook_size, iterations, generator)
        own[CODEBOOK].copy_(codes)
        how = f"k-means of {sum(len(z) for z in latents):,} latents"
    if USAGE in own:  # every code counts as recently used: a restart must not throw the k-means away at once
        size = target.config.codebook_size
        own[USAGE].copy_(torch.arange(own[USAGE].numel()) % size)
    target.load_state_dict(own)
    log.info("VQ warm start: %d tensors copied, %d folded RGB<->gray, codebook %s", copied, folded, how)
    return {"copied": copied, "folded": folded, "codebook": how}


def _input(vq: VQModel, images: np.ndarray) -> torch.Tensor:
    x = to_model_tensor(images).to(next(vq.parameters()).device)
    return x.mean(1, keepdim=True) if vq.config.in_channels == 1 else x
