"""Halton-order MaskGIT sampling, for whole images and for inpainting, as iterators of steps.

Each step reveals the next tokens of the (masked-token-filtered) Halton order. A caller shows progress
or previews between steps and stops by simply not asking for the next one: nothing is left behind.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from core.config import SamplerConfig
from core.device import autocast
from core.halton import halton_flat_order, reveal_schedule
from core.request import MAX_SHORT_SEED
from core.transformer import MaskTransformer


@dataclass(frozen=True)
class SamplerStep:
    """The state after one step. Tensors are the caller's to keep (copies)."""

    index: int  # 0-based
    total: int
    codes: torch.Tensor  # (B, h, w) int64; the mask token where still unknown
    known: torch.Tensor  # (B, h, w) bool: context tokens plus everything revealed so far
    revealed: torch.Tensor  # (B, h, w) bool: revealed at this step

    @property
    def done(self) -> bool:
        return self.index == self.total - 1


def random_seed(variants: int = 1) -> int:
    """The one draw of a random seed (the app's Generate and Regenerate, synth without --seed, a sampler run
    without one): short enough to read out and type, with `variants` consecutive seeds (seed, seed+1, ...) all
    within MAX_SHORT_SEED, so the app's seed box can show each."""
    return secrets.randbelow(MAX_SHORT_SEED - max(1, variants) + 2)


def _as_seeds(seeds: int | Sequence[int] | None, batch: int) -> list[int]:
    if seeds is None:
        seeds = random_seed()
    if isinstance(seeds, int):
        return [seeds + i for i in range(batch)]
    seeds = [int(s) for s in seeds]
    if len(seeds) != batch:
        raise ValueError(f"got {len(seeds)} seeds for a batch of {batch}")
    return seeds


class HaltonSampler:
    """Drives a MaskTransformer; `generate` and `inpaint` return iterators of SamplerStep."""

    def __init__(self, model: MaskTransformer, config: SamplerConfig | None = None):
        self.model = model
        self.config = config or SamplerConfig()
        self.config.validate()

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def generate(
        self,
        labels: Sequence[int] | torch.Tensor,
        seeds: int | Sequence[int] | None = None,
        config: SamplerConfig | None = None,
    ) -> Iterator[SamplerStep]:
        """Whole images: every token of the grid starts masked."""
        labels = torch.as_tensor(labels, dtype=torch.long).reshape(-1)
        size = self.model.config.input_size
        codes = torch.full((labels.numel(), size, size), self.model.config.mask_token, dtype=torch.long)
        token_mask = torch.ones(size, size, dtype=torch.bool)
        return self.inpaint(codes, token_mask, labels, seeds, config)

    def inpaint(
        self,
        codes: torch.Tensor,
        token_mask: torch.Tensor | np.ndarray,
        labels: Sequence[int] | torch.Tensor,
        seeds: int | Sequence[int] | None = None,
        config: SamplerConfig | None = None,
    ) -> Iterator[SamplerStep]:
        """Re-sample the tokens under `token_mask` (h, w); every other token is kept exactly.

        codes: (B, h, w) code grids (one per variant); labels: (B,) class ids (the null class for an
        unconditional 'cleanup' inpaint); seeds: one per variant, or a base seed (variant i gets seed+i).
        """
        cfg = config or self.config
        cfg.validate()
        mcfg = self.model.config
        codes = torch.as_tensor(codes, dtype=torch.long)
        if codes.ndim == 2:
            codes = codes.unsqueeze(0)
        labels = torch.as_tensor(labels, dtype=torch.long).reshape(-1)
        if labels.numel() == 1 and codes.shape[0] > 1:
            labels = labels.expand(codes.shape[0])
        if codes.shape[0] != labels.numel():
            raise ValueError(f"{codes.shape[0]} code grids but {labels.numel()} labels")
        batch, h, w = codes.shape
        if (h, w) != (mcfg.input_size, mcfg.input_size):
            raise ValueError(f"model works on {mcfg.input_size}x{mcfg.input_size} tokens, got {h}x{w}")
        if labels.min() < 0 or labels.max() > mcfg.null_class:
            raise ValueError(f"class ids must be in 0..{mcfg.num_classes} ({mcfg.num_classes} = null class)")
        token_mask = torch.as_tensor(token_mask, dtype=torch.bool)
        if token_mask.shape != (h, w):
            raise ValueError(f"token mask must be {h}x{w}, got {tuple(token_mask.shape)}")
        masked = token_mask.flatten().numpy()
        order = halton_flat_order((h, w))
        order = order[masked[order]]
        if order.size == 0:
            raise ValueError("the token mask is empty: nothing to inpaint")
        return self._run(codes, token_mask, order, labels, _as_seeds(seeds, batch), cfg)

    def _run(
        self,
        codes: torch.Tensor,
        token_mask: torch.Tensor,
        order: np.ndarray,
        labels: torch.Tensor,
        seeds: list[int],
        cfg: SamplerConfig,
    ) -> Iterator[SamplerStep]:
        device, mcfg = self.device, self.model.config
        batch, h, w = codes.shape
        n_masked = order.size
        steps = cfg.steps_for(n_masked, h * w)
        counts = reveal_schedule(n_masked, steps)
        generators = [torch.Generator(device=device).manual_seed(s) for s in seeds]
        orders = np.stack(
            [
                np.roll(order, int(torch.randint(0, n_masked, (1,), generator=g, device=device)))
                if cfg.randomize
                else order
                for g in generators
            ]
        )
        orders_t = torch.from_numpy(orders).to(device)
        flat = codes.reshape(batch, h * w).clone().to(device)
        flat[:, torch.from_numpy(token_mask.flatten().numpy()).to(device)] = mcfg.mask_token
        labels = labels.to(device)
        known = (~token_mask).flatten().to(device).unsqueeze(0).expand(batch, -1).clone()
        guided = cfg.cfg_weight != 0 and bool((labels != mcfg.null_class).any())
        was_training = self.model.training
        self.model.eval()
        try:
            start = 0
            for index, count in enumerate(counts):
                positions = orders_t[:, start : start + count]
                temperature = cfg.temperature(index, len(counts))
                with torch.no_grad():
                    logits = self._logits(flat, labels, positions, cfg.cfg_weight if guided else 0.0)
                    new_codes = self._sample(logits[..., : mcfg.codebook_size], temperature, cfg.top_k, generators)
                flat.scatter_(1, positions, new_codes)
                revealed = torch.zeros_like(known)
                revealed.scatter_(1, positions, True)
                known |= revealed
                start += count
                yield SamplerStep(
                    index=index,
                    total=len(counts),
                    codes=flat.view(batch, h, w).clone().cpu(),
                    known=known.view(batch, h, w).clone().cpu(),
                    revealed=revealed.view(batch, h, w).cpu(),
                )
        finally:
            self.model.train(was_training)

    def most_likely(
        self,
        codes: torch.Tensor,
        known: torch.Tensor,
        labels: Sequence[int] | torch.Tensor,
        config: SamplerConfig | None = None,
    ) -> torch.Tensor:
        """(B, h, w) `codes` with every token that is not `known` replaced by the model's most likely code given
        what is known now (with the run's guidance): the picture the next steps refine, for a live preview
        that converges to the result instead of showing the input where nothing is revealed yet."""
        cfg = config or self.config
        mcfg, device = self.model.config, self.device
        batch, h, w = codes.shape
        labels = torch.as_tensor(labels, dtype=torch.long).reshape(-1).expand(batch).to(device)
        flat = codes.reshape(batch, h * w).to(device)
        unknown = ~known.reshape(batch, h * w).to(device)
        flat = torch.where(unknown, torch.full_like(flat, mcfg.mask_token), flat)
        out = flat.clone()
        guided = cfg.cfg_weight != 0 and bool((labels != mcfg.null_class).any())
        was_training = self.model.training
        self.model.eval()
        try:
            for row in range(batch):  # rows may have different counts still unknown
                positions = unknown[row].nonzero().reshape(1, -1)
                if positions.numel():
                    with torch.no_grad():
                        logits = self._logits(
                            flat[row : row + 1], labels[row : row + 1], positions, cfg.cfg_weight if guided else 0.0
                        )
                    out[row, positions[0]] = logits[0, :, : mcfg.codebook_size].argmax(-1)
        finally:
            self.model.train(was_training)
        return out.view(batch, h, w).cpu()

    def _logits(
        self, flat: torch.Tensor, labels: torch.Tensor, positions: torch.Tensor, cfg_weight: float
    ) -> torch.Tensor:
        """Logits at `positions` only; with CFG, cond and uncond run as one doubled batch."""
        with autocast(flat.device):
            if cfg_weight == 0:
                return self.model(flat, labels, None, positions).float()
            batch = flat.shape[0]
            drop = torch.cat([torch.zeros(batch, dtype=torch.bool), torch.ones(batch, dtype=torch.bool)])
            logits = self.model(flat.repeat(2, 1), labels.repeat(2), drop.to(flat.device), positions.repeat(2, 1))
        cond, uncond = logits.float().chunk(2, dim=0)
        return (1 + cfg_weight) * cond - cfg_weight * uncond

    @staticmethod
    def _sample(
        logits: torch.Tensor, temperature: float, top_k: int, generators: list[torch.Generator]
    ) -> torch.Tensor:
        """One code per position; temperature multiplies the logits, as upstream's does."""
        logits = logits * temperature
        if top_k > 0:
            top_k = min(top_k, logits.shape[-1])
            kth = torch.topk(logits, top_k, dim=-1).values[..., -1:]
            logits = logits.masked_fill(logits < kth, float("-inf"))
        probs = torch.softmax(logits, dim=-1)
        rows = [torch.multinomial(probs[b], 1, generator=g).squeeze(-1) for b, g in enumerate(generators)]
        return torch.stack(rows)


def with_overrides(config: SamplerConfig, **overrides) -> SamplerConfig:
    """A copy of `config` with the non-None overrides applied (what a CLI or a panel builds)."""
    changes = {k: v for k, v in overrides.items() if v is not None}
    new = dataclasses.replace(config, **changes)
    new.validate()
    return new
