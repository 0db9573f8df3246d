"""`defectforge train vq`: the LlamaGen VQ tokenizer, from scratch or fine-tuned, ending in a model bundle.

LlamaGen recipe (tokenizer/tokenizer_image/vq_train.py + vq_loss.py): L2 reconstruction + perceptual (LPIPS VGG;
see training.perceptual for the offline fallback) + codebook and commitment losses, and after `--disc-start`
steps a PatchGAN hinge loss (optionally with the adaptive weight); Adam(0.9, 0.95), grad clip 1.0.
`--init-llamagen` starts from an official checkpoint; `--train decoder` then keeps encoder and codebook frozen,
so every token a transformer already knows keeps its meaning.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch.utils.data import DataLoader

from core.bundle import BundleContents, BundleError, load_bundle, save_bundle
from core.config import VQ_PRESETS, ConfigError, transformer_preset, vq_preset
from core.device import autocast
from core.pixels import to_model_tensor
from core.transformer import MaskTransformer
from core.vq import VQModel, load_llamagen_checkpoint, read_checkpoint_state_dict
from training import distributed as dist
from training.batches import EpochBatches, Position
from training.datasets import (
    DataError,
    class_list,
    dataset_record,
    dihedral,
    open_dataset,
    prepare,
    split_dataset,
    spread,
)
from training.jobs import JobError, load_vq_source
from training.losses import PatchGANDiscriminator, adaptive_weight, hinge_d_loss, hinge_g_loss
from training.measures import measure_reconstruction
from training.options import DatasetOptions, option, require_class_names, require_path, restate
from training.perceptual import MODES, PerceptualError, PerceptualLoss
from training.run import RunOptions, StepValues, TrainingRun, launch
from training.schedules import LRSchedule
from training.vq_init import WarmStartError, warm_start

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class VQTrainConfig(DatasetOptions, RunOptions):
    out: str = restate(RunOptions, "out", help="run folder: checkpoints, logs, plots, samples/, bundle/")
    preset: str = option("vq16-cpu", f"VQ preset: {', '.join(VQ_PRESETS)} (vq16: upstream's)")
    init_llamagen: str | None = option(None, "official LlamaGen VQ checkpoint (.pt) to fine-tune (preset vq16)")
    init_bundle: str | None = option(
        None,
        "model bundle folder, or a VQ .safetensors of --preset's layout (e.g. a campaign's committed weights), whose "
        "VQ to start from; either may differ in codebook size (k-means of the latents) and channels (RGB <-> gray)",
    )
    train: str = option(
        "all", "which weights learn: all, or decoder (encoder and codebook frozen)", choices=("all", "decoder")
    )
    image_size: int = option(256, "model resolution (images are square-cropped and resized to it)")
    crop_size: int = option(
        0, "train on random crops this big of the image_size images (same pixel scale, cheaper steps; 0 = whole images)"
    )
    name: str = restate(RunOptions, "name", "defectforge-vq")
    classes: tuple[str, ...] = option((), "class names in index order (default: sorted dataset classes)")
    steps: int = restate(RunOptions, "steps", 2000)
    batch_size: int = option(8, "images per step and process")
    lr: float = option(1e-4, "learning rate (generator and discriminator)")
    beta1: float = option(0.9, "Adam beta1")
    beta2: float = option(0.95, "Adam beta2")
    weight_decay: float = option(0.0, "Adam weight decay")
    warmup_steps: int = option(0, "linear warmup steps (LlamaGen: none)")
    grad_clip: float = option(1.0, "gradient norm clip (0 = off)")
    recon_weight: float = option(1.0, "L2 reconstruction weight")
    perceptual: str = option(
        "auto",
        "perceptual loss: auto (lpips if VGG weights are on disk, else ssim), lpips, ssim, critic (the features of "
        "--perceptual-critic), none",
        choices=MODES,
    )
    perceptual_critic: str | None = option(
        None,
        "a defect classifier (a bundle's classifier.safetensors or an eval's judge.safetensors) whose feature maps "
        "--perceptual critic compares: a network that knows your surfaces, where LPIPS's VGG is not on disk",
    )
    perceptual_weight: float = option(1.0, "perceptual loss weight")
    codebook_weight: float = option(1.0, "codebook + commitment loss weight")
    codebook_restart: int = option(
        0,
        "every N steps, move codes unused lately onto this batch's encoder outputs "
        "(fights codebook collapse with small batches; 0 = off, as LlamaGen)",
    )
    disc_start: int = option(20000, "step at which the PatchGAN discriminator and GAN loss start")
    disc_weight: float = option(0.5, "GAN loss weight")
    disc_adaptive: bool = option(False, "scale the GAN loss by the VQGAN adaptive weight")
    disc_ndf: int = option(64, "discriminator base width")
    disc_layers: int = option(3, "discriminator downsampling layers")
    augment: bool = option(True, "random dihedral augmentation (rotations x flip)")
    seed: int = option(0, "seed of weights and batches")
    workers: int = option(0, "data loader worker processes", resume_safe=True)
    checkpoint_every: int = restate(RunOptions, "checkpoint_every", 250)
    eval_every: int = restate(
        RunOptions, "eval_every", 250, help="steps between held-out metrics and sample grids (and at the end)"
    )
    eval_images: int = option(16, "held-out images per evaluation", resume_safe=True)

    def validate(self) -> None:
        DatasetOptions.validate(self)
        RunOptions.validate(self)
        for name in ("batch_size", "image_size"):
            if getattr(self, name) < 1:
                raise ConfigError(f"--{name.replace('_', '-')} must be >= 1")
        if not 0 <= self.crop_size <= self.image_size:
            raise ConfigError("--crop-size must be between 0 (whole images) and --image-size")
        if not self.lr > 0:  # also NaN, from a YAML config
            raise ConfigError("--lr must be > 0")
        require_class_names(self.classes, "--classes")
        require_path(self.init_llamagen, "--init-llamagen")
        require_path(self.init_bundle, "--init-bundle")
        require_path(self.perceptual_critic, "--perceptual-critic")
        if self.perceptual == "critic" and not self.perceptual_critic:
            raise ConfigError("--perceptual critic needs --perceptual-critic (a classifier or judge file)")
        if self.init_bundle and Path(self.init_bundle).is_file() and not self.init_bundle.endswith(".safetensors"):
            raise ConfigError("--init-bundle takes a model bundle folder or a VQ .safetensors file")
        if self.init_llamagen and self.init_bundle:
            raise ConfigError("give --init-llamagen or --init-bundle, not both")


class ImageSet(torch.utils.data.Dataset):
    """Items are (sample index, augmentation, salt) from the batch plan, which alone decides what a step sees."""

    def __init__(self, samples: list, image_size: int, cache: bool, crop_size: int = 0):
        self.samples, self.image_size, self.crop_size = samples, image_size, crop_size
        self._cache: dict[int, np.ndarray] | None = {} if cache else None

    def __len__(self) -> int:
        return len(self.samples)

    def image(self, index: int) -> np.ndarray:
        if self._cache is not None and index in self._cache:
            return self._cache[index]
        image = prepare(self.samples[index], self.image_size).image
        if self._cache is not None:
            self._cache[index] = image
        return image

    def __getitem__(self, item: tuple[int, int, int]) -> torch.Tensor:
        index, aug, salt = item
        image = dihedral(self.image(index), aug)
        if self.crop_size and self.crop_size < self.image_size:
            span = self.image_size - self.crop_size + 1
            top, left = salt % span, (salt // span) % span
            image = image[top : top + self.crop_size, left : left + self.crop_size]
        return to_model_tensor(np.ascontiguousarray(image)[None])[0]


def save_grid(path: Path, inputs: np.ndarray, recon: np.ndarray, max_images: int = 8) -> None:
    """Top row: inputs; bottom row: reconstructions."""
    n = min(max_images, len(inputs))
    grid = np.concatenate([np.concatenate(list(inputs[:n]), axis=1), np.concatenate(list(recon[:n]), axis=1)], axis=0)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(grid).save(path)


def build_vq(cfg: VQTrainConfig) -> VQModel:
    try:
        config = vq_preset(cfg.preset)
    except ConfigError as exc:
        raise JobError(str(exc)) from exc
    torch.manual_seed(cfg.seed)
    if not cfg.init_llamagen:
        if cfg.train == "decoder" and not cfg.init_bundle:
            raise JobError("--train decoder needs pretrained weights to keep: give --init-llamagen or --init-bundle")
        return VQModel(config)  # an --init-bundle start is seeded in _seed_from_bundle, once the data is read
    try:
        state = read_checkpoint_state_dict(Path(cfg.init_llamagen), ("ema", "model", "state_dict"))
        mismatch = _mismatch({k.removeprefix("module."): v for k, v in state.items()}, VQModel(config))
        if mismatch:
            raise ValueError(f"{mismatch} (LlamaGen VQ-16 checkpoints need --preset vq16)")
        model = load_llamagen_checkpoint(Path(cfg.init_llamagen), config)
    except (ValueError, RuntimeError, FileNotFoundError) as exc:
        raise JobError(
            f"--init-llamagen {cfg.init_llamagen} (preset {cfg.preset}): {str(exc).strip().splitlines()[0]}"
        ) from exc
    return model.train()


def _seed_from_bundle(cfg: VQTrainConfig, vq: VQModel, train_samples: list) -> None:
    """Warm start from a bundle's VQ, or from a VQ weights file of the run's preset (a resumed run then loads its
    own checkpoint over it)."""
    try:
        if Path(cfg.init_bundle).is_file():  # bf16 campaign weights load into the fp32 model
            source = load_vq_source(cfg.init_bundle, cfg.preset, sibling=True).model
        else:
            source = load_bundle(cfg.init_bundle, tokenizer_only_ok=True).vq
    except BundleError as exc:
        raise JobError(f"--init-bundle: {exc}") from exc
    images = np.stack([prepare(s, cfg.image_size).image for s in spread(train_samples, 256)])
    try:
        warm_start(vq, source.to(next(vq.parameters()).device), images, seed=cfg.seed)
    except WarmStartError as exc:
        raise JobError(f"--init-bundle {cfg.init_bundle} (preset {cfg.preset}): {exc}") from exc


def _mismatch(state: dict[str, torch.Tensor], model: torch.nn.Module) -> str:
    """The first way a state dict does not fit `model`, in words; '' when it fits."""
    own = model.state_dict()
    for key, value in own.items():
        if key not in state:
            return f"the checkpoint has no weight {key}"
        if tuple(state[key].shape) != tuple(value.shape):
            return (
                f"weight {key} is {tuple(state[key].shape)} in the checkpoint, this preset needs {tuple(value.shape)}"
            )
    extra = sorted(set(state) - set(own))
    return f"the checkpoint has weights this preset lacks ({extra[0]}, ...)" if extra else ""


def trainable(vq: VQModel, mode: str) -> list[torch.nn.Parameter]:
    if mode == "decoder":
        for module in (vq.encoder, vq.quant_conv, vq.quantize):
            for p in module.parameters():
                p.requires_grad_(False)
    return [p for p in vq.parameters() if p.requires_grad]


@torch.no_grad()
def restart_dead_codes(
    vq: VQModel, latents: torch.Tensor, info: dist.DistInfo, generator: torch.Generator | None = None
) -> int:
    """Codes absent from the recent-usage window get a random encoder output of the current batch (plus a
    little noise, so two restarted codes never coincide). Rank 0 decides and broadcasts; draws come from a
    checkpointed CPU generator, so resume stays exact. Returns how many codes moved."""
    quantizer = vq.quantize
    weight = quantizer.embedding.weight
    used = torch.zeros(quantizer.size, dtype=torch.bool, device=weight.device)
    used[quantizer.codebook_used.long().to(weight.device)] = True
    dead = torch.nonzero(~used).flatten()
    if info.is_main and dead.numel():
        flat = latents.permute(0, 2, 3, 1).reshape(-1, quantizer.dim)
        if quantizer.l2_norm:
            flat = F.normalize(flat, dim=-1)
        pick = torch.randint(0, flat.shape[0], (dead.numel(),), generator=generator)
        noise = torch.randn(dead.numel(), quantizer.dim, generator=generator).to(flat.device)
        weight[dead] = (flat[pick.to(flat.device)] + 0.01 * noise).to(weight.dtype)
    if info.distributed:
        torch.distributed.broadcast(weight.data, src=0)
    return int(dead.numel())


def average_gradients(module: torch.nn.Module, info: dist.DistInfo) -> None:
    """Hand-rolled all-reduce for the discriminator: it runs forward several times per step, which DDP does
    not allow between backwards."""
    if not info.distributed:
        return
    for p in module.parameters():
        if p.grad is not None:
            torch.distributed.all_reduce(p.grad)
            p.grad /= info.world_size


# CSV columns and plots of a VQ run (lr, seconds and peak memory come with every run log).
COLUMNS = (
    "loss",
    "recon_loss",
    "perceptual_loss",
    "codebook_loss",
    "gan_g_loss",
    "disc_loss",
    "gan_weight",
    "codebook_usage",
    "codebook_restarts",
    "val_ssim",
    "val_psnr",
    "val_edge_iou",
    "val_heldout_codebook_usage",
)
FIGURES = {
    "loss.png": ["loss", "recon_loss", "perceptual_loss", "codebook_loss"],
    "gan.png": ["gan_g_loss", "disc_loss"],
    "quality.png": ["val_ssim", "val_edge_iou", "codebook_usage"],
}


def train_vq(
    cfg: VQTrainConfig, command: str = "", on_step: Callable[[int, torch.nn.Module], None] | None = None
) -> Path:
    """Train (or resume) and write <out>/bundle; returns the bundle folder. `on_step(step, vq)` runs after each
    step (tests use it to simulate a kill)."""
    return launch(cfg, lambda info: _train(cfg, command, on_step, info))


def _train(cfg: VQTrainConfig, command: str, on_step, info: dist.DistInfo) -> Path:
    device = info.device
    dataset = open_dataset(cfg.data)
    train_samples, held_samples = split_dataset(dataset, cfg.val_fraction, cfg.split_seed)
    if not train_samples:
        raise JobError(f"{cfg.data}: every image is held out; lower --val-fraction")
    try:
        classes = class_list(dataset, list(cfg.classes))
    except DataError:
        classes = ["defect"]
        log.warning(
            "no defect classes in %s: the bundle gets one class 'defect' (the VQ does not use classes)", cfg.data
        )
    require_class_names(classes, str(cfg.data))
    vq = build_vq(cfg).to(device)
    if cfg.init_bundle and not (cfg.resume and (Path(cfg.out) / "checkpoints" / "latest.json").is_file()):
        _seed_from_bundle(cfg, vq, train_samples)  # a resumed run loads its own checkpoint instead
    for name, size in (("--image-size", cfg.image_size), ("--crop-size", cfg.crop_size)):
        if size % vq.downsample:
            raise JobError(f"{name} {size} is not a multiple of the VQ's downsampling {vq.downsample}")
    params = trainable(vq, cfg.train)
    disc = PatchGANDiscriminator(3, cfg.disc_ndf, cfg.disc_layers).to(device)
    try:
        mode = cfg.perceptual if cfg.perceptual_weight > 0 else "none"
        perceptual = PerceptualLoss(mode, cfg.perceptual_critic).to(device)
    except PerceptualError as exc:
        raise JobError(str(exc)) from exc
    betas = (cfg.beta1, cfg.beta2)
    opt_g = torch.optim.Adam(params, lr=cfg.lr, betas=betas, weight_decay=cfg.weight_decay)
    opt_d = torch.optim.Adam(disc.parameters(), lr=cfg.lr, betas=betas, weight_decay=cfg.weight_decay)
    schedule = LRSchedule(cfg.lr, cfg.steps, cfg.warmup_steps)
    # Own generators, never the global RNG: a DataLoader draws a base seed from the global one each time it
    # is built, which a resumed run does at another moment than an uninterrupted one.
    restart_gen = torch.Generator().manual_seed(cfg.seed + 17)
    loader_gen = torch.Generator().manual_seed(cfg.seed + 29)
    run = TrainingRun("vq", cfg, info, command, generators={"restart": restart_gen})
    run.keep({"vq": vq, "disc": disc}, {"opt_g": opt_g, "opt_d": opt_d})
    forward = dist.wrap(vq, info)
    latents: dict[str, torch.Tensor] = {}
    if cfg.codebook_restart and cfg.train == "all":
        vq.quant_conv.register_forward_hook(lambda _m, _i, output: latents.__setitem__("z", output.detach()))
    images = ImageSet(train_samples, cfg.image_size, cache=cfg.workers == 0, crop_size=cfg.crop_size)
    plan = EpochBatches(
        len(train_samples),
        cfg.batch_size,
        cfg.seed,
        info.rank,
        info.world_size,
        n_augmentations=8 if cfg.augment else 1,
    )
    held_images = (
        np.stack([prepare(s, cfg.image_size).image for s in spread(held_samples, cfg.eval_images)])
        if held_samples
        else None
    )
    log.info(
        "VQ %s (%s, train %s): %.1fM parameters (%.1fM learning), perceptual=%s, %d train / %d held-out "
        "images at %d px (crops %s), batch %d x %d processes, steps %d -> %d on %s",
        cfg.preset,
        "LlamaGen init" if cfg.init_llamagen else f"from {cfg.init_bundle}" if cfg.init_bundle else "scratch",
        cfg.train,
        sum(p.numel() for p in vq.parameters()) / 1e6,
        sum(p.numel() for p in params) / 1e6,
        perceptual.mode,
        len(train_samples),
        len(held_samples),
        cfg.image_size,
        cfg.crop_size or "off",
        cfg.batch_size,
        info.world_size,
        run.step,
        cfg.steps,
        device,
    )

    def step(index: int, x: torch.Tensor) -> StepValues:
        x = x.to(device)
        lr = schedule.apply(opt_g, index)
        schedule.apply(opt_d, index)
        gan_on = index >= cfg.disc_start and cfg.disc_weight > 0
        with autocast(x.device):
            out = forward(x)
        rec = out.reconstruction.float()
        recon_loss = F.mse_loss(rec, x)
        perceptual_loss = perceptual(rec, x) if cfg.perceptual_weight > 0 else rec.new_zeros(())
        codebook_loss = out.vq_loss + out.commit_loss
        nll = cfg.recon_weight * recon_loss + cfg.perceptual_weight * perceptual_loss
        loss = nll + (cfg.codebook_weight * codebook_loss if cfg.train == "all" else 0.0)
        means = {
            "recon_loss": float(recon_loss.detach()),
            "perceptual_loss": float(perceptual_loss.detach()),
            "codebook_loss": float(codebook_loss.detach()),
        }
        if gan_on:
            disc.requires_grad_(False)  # the generator step must not move the discriminator
            g_loss = hinge_g_loss(disc(rec))
            weight = adaptive_weight(nll, g_loss, vq.decoder.last_layer) if cfg.disc_adaptive else rec.new_ones(())
            loss = loss + cfg.disc_weight * weight * g_loss
            disc.requires_grad_(True)
            means |= {"gan_g_loss": float(g_loss.detach()), "gan_weight": float(weight)}
        opt_g.zero_grad(set_to_none=True)
        loss.backward()
        if cfg.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip)
        opt_g.step()
        if gan_on:
            opt_d.zero_grad(set_to_none=True)
            d_loss = hinge_d_loss(disc(x.detach()), disc(rec.detach()))
            d_loss.backward()
            average_gradients(disc, info)
            if cfg.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(disc.parameters(), cfg.grad_clip)
            opt_d.step()
            means["disc_loss"] = float(d_loss.detach())
        counts = {}
        if latents and (index + 1) % cfg.codebook_restart == 0:
            counts["codebook_restarts"] = restart_dead_codes(vq, latents["z"], info, restart_gen)
        means["loss"] = float(loss.detach())
        return StepValues(means, latest={"lr": lr}, counts=counts, bar={"loss": means["loss"], "lr": lr})

    def evaluate() -> dict[str, float]:
        if not info.is_main:
            return {}
        metrics, recon = measure_reconstruction(vq, held_images)
        save_grid(run.out / "samples" / f"step_{run.step:08d}.png", held_images, recon)
        return metrics

    vq.train()
    disc.train()
    run.train(
        _batches(plan, images, run.position, cfg.workers, loader_gen),
        step,
        COLUMNS,
        evaluate if held_images is not None else None,
        at_log_row=lambda: {"codebook_usage": vq.quantize.usage()},
        on_step=(lambda done: on_step(done, vq)) if on_step is not None else None,
    )
    extra = {
        "data": dataset_record(dataset),
        "seed": cfg.seed,
        "split": {"val_fraction": cfg.val_fraction, "seed": cfg.split_seed},
        "perceptual": perceptual.mode,
        "transformer": "untrained placeholder: run 'defectforge train maskgit' next",
    }
    return run.write_bundle(partial(_save_bundle, cfg, run, vq, classes, extra), FIGURES)


def _batches(
    plan: EpochBatches, images: ImageSet, start: Position, workers: int, generator: torch.Generator
) -> Iterator[tuple[Position, torch.Tensor]]:
    """The batch plan from `start` on, epoch after epoch: each batch with the position just after it."""
    epoch, first = start.epoch, start.batch
    while True:
        batches = plan.epoch(epoch)
        loader = DataLoader(images, batch_sampler=batches[first:], num_workers=workers, generator=generator)
        for done, x in enumerate(loader, start=first + 1):
            yield (Position(epoch, done) if done < len(batches) else Position(epoch + 1, 0)), x
        epoch, first = epoch + 1, 0


def _save_bundle(
    cfg: VQTrainConfig, run: TrainingRun, vq: VQModel, classes: list[str], extra: dict, folder: Path
) -> None:
    """The VQ with an untrained placeholder transformer, so the bundle loads (tokenizer only)."""
    grid = cfg.image_size // vq.downsample
    torch.manual_seed(cfg.seed)
    placeholder = MaskTransformer(
        transformer_preset("test", num_classes=len(classes), codebook_size=vq.config.codebook_size, input_size=grid)
    )
    prov = run.provenance({**run.last_eval, "codebook_usage": vq.quantize.usage()}, extra)
    contents = BundleContents(
        cfg.name, classes, vq.cpu(), placeholder, image_size=cfg.image_size, provenance=prov, tokenizer_only=True
    )
    save_bundle(folder, contents, overwrite=True)
    vq.to(run.info.device)
