"""`defectforge train maskgit`: the Halton-MaskGIT transformer on a token cache, ending in a model bundle.

Recipe: masked-token cross-entropy with arccos masking plus defect-region masking (training.masking), CFG label
drop, AdamW(0.9, 0.999, wd 0.03), warmup / constant / cosine tail, grad clip, EMA, class-balanced batches,
optional unconditional first stage, bf16 autocast + SDPA (+ torch.compile) on CUDA, DDP under torchrun.
Resume is exact: model, EMA, optimizer, RNG streams, step and data position all come back from the checkpoint.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from core.bundle import save_bundle
from core.config import ConfigError, transformer_preset
from core.device import autocast
from core.sampler import with_overrides
from core.transformer import MaskTransformer, init_from_upstream, read_upstream_state_dict
from training import distributed as dist
from training.batches import EpochBatches, Position
from training.checkpoint import optimizer_from_files, optimizer_to_files
from training.datasets import spread
from training.jobs import (
    Clock,
    JobError,
    apply_threads,
    close_log_file,
    load_vq_source,
    open_run,
    provenance,
    restore_rank_rng,
    rng_for_checkpoint,
    setup_logging,
)
from training.masking import REGION, make_masks
from training.options import option, require_path
from training.runlog import RunLog, peak_rss_mb
from training.schedules import EMA, LRSchedule
from training.tokenize import TokenCache

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MaskGITConfig:
    tokens: str = option("", "token cache folder (from 'defectforge train tokenize')")
    out: str = option("", "run folder: checkpoints, logs, plots, bundle/")
    vq: str = option("", "VQ for the final bundle (default: the one the cache was tokenized with)")
    preset: str = option("cpu", "transformer preset: tiny, small, base, cpu, cpu-small, test")
    init_upstream: str | None = option(None, "upstream Halton-MaskGIT .pth to start from (class embedding re-made)")
    name: str = option("defectforge", "model name written into the bundle")
    steps: int = option(5000, "optimizer steps in total")
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
    ema_decay: float = option(0.999, "EMA decay of the weights (0 = no EMA)")
    balance_classes: bool = option(True, "draw batches so every class is equally likely")
    uncond_steps: int = option(0, "two-stage training: this many unconditional steps first, then conditional")
    compile: bool = option(False, "torch.compile the model (CUDA; slow to start)")
    seed: int = option(0, "seed of weights, batches and masks")
    device: str = option("auto", "auto, cpu, cuda or mps (DEFECTFORGE_DEVICE wins)")
    threads: int = option(
        0,
        "CPU threads for torch (0 = its default, one per core); 1 is often much faster on "
        "a machine whose cores other jobs keep busy",
    )
    checkpoint_every: int = option(500, "steps between checkpoints")
    keep_checkpoints: int = option(2, "checkpoints kept on disk")
    eval_every: int = option(500, "steps between held-out evaluations (and at the end)")
    eval_samples: int = option(256, "held-out examples per evaluation")
    log_every: int = option(10, "steps between log rows")
    resume: bool = option(True, "continue the run in --out from its last checkpoint")
    bundle_weights: str = option("ema", "weights written to the bundle", choices=("ema", "model"))
    sampler_steps: int | None = option(None, "sampler steps recorded in the bundle (default: SamplerConfig's)")
    cfg_weight: float | None = option(None, "CFG weight recorded in the bundle (default: the preset's)")

    def validate(self) -> None:
        if not self.tokens:
            raise ConfigError("--tokens is required (a token cache folder)")
        if not self.out:
            raise ConfigError("--out is required (the run folder)")
        for name in ("steps", "batch_size", "checkpoint_every", "eval_every", "log_every", "eval_samples"):
            if getattr(self, name) < 1:
                raise ConfigError(f"--{name.replace('_', '-')} must be >= 1")
        for name in ("label_drop", "defect_share", "box_share", "cosine_fraction", "ema_decay"):
            if not 0 <= getattr(self, name) <= 1:
                raise ConfigError(f"--{name.replace('_', '-')} must be in [0, 1]")
        if not self.lr > 0:  # also NaN, from a YAML config
            raise ConfigError("--lr must be > 0")
        require_path(self.tokens, "--tokens", "folder")
        require_path(self.init_upstream, "--init-upstream")
        require_path(self.vq, "--vq")


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


def build_model(cfg: MaskGITConfig, cache: TokenCache) -> MaskTransformer:
    try:
        mcfg = transformer_preset(
            cfg.preset, num_classes=len(cache.class_names), codebook_size=cache.codebook_size, input_size=cache.grid
        )
    except ConfigError as exc:
        raise JobError(str(exc)) from exc
    torch.manual_seed(cfg.seed)
    if not cfg.init_upstream:
        return MaskTransformer(mcfg)
    try:
        model = init_from_upstream(mcfg, read_upstream_state_dict(Path(cfg.init_upstream)))
    except (ValueError, KeyError) as exc:
        raise JobError(f"--init-upstream {cfg.init_upstream}: {str(exc).splitlines()[0]}") from exc
    log.info("transformer initialised from upstream checkpoint %s", cfg.init_upstream)
    return model


def train_maskgit(
    cfg: MaskGITConfig, command: str = "", on_step: Callable[[int, torch.nn.Module], None] | None = None
) -> Path:
    """Train (or resume) and write <out>/bundle; returns the bundle folder. `on_step(step, model)` runs after each
    step (tests use it to simulate a kill)."""
    apply_threads(cfg.threads)
    info = dist.setup(cfg.device)
    out = Path(cfg.out)
    setup_logging(out, info.is_main)
    try:
        return _train(cfg, command, on_step, info, out)
    finally:
        close_log_file(out)
        dist.cleanup(info)


def _train(cfg: MaskGITConfig, command: str, on_step, info: dist.DistInfo, out: Path) -> Path:
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
    checkpoints, latest = open_run(out, cfg, cfg.resume, cfg.keep_checkpoints, info.is_main)
    step, position, clock = 0, Position(), Clock()
    if latest is not None:
        latest.load_model("model", model)
        if ema is not None:
            latest.load_model("ema", ema.model)
        optimizer_from_files(optimizer, latest.tensors("optimizer"), latest.state["optimizer"])
        restore_rank_rng(latest, info, {"mask": gen})
        step, position = latest.step, Position(**latest.state["position"])
        clock.before = float(latest.state.get("wall_time_s", 0.0))
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
    columns = [
        "loss",
        "accuracy",
        "region_loss",
        "grad_norm",
        "val_ce",
        "val_accuracy",
        "val_region_ce",
        "val_region_accuracy",
    ]
    runlog = RunLog(out, columns, cfg.steps, step, enabled=info.is_main, description="maskgit")
    log.info(
        "MaskGIT %s (%s): %.1fM parameters, %d classes, %dx%d tokens, %d train / %d held-out images, "
        "batch %d x %d processes, steps %d -> %d on %s",
        cfg.preset,
        "upstream init" if cfg.init_upstream else "scratch",
        sum(p.numel() for p in model.parameters()) / 1e6,
        len(cache.class_names),
        cache.grid,
        cache.grid,
        train_idx.numel(),
        held_idx.numel(),
        cfg.batch_size,
        info.world_size,
        step,
        cfg.steps,
        device,
    )

    def evaluate() -> dict[str, float]:
        if held_idx.numel() == 0:
            return {}
        sel = held_idx[torch.tensor(spread(list(range(held_idx.numel())), cfg.eval_samples), dtype=torch.long)]
        return evaluate_tokens(
            ema.model if ema is not None else model, cache.codes[sel, 0], cache.region[sel, 0], cache.labels[sel]
        )

    def save(step: int, position: Position) -> None:
        rng_tensors, rng_meta = rng_for_checkpoint(info, {"mask": gen})
        if info.is_main:
            opt_tensors, opt_meta = optimizer_to_files(optimizer)
            models = {"model": model} | ({"ema": ema.model} if ema is not None else {})
            checkpoints.save(
                step,
                models,
                {"optimizer": opt_tensors, "rng": rng_tensors},
                {
                    "position": dataclasses.asdict(position),
                    "optimizer": opt_meta,
                    "rng": rng_meta,
                    "wall_time_s": clock.total(),
                    "world_size": info.world_size,
                    "log_window": window,
                },
            )
        dist.barrier(info)

    # Running sums since the last log row; checkpointed so a resumed run logs the same rows.
    window = {"loss": 0.0, "accuracy": 0.0, "region_loss": 0.0, "region_n": 0, "n": 0}
    if latest is not None:
        window |= latest.state.get("log_window", {})
    last_eval: dict[str, float] = {}
    model.train()
    iterator = batches.iterate(position)
    while step < cfg.steps:
        position, batch = next(iterator)
        rows = train_idx[torch.tensor([i for i, _, _ in batch])]
        augs = torch.tensor([a for _, a, _ in batch])
        codes, region, labels = cache.codes[rows, augs], cache.region[rows, augs], cache.labels[rows]
        mask, kind = make_masks(region, gen, cfg.defect_share, cfg.box_share)
        drop = torch.rand(labels.shape[0], generator=gen) < cfg.label_drop
        if step < cfg.uncond_steps:
            drop[:] = True
        drop |= labels < 0  # clean images: the null class, which is also what a cleanup inpaint asks for
        inputs = codes.masked_fill(mask, mcfg.mask_token)
        lr = schedule.apply(optimizer, step)
        with autocast(device):
            logits = forward(inputs.to(device), labels.clamp_min(0).to(device), drop.to(device))
        flat_mask, targets = mask.flatten(1).to(device), codes.flatten(1).to(device)
        loss, accuracy = masked_cross_entropy(logits, targets, flat_mask, cfg.label_smoothing)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip if cfg.grad_clip > 0 else 1e12)
        optimizer.step()
        step += 1
        if ema is not None:
            ema.update(model, step)

        with torch.no_grad():
            region_rows = (kind == REGION).to(device)
            if region_rows.any():
                region_loss, _ = masked_cross_entropy(logits[region_rows], targets[region_rows], flat_mask[region_rows])
                window["region_loss"] += float(region_loss)
                window["region_n"] += 1
        loss_value, accuracy_value = float(loss.detach()), float(accuracy)
        window["loss"] += loss_value
        window["accuracy"] += accuracy_value
        window["n"] += 1
        runlog.progress(loss=loss_value, acc=accuracy_value, lr=lr)
        evaluated = {}
        if step % cfg.eval_every == 0 or step == cfg.steps:
            evaluated = last_eval = evaluate()
        if step % cfg.log_every == 0 or step == cfg.steps or evaluated:
            n = max(1, window["n"])
            values = {
                "loss": dist.mean_across(window["loss"] / n, info),
                "accuracy": dist.mean_across(window["accuracy"] / n, info),
                "region_loss": window["region_loss"] / window["region_n"] if window["region_n"] else None,
                "grad_norm": float(grad_norm),
                "lr": lr,
                "seconds": round(clock.total(), 2),
            }
            values |= {f"val_{k}": v for k, v in evaluated.items()}
            runlog.log(step, values)
            window = dict.fromkeys(window, 0)
        if step % cfg.checkpoint_every == 0 or step == cfg.steps:
            save(step, position)
        if on_step is not None:
            on_step(step, model)
    runlog.close()
    if not last_eval:  # resumed a finished run: measure again for the bundle's provenance
        last_eval = evaluate()
    return _finish(cfg, command, info, out, cache, model, ema, runlog, step, clock, last_eval)


def _finish(
    cfg: MaskGITConfig,
    command: str,
    info: dist.DistInfo,
    out: Path,
    cache: TokenCache,
    model: MaskTransformer,
    ema: EMA | None,
    runlog: RunLog,
    step: int,
    clock: Clock,
    last_eval: dict[str, float],
) -> Path:
    bundle_path = out / "bundle"
    if not info.is_main:
        dist.barrier(info)
        return bundle_path
    runlog.plot(
        {
            "loss.png": ["loss", "region_loss", "val_ce", "val_region_ce"],
            "accuracy.png": ["accuracy", "val_accuracy", "val_region_accuracy"],
        }
    )
    vq_info = cache.index["vq"]
    source = load_vq_source(cfg.vq or vq_info["source"], vq_info.get("preset", "vq16"))
    if vq_info.get("sha256") and source.sha256 and source.sha256 != vq_info["sha256"]:
        raise JobError(
            f"the VQ at {source.path} is not the one {cfg.tokens} was tokenized with "
            "(weights changed); re-tokenize or point --vq at the original"
        )
    weights = ema.model if ema is not None and cfg.bundle_weights == "ema" else model
    sampler = with_overrides(_sampler_defaults(cfg.preset), steps=cfg.sampler_steps, cfg_weight=cfg.cfg_weight)
    metrics = {f"heldout_{k}": v for k, v in last_eval.items()}
    prov = provenance(
        "train maskgit",
        command,
        cfg,
        info.device,
        step,
        clock.total(),
        metrics,
        world_size=info.world_size,
        extra={
            "data": cache.index["dataset"],
            "split": cache.index["split"],
            "tokens": str(Path(cfg.tokens).resolve()),
            "vq_source": source.path,
            "seed": cfg.seed,
            "weights": "ema" if weights is not model else "model",
        },
    )
    save_bundle(
        bundle_path,
        cfg.name,
        cache.class_names,
        source.model.cpu(),
        weights.cpu(),
        sampler,
        image_size=int(cache.index["image_size"]),
        provenance=prov,
        overwrite=True,
    )
    runlog.keep_in_bundle(bundle_path, "maskgit", earlier=Path(source.path) if source.path else None)
    model.to(info.device)
    log.info(
        "bundle written to %s after %d steps, %.0f s; peak RSS %.0f MiB",
        bundle_path,
        step,
        clock.total(),
        peak_rss_mb(),
    )
    dist.barrier(info)
    return bundle_path


def _sampler_defaults(preset: str):
    from core.config import sampler_preset

    return sampler_preset(preset)
