"""The small CNN behind the eval report's class fidelity: trained on real defect crops (held-out images
excluded), then asked which class each generated defect looks like.

Crops: the defect's bounding box grown to a square with context (at least `MIN_CROP` model pixels), resized
to `size`; the same rule for real and generated defects, so the classifier sees both alike.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from training.datasets import dihedral

MIN_CROP = 48
CONTEXT = 1.5  # crop side = CONTEXT x the defect's longer box side
BOX_MIN_SIDE = 32  # a box crop is at least this many pixels a side (a 3 px scratch box alone has no texture)


def crop_defect(image: np.ndarray, region: np.ndarray, size: int = 64) -> np.ndarray | None:
    """(size, size, 3) uint8 crop centred on `region`, or None for an empty region."""
    if not region.any():
        return None
    ys, xs = np.nonzero(region)
    h, w = region.shape
    side = int(min(max(MIN_CROP, CONTEXT * max(ys.max() - ys.min() + 1, xs.max() - xs.min() + 1)), h, w))
    cy, cx = (ys.min() + ys.max() + 1) // 2, (xs.min() + xs.max() + 1) // 2
    top = int(np.clip(cy - side // 2, 0, h - side))
    left = int(np.clip(cx - side // 2, 0, w - side))
    crop = image[top:top + side, left:left + side]
    return cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA if side > size else cv2.INTER_LINEAR)


def crop_box(image: np.ndarray, box: tuple[int, int, int, int], size: int = 64, min_side: int = BOX_MIN_SIDE
             ) -> np.ndarray:
    """(size, size, 3) uint8: the square centred on the box (x0, y0, x1, y1) whose side is the box's longer
    side (at least `min_side`, at most the image), resized. No margin beyond the box's own extent: the judge
    must look at the defect, not at the surface around it, or a re-inpainted box would be judged by its
    untouched background. Squares keep a thin scratch thin (stretching a box to a square would not)."""
    h, w = image.shape[:2]
    x0, y0, x1, y1 = box
    side = int(min(max(x1 - x0, y1 - y0, min_side), h, w))
    cx, cy = (x0 + x1) // 2, (y0 + y1) // 2
    left, top = int(np.clip(cx - side // 2, 0, w - side)), int(np.clip(cy - side // 2, 0, h - side))
    crop = image[top:top + side, left:left + side]
    return cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA if side > size else cv2.INTER_LINEAR)


class SmallCNN(nn.Module):
    def __init__(self, num_classes: int, width: int = 32):
        super().__init__()
        self.width = width
        layers: list[nn.Module] = []
        channels = 3
        for out in (width, width * 2, width * 4, width * 4):
            layers += [nn.Conv2d(channels, out, 3, padding=1, bias=False), nn.BatchNorm2d(out), nn.ReLU(True),
                       nn.MaxPool2d(2)]
            channels = out
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(channels, num_classes)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """The pooled features the head reads: the space eval's KID is measured in."""
        return self.features(x).mean(dim=(2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.embed(x))


def _tensor(crops: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(crops)).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)


def train_classifier(crops: np.ndarray, labels: np.ndarray, num_classes: int, epochs: int = 15, seed: int = 0,
                     device: torch.device | str = "cpu", batch_size: int = 64) -> SmallCNN:
    """Adam, random dihedral augmentation, a fixed seed: the same data gives the same classifier."""
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = SmallCNN(num_classes).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    targets = torch.as_tensor(labels, dtype=torch.long)
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(crops), generator=gen)
        for start in range(0, len(order), batch_size):
            idx = order[start:start + batch_size].numpy()
            augs = torch.randint(0, 8, (len(idx),), generator=gen).tolist()
            batch = np.stack([dihedral(crops[i], k) for i, k in zip(idx, augs, strict=True)])
            logits = model(_tensor(batch).to(device))
            loss = F.cross_entropy(logits, targets[idx].to(device))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return model.eval()


@torch.no_grad()
def predict(model: SmallCNN, crops: np.ndarray, batch_size: int = 128) -> np.ndarray:
    device = next(model.parameters()).device
    out = [model(_tensor(crops[i:i + batch_size]).to(device)).argmax(1).cpu() for i in range(0, len(crops), batch_size)]
    return torch.cat(out).numpy() if out else np.zeros(0, dtype=np.int64)


@torch.no_grad()
def embed(model: SmallCNN, crops: np.ndarray, batch_size: int = 128) -> np.ndarray:
    """(N, D) float features of (N, S, S, 3) uint8 crops."""
    device = next(model.parameters()).device
    out = [model.embed(_tensor(crops[i:i + batch_size]).to(device)).cpu() for i in range(0, len(crops), batch_size)]
    return torch.cat(out).numpy() if out else np.zeros((0, 1), dtype=np.float32)


def save_judge(model: SmallCNN, path: Path, classes: list[str], info: dict) -> None:
    """Weights as safetensors, with the class list and how it was trained in the metadata (no pickle)."""
    from safetensors.torch import save_file

    meta = {"classes": json.dumps(classes), "width": str(model.width), "info": json.dumps(info)}
    tmp = path.with_name(f".{path.name}.tmp")
    save_file({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}, str(tmp), metadata=meta)
    os.replace(tmp, path)


def load_judge(path: Path, device: torch.device | str = "cpu") -> tuple[SmallCNN, list[str], dict]:
    """A judge saved by save_judge: (model, class names, training info). ValueError if it is not one."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    try:
        with safe_open(str(path), framework="pt") as handle:
            meta = handle.metadata() or {}
        classes = json.loads(meta["classes"])
        model = SmallCNN(len(classes), int(meta.get("width", 32)))
        model.load_state_dict(load_file(str(path)))
    except (OSError, KeyError, ValueError, RuntimeError) as exc:
        raise ValueError(f"{path}: not a DefectForge judge ({str(exc).splitlines()[0] if str(exc) else exc})") from exc
    return model.to(device).eval(), classes, json.loads(meta.get("info", "{}"))
