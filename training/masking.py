"""Which tokens a MaskGIT training example hides.

Three kinds, drawn per example:
- defect region: exactly the tokens the real defect touches (DefectFill's defect/object split, adapted to
  tokens: the model learns to draw a whole defect of the class into a hole, with the clean context around it);
  with `grown_share`, the region grown by 1 to MAX_GROW tokens (a rounded, diamond-shaped growth): people paint
  masks larger than the defect, and a model that only ever saw holes the defect's exact shape fills a painted
  shape edge to edge with defect, so its outline is the brush's. From grown holes it learns to draw the defect
  with its own outline inside and to continue the surface up to the hole's edge;
- random box: one rectangle covering an arccos-distributed share of the grid (holes shaped like painted masks);
- random tokens: upstream Halton-MaskGIT's arccos masking, each token hidden with probability arccos(u)/(pi/2).
Every draw comes from one generator whose state is checkpointed, and the number of draws never depends on the
data, so a resumed run hides exactly the same tokens.
"""

from __future__ import annotations

import math

import torch

REGION, BOX, TOKENS = 0, 1, 2
MAX_GROW = 3  # tokens a grown defect hole reaches beyond the defect (3 tokens: 24 px with an 8x VQ)


def grow(region: torch.Tensor, steps: torch.Tensor) -> torch.Tensor:
    """(B, h, w) bool grown by `steps` (B,) 4-neighbour dilations each (a diamond, rounder than a square)."""
    grown, out = region.clone(), region.clone()
    for step in range(1, int(steps.max()) + 1 if steps.numel() else 1):
        padded = torch.nn.functional.pad(grown, (1, 1, 1, 1))
        grown = grown | padded[:, :-2, 1:-1] | padded[:, 2:, 1:-1] | padded[:, 1:-1, :-2] | padded[:, 1:-1, 2:]
        out = torch.where((steps == step).view(-1, 1, 1), grown, out)
    return out


def arccos_ratio(u: torch.Tensor) -> torch.Tensor:
    """u ~ U(0, 1) -> masked share in (0, 1], skewed towards high ratios as in MaskGIT's arccos schedule."""
    return torch.arccos(u) / (math.pi * 0.5)


def make_masks(
    region: torch.Tensor, generator: torch.Generator, defect_share: float, box_share: float, grown_share: float = 0.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """region: (B, h, w) bool real defect tokens. Returns (mask (B, h, w) bool, kind (B,) int64).
    `grown_share` of the defect-region examples hide the region grown by 1 to MAX_GROW tokens instead."""
    b, h, w = region.shape
    pick = torch.rand(b, generator=generator)
    box_pick = torch.rand(b, generator=generator)
    ratio = arccos_ratio(torch.rand(b, generator=generator))
    iid = torch.rand(b, h, w, generator=generator) < ratio.view(b, 1, 1)
    aspect = torch.exp((torch.rand(b, generator=generator) * 2 - 1) * math.log(2.0))
    corner = torch.rand(b, 2, generator=generator)
    fallback = torch.randint(0, h * w, (b,), generator=generator)

    area = ratio * h * w
    box_h = torch.sqrt(area * aspect).round().clamp(1, h).long()
    box_w = (area / box_h).round().clamp(1, w).long()
    top = (corner[:, 0] * (h - box_h + 1)).floor().long()
    left = (corner[:, 1] * (w - box_w + 1)).floor().long()
    rows = torch.arange(h).view(1, h, 1)
    cols = torch.arange(w).view(1, 1, w)
    boxes = (
        (rows >= top.view(b, 1, 1))
        & (rows < (top + box_h).view(b, 1, 1))
        & (cols >= left.view(b, 1, 1))
        & (cols < (left + box_w).view(b, 1, 1))
    )

    if grown_share > 0:  # drawn only when asked, so runs without it hide exactly what they always hid
        grow_pick = torch.rand(b, generator=generator)
        steps = torch.randint(1, MAX_GROW + 1, (b,), generator=generator)
        region = torch.where((grow_pick < grown_share).view(b, 1, 1), grow(region, steps), region)
    has_region = region.flatten(1).any(1)
    use_region = has_region & (pick < defect_share)
    use_box = ~use_region & (box_pick < box_share)
    mask = torch.where(use_region.view(b, 1, 1), region, torch.where(use_box.view(b, 1, 1), boxes, iid))
    empty = ~mask.flatten(1).any(1)
    if empty.any():  # an example with nothing hidden teaches nothing: hide one random token
        flat = mask.view(b, -1)
        flat[empty, fallback[empty]] = True
    kind = torch.where(use_region, REGION, torch.where(use_box, BOX, TOKENS))
    return mask, kind
