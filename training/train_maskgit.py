"""`defectforge train maskgit`: the Halton-MaskGIT transformer on a token cache, ending in a model bundle.

Recipe: masked-token cross-entropy with arccos masking plus defect-region masking (training.masking), CFG label
drop, AdamW(0.9, 0.999, wd 0.03), warmup / constant / cosine tail, grad clip, EMA, class-balanced batches,
optional unconditional first stage, bf16 autocast + SDPA (+ torch.compile) on CUDA, DDP under torchrun.
Resume is exact: model, EMA, optimizer, RNG streams, step and data position all come back from the checkpoint.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import torch
from safetensors import SafetensorError

from core.bundle import BundleContents, save_bundle
from core.config import ConfigError, sampler_override, transformer_preset
from core.device import autocast
from core.sampler import with_overrides
from core.transformer import MaskTransformer, init_from_upstream, init_from_weights, read_upstream_state_dict
from training import campaign_state
from training import distributed as dist
from training.batches import EpochBatches
from training.datasets import spread
from training.jobs import JobError, load_vq_source
from training.masking import REGION, make_masks
from training.measures import evaluate_tokens, masked_cross_entropy
from training.options import option, require_path
from training.run import RunOptions, StepValues, TrainingRun, launch
from training.schedules import EMA, LRSchedule
from training.tokenize import TokenCache

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MaskGITConfig(RunOptions):
    tokens: str = option("", "token cache folder (from 'defectforge train tokenize')")
    vq: str = option("", "VQ for the final bundle (default: the one the cache was tokenized with)", resume_safe=True)
    preset: str = option("cpu", "transformer preset: tiny, small, base, cpu, cpu-small, test")
    init_upstream: str | None = option(None, "upstream Halton-MaskGIT .pth to start from (class embedding re-made)")
    init_weights: str | None = option(
        None,
        "our own transformer weights to start from: a bundle's transformer.safetensors or a packed campaign state "
        "(train state) of the same preset, classes and codebook; positional embeddings of another token grid are "
        "resampled to this cache's",
    )
    batch_size: int = option(32, "examples per step and process")
    lr: float = option(1e-4, "peak learning rate")
    beta1: float = option(0.9, "AdamW beta1")
    beta2: float = option(0.999, "AdamW beta2")
    weight_decay: float = option(0.03, "AdamW weight decay")
    warmup_steps: int = option(500, "linear warmup steps")
    cosine_fraction: float = option(0.2, "share of the steps at the end that decay along a cosine")
    min_lr_ratio: float = option(0.0, "learning rate at the very end, as a share of --lr")
    grad_clip: float = option(1.0, "gradient norm clip (0 = off)")
    label_drop: float = option(0.1, "share of examples trained with the null class (for CFG)")
    label_smoothing: float = option(0.1, "cross-entropy label smoothing")
    defect_share: float = option(0.5, "share of examples (with a defect) that hide exactly the defect's tokens")
    box_share: float = option(0.25, "share of the other examples that hide a random box instead of random tokens")
    grown_share: float = option(
        0.0,
        "share of the defect-region examples whose hole is the defect grown by 1-3 tokens, as painted masks are "
        "(the model learns to draw the defect inside the hole and continue the surface to its edge)",
    )
    ema_decay: float = option(0.999, "EMA decay of the weights (0 = no EMA)")
    balance_classes: bool = option(True, "draw batches so every class is equally likely")
    uncond_steps: int = option(0, "two-stage training: this many unconditional steps first, then conditional")
    compile: bool = option(False, "torch.compile the model (CUDA; slow to start)", resume_safe=True)
    seed: int = option(0, "seed of weights, batches and masks")
    eval_samples: int = option(256, "held-out examples per evaluation", resume_safe=True)
    bundle_weights: str = option("ema", "weights written to the bundle", choices=("ema", "model"), resume_safe=True)
    sampler_steps: int | None = sampler_override(
        "steps", "sampler steps recorded in the bundle (default: SamplerConfig's)", resume_safe=True
    )
    cfg_weight: float | None = sampler_override(
        "cfg_weight", "CFG weight recorded in the bundle (default: the preset's)", resume_safe=True
    )

    def validate(self) -> None:
        if not self.tokens:
            raise ConfigError("--tokens is required (a token cache folder)")
        super().validate()
        for name in ("batch_size", "eval_samples"):
            if getattr(self, name) < 1:
                raise ConfigError(f"--{name.replace('_', '-')} must be >= 1")
        for name in ("label_drop", "defect_share", "box_share", "grown_share", "cosine_fraction", "ema_decay"):
            if not 0 <= getattr(self, name) <= 1:
                raise ConfigError(f"--{name.replace('_', '-')} must be in [0, 1]")
        if not self.lr > 0:  # also NaN, from a YAML config
            raise ConfigError("--lr must be > 0")
        require_path(self.tokens, "--tokens", "folder")
        require_path(self.init_upstream, "--init-upstream")
        require_path(self.init_weights, "--init-weights")
        if self.init_upstream and self.init_weights:
            raise ConfigError("give --init-upstream or --init-weights, not both")
        require_path(self.vq, "--vq")


def build_model(cfg: MaskGITConfig, cache: TokenCache) -> MaskTransformer:
    try:
        mcfg = transformer_preset(
            cfg.preset, num_classes=len(cache.class_names), codebook_size=cache.codebook_size, input_size=cache.grid
        )
    except ConfigError as exc:
        raise JobError(str(exc)) from exc
    torch.manual_seed(cfg.seed)
    if cfg.init_weights:
        return _from_weights(cfg.init_weights, mcfg)
    if not cfg.init_upstream:
        return MaskTransformer(mcfg)
    try:
        model = init_from_upstream(mcfg, read_upstream_state_dict(Path(cfg.init_upstream)))
    except (ValueError, KeyError) as exc:
        raise JobError(f"--init-upstream {cfg.init_upstream}: {str(exc).splitlines()[0]}") from exc
    log.info("transformer initialised from upstream checkpoint %s", cfg.init_upstream)
    return model


def _from_weights(path: str, mcfg) -> MaskTransformer:
    """A model seeded from our own weights file: a bundle's transformer.safetensors or a packed campaign state."""
    try:
        model = init_from_weights(mcfg, campaign_state.model_weights(Path(path)))
    except (OSError, SafetensorError, ValueError) as exc:
        raise JobError(f"--init-weights {path}: {str(exc).splitlines()[0]}") from exc
    log.info("transformer initialised from %s", path)
    return model


# CSV columns and plots of a MaskGIT run (lr, seconds and peak memory come with every run log).
COLUMNS = (
    "loss",
    "accuracy",
    "region_loss",
    "grad_norm",
    "val_ce",
    "val_accuracy",
    "val_region_ce",
    "val_region_accuracy",
)
FIGURES = {
    "loss.png": ["loss", "region_loss", "val_ce", "val_region_ce"],
    "accuracy.png": ["accuracy", "val_accuracy", "val_region_accuracy"],
}


def train_maskgit(
    cfg: MaskGITConfig, command: str = "", on_step: Callable[[int, torch.nn.Module], None] | None = None
) -> Path:
    """Train (or resume) and write <out>/bundle; returns the bundle folder. `on_step(step, model)` runs after each
    step (tests use it to simulate a kill)."""
    return launch(cfg, lambda info: _train(cfg, command, on_step, info))


def _train(cfg: MaskGITConfig, command: str, on_step, info: dist.DistInfo) -> Path:
    device = info.device
    cache = TokenCache(cfg.tokens)
    train_idx, held_idx = cache.split(heldout=False), cache.split(heldout=True)
    if train_idx.numel() == 0:
        raise JobError(f"{cfg.tokens}: every sample is held out; lower --val-fraction when tokenizing")
    model = build_model(cfg, cache).to(device)
    mcfg = model.config
    ema = EMA(model, cfg.ema_decay) if cfg.ema_decay > 0 else None
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), weight_decay=cfg.weight_decay
    )
    schedule = LRSchedule(cfg.lr, cfg.steps, cfg.warmup_steps, cfg.cosine_fraction, cfg.min_lr_ratio)
    gen = torch.Generator().manual_seed(cfg.seed * 7919 + info.rank)
    run = TrainingRun("maskgit", cfg, info, command, generators={"mask": gen})
    run.keep({"model": model} | ({"ema": ema.model} if ema is not None else {}), {"optimizer": optimizer})
    forward = dist.wrap(model, info)
    if cfg.compile and device.type == "cuda":
        forward = torch.compile(forward)
    labels_train = cache.labels[train_idx]
    batches = EpochBatches(
        train_idx.numel(),
        cfg.batch_size,
        cfg.seed,
        info.rank,
        info.world_size,
        labels=labels_train.tolist() if cfg.balance_classes else None,
        n_augmentations=cache.n_augmentations,
    )
    log.info(
        "MaskGIT %s (%s): %.1fM parameters, %d classes, %dx%d tokens, %d train / %d held-out images, "
        "batch %d x %d processes, steps %d -> %d on %s",
        cfg.preset,
        "upstream init" if cfg.init_upstream else f"from {cfg.init_weights}" if cfg.init_weights else "scratch",
        sum(p.numel() for p in model.parameters()) / 1e6,
        len(cache.class_names),
        cache.grid,
        cache.grid,
        train_idx.numel(),
        held_idx.numel(),
        cfg.batch_size,
        info.world_size,
        run.step,
        cfg.steps,
        device,
    )

    def step(index: int, batch: list[tuple[int, int, int]]) -> StepValues:
        rows = train_idx[torch.tensor([i for i, _, _ in batch])]
        augs = torch.tensor([a for _, a, _ in batch])
        codes, region, labels = cache.codes[rows, augs], cache.region[rows, augs], cache.labels[rows]
        mask, kind = make_masks(region, gen, cfg.defect_share, cfg.box_share, cfg.grown_share)
        drop = torch.rand(labels.shape[0], generator=gen) < cfg.label_drop
        if index < cfg.uncond_steps:
            drop[:] = True
        drop |= labels < 0  # clean images: the null class, which is also what a cleanup inpaint asks for
        inputs = codes.masked_fill(mask, mcfg.mask_token)
        lr = schedule.apply(optimizer, index)
        with autocast(device):
            logits = forward(inputs.to(device), labels.clamp_min(0).to(device), drop.to(device))
        flat_mask, targets = mask.flatten(1).to(device), codes.flatten(1).to(device)
        loss, accuracy = masked_cross_entropy(logits, targets, flat_mask, cfg.label_smoothing)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip if cfg.grad_clip > 0 else 1e12)
        optimizer.step()
        if ema is not None:
            ema.update(model, index + 1)
        means = {"loss": float(loss.detach()), "accuracy": float(accuracy)}
        with torch.no_grad():
            region_rows = (kind == REGION).to(device)
            if region_rows.any():  # averaged over the steps that had some
                region_loss, _ = masked_cross_entropy(logits[region_rows], targets[region_rows], flat_mask[region_rows])
                means["region_loss"] = float(region_loss)
        return StepValues(
            means,
            latest={"grad_norm": float(grad_norm), "lr": lr},
            bar={"loss": means["loss"], "acc": means["accuracy"], "lr": lr},
        )

    def evaluate() -> dict[str, float]:
        sel = held_idx[torch.tensor(spread(list(range(held_idx.numel())), cfg.eval_samples), dtype=torch.long)]
        return evaluate_tokens(
            ema.model if ema is not None else model, cache.codes[sel, 0], cache.region[sel, 0], cache.labels[sel]
        )

    model.train()
    run.train(
        batches.iterate(run.position),
        step,
        COLUMNS,
        evaluate if held_idx.numel() else None,
        on_step=(lambda done: on_step(done, model)) if on_step is not None else None,
    )
    return run.write_bundle(partial(_save_bundle, cfg, run, cache, model, ema), FIGURES)


def _save_bundle(
    cfg: MaskGITConfig, run: TrainingRun, cache: TokenCache, model: MaskTransformer, ema: EMA | None, folder: Path
) -> Path | None:
    """The trained transformer with the VQ the cache was tokenized with; returns that VQ's folder, whose
    training log travels along."""
    vq_info = cache.index["vq"]
    source = load_vq_source(cfg.vq or vq_info["source"], vq_info.get("preset", "vq16"))
    if vq_info.get("sha256") and source.sha256 and source.sha256 != vq_info["sha256"]:
        raise JobError(
            f"the VQ at {source.path} is not the one {cfg.tokens} was tokenized with "
            "(weights changed); re-tokenize or point --vq at the original"
        )
    weights = ema.model if ema is not None and cfg.bundle_weights == "ema" else model
    sampler = with_overrides(_sampler_defaults(cfg.preset), steps=cfg.sampler_steps, cfg_weight=cfg.cfg_weight)
    prov = run.provenance(
        {f"heldout_{k}": v for k, v in run.last_eval.items()},
        {
            "data": cache.index["dataset"],
            "split": cache.index["split"],
            "tokens": str(Path(cfg.tokens).resolve()),
            "vq_source": source.path,
            "seed": cfg.seed,
            "weights": "ema" if weights is not model else "model",
        },
    )
    contents = BundleContents(
        cfg.name,
        cache.class_names,
        source.model.cpu(),
        weights.cpu(),
        sampler,
        image_size=int(cache.index["image_size"]),
        provenance=prov,
    )
    save_bundle(folder, contents, overwrite=True)
    model.to(run.info.device)
    return Path(source.path) if source.path else None


def _sampler_defaults(preset: str):
    from core.config import sampler_preset

    return sampler_preset(preset)
