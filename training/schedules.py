"""Learning-rate schedule and EMA weights, both pure functions of the step so a resumed run matches exactly."""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class LRSchedule:
    """Linear warmup, constant, then a cosine tail over the last `cosine_fraction` of the steps."""

    base_lr: float
    total_steps: int
    warmup_steps: int = 0
    cosine_fraction: float = 0.0
    min_lr_ratio: float = 0.0

    def factor(self, step: int) -> float:
        """Multiplier for the update made at `step` (0-based)."""
        if self.warmup_steps > 0 and step < self.warmup_steps:
            return (step + 1) / self.warmup_steps
        tail = int(round(self.total_steps * self.cosine_fraction))
        start = max(self.warmup_steps, self.total_steps - tail)
        if tail <= 0 or step < start:
            return 1.0
        progress = min(1.0, (step - start) / max(1, self.total_steps - start))
        return self.min_lr_ratio + (1 - self.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress))

    def lr(self, step: int) -> float:
        return self.base_lr * self.factor(step)

    def apply(self, optimizer: torch.optim.Optimizer, step: int) -> float:
        lr = self.lr(step)
        for group in optimizer.param_groups:
            group["lr"] = lr
        return lr


class EMA:
    """Exponential moving average of a model's weights (buffers copied as they are)."""

    def __init__(self, model: nn.Module, decay: float):
        self.decay = decay
        self.model = copy.deepcopy(model).eval()
        for p in self.model.parameters():
            p.requires_grad_(False)

    def decay_at(self, step: int | None) -> float:
        """The decay for update number `step` (1-based): warmed up as (1 + step) / (10 + step), so a short run's
        average is not dominated by its random initial weights (0.999 ** 1000 = 0.37 of them would be left)."""
        if step is None:
            return self.decay
        return min(self.decay, (1.0 + step) / (10.0 + step))

    @torch.no_grad()
    def update(self, model: nn.Module, step: int | None = None) -> None:
        decay = self.decay_at(step)
        for ema_p, p in zip(self.model.parameters(), model.parameters(), strict=True):
            ema_p.lerp_(p.detach(), 1.0 - decay)
        for ema_b, b in zip(self.model.buffers(), model.buffers(), strict=True):
            ema_b.copy_(b)
