"""What a model scores on held-out data: VQ reconstructions and MaskGIT's masked-token cross-entropy.

Training measures its own held-out split with these while it runs; `defectforge eval` measures a finished
bundle with the same functions, so the numbers in a run's log and in its report mean the same thing.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from core.device import autocast
from core.pixels import to_model_tensor, to_uint8
from core.transformer import MaskTransformer
from core.vq import VQModel
from training.masking import make_masks
from training.metrics import edge_iou, psnr, ssim


@torch.no_grad()
def measure_reconstruction(vq: VQModel, images: np.ndarray, batch_size: int = 8) -> tuple[dict[str, float], np.ndarray]:
    """SSIM, PSNR, Edge IoU and held-out codebook usage for (N, S, S, 3) uint8 images; also the reconstructions."""
    device = next(vq.parameters()).device
    was_training = vq.training
    vq.eval()
    recons, ssims, psnrs, codes = [], [], [], []
    for start in range(0, len(images), batch_size):
        x = to_model_tensor(images[start : start + batch_size]).to(device)
        with autocast(device):
            out = vq(x)
        rec = out.reconstruction.float().clamp(-1, 1)
        ssims.append(ssim((x + 1) / 2, (rec + 1) / 2, per_image=True).cpu())
        psnrs.append(psnr((x + 1) / 2, (rec + 1) / 2).cpu())
        codes.append(out.codes.flatten().cpu())
        recons.append(to_uint8(rec))
    vq.train(was_training)
    recon = np.concatenate(recons)
    metrics = {
        "ssim": float(torch.cat(ssims).mean()),
        "psnr": float(torch.cat(psnrs).mean()),
        "edge_iou": float(np.mean([edge_iou(a, b) for a, b in zip(images, recon, strict=True)])),
        "heldout_codebook_usage": torch.unique(torch.cat(codes)).numel() / vq.config.codebook_size,
    }
    return metrics, recon


def masked_cross_entropy(
    logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor, smoothing: float = 0.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """(loss, accuracy) over the hidden tokens only. logits (B, N, K+1), targets/mask (B, N)."""
    picked = logits[mask]
    wanted = targets[mask]
    loss = F.cross_entropy(picked.float(), wanted, label_smoothing=smoothing)
    accuracy = (picked.argmax(-1) == wanted).float().mean()
    return loss, accuracy


@torch.no_grad()
def evaluate_tokens(
    model: MaskTransformer,
    codes: torch.Tensor,
    region: torch.Tensor,
    labels: torch.Tensor,
    seed: int = 1234,
    batch_size: int = 64,
) -> dict[str, float]:
    """Held-out cross-entropy and masked-token accuracy: random arccos masks, and (where there is a defect)
    the defect region hidden. Fixed seed, so numbers compare across checkpoints."""
    device = next(model.parameters()).device
    mcfg = model.config
    was_training = model.training
    model.eval()
    gen = torch.Generator().manual_seed(seed)
    sums = {"ce": 0.0, "acc": 0.0, "n": 0, "region_ce": 0.0, "region_acc": 0.0, "region_n": 0}
    for start in range(0, codes.shape[0], batch_size):
        c, r, y = (
            codes[start : start + batch_size],
            region[start : start + batch_size],
            labels[start : start + batch_size],
        )
        drop = y < 0
        y = y.clamp_min(0)
        random_mask, _ = make_masks(r, gen, defect_share=0.0, box_share=0.0)
        for kind, mask in (("", random_mask), ("region_", r)):
            keep = mask.flatten(1).any(1)
            if not keep.any():
                continue
            inp = c[keep].masked_fill(mask[keep], mcfg.mask_token)
            with autocast(device):
                logits = model(inp.to(device), y[keep].to(device), drop[keep].to(device))
            flat_mask = mask[keep].flatten(1).to(device)
            targets = c[keep].flatten(1).to(device)
            n = int(flat_mask.sum())
            loss, acc = masked_cross_entropy(logits, targets, flat_mask)
            sums[f"{kind}ce"] += float(loss) * n
            sums[f"{kind}acc"] += float(acc) * n
            sums[f"{kind}n"] += n
    model.train(was_training)
    out = {}
    for kind in ("", "region_"):
        n = sums[f"{kind}n"]
        out[f"{kind}ce"] = sums[f"{kind}ce"] / n if n else float("nan")
        out[f"{kind}accuracy"] = sums[f"{kind}acc"] / n if n else float("nan")
    return out
