"""`defectforge train tokenize`: a dataset -> a token cache the MaskGIT job trains from.

Cache folder layout (format_version 1):
  index.json            image size, grid, codebook size, class names, augmentation names, VQ source + sha256,
                        split settings, and one record per sample (image path, class, held-out flag)
  shard_00000.safetensors ...  per shard of samples:
      codes   (n, 8, g, g) int16/int32  code grid of each dihedral augmentation (names in index.json)
      region  (n, 8, g, g) uint8        1 where the defect (mask, or boxes without a mask) touches a token
      labels  (n,) int64                class index; -1 for a clean image (trained as the null class)
      heldout (n,) uint8                1 for held-out samples (never trained on)
The cache is built in a temp folder and renamed into place (`fsutil.staged_folder`), so a killed run leaves nothing
half-written.
"""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from tqdm import tqdm

from core.config import ConfigError, to_dict
from core.device import autocast
from core.fsutil import inside, staged_folder, stale_temps
from core.masks import token_mask
from core.pixels import to_model_tensor
from training.datasets import (
    DIHEDRAL_NAMES,
    DataError,
    class_list,
    dataset_record,
    dihedral,
    heldout_paths,
    open_dataset,
    prepare,
)
from training.distributed import setup
from training.jobs import JobError, apply_threads, load_vq_source, setup_logging
from training.options import DatasetOptions, MachineOptions, option, require_class_names, require_path, restate
from training.runlog import peak_rss_mb

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
INDEX = "index.json"


@dataclass(frozen=True)
class TokenizeConfig(DatasetOptions, MachineOptions):
    out: str = option("", "token cache folder to create")
    vq: str = option("", "VQ source: a model bundle folder, or a LlamaGen .pt / VQ .safetensors file")
    vq_preset: str = option("vq16", "VQ architecture of a bare checkpoint file (ignored for bundles)")
    image_size: int = option(0, "image size the VQ sees; 0 = the bundle's (256 for a bare checkpoint)")
    augmentations: int = option(8, "dihedral augmentations per image: 8 (rotations x flip) or 1")
    classes: tuple[str, ...] = option((), "class names in index order (default: the bundle's, else sorted)")
    val_fraction: float = restate(
        DatasetOptions, "val_fraction", help="share of images held out (never trained on; eval uses them)"
    )
    batch_size: int = option(16, "images per VQ encode batch")
    shard_size: int = option(2048, "samples per shard file")
    overwrite: bool = option(False, "replace an existing cache folder")

    def validate(self) -> None:
        if not self.out:
            raise ConfigError("--out is required (the token cache folder to create)")
        if not self.vq:
            raise ConfigError("--vq is required (a model bundle folder or a VQ checkpoint)")
        if self.augmentations not in (1, 8):
            raise ConfigError("--augmentations must be 8 or 1")
        if self.batch_size < 1 or self.shard_size < 1:
            raise ConfigError("--batch-size and --shard-size must be >= 1")
        require_class_names(self.classes, "--classes")
        DatasetOptions.validate(self)
        require_path(self.vq, "--vq")


def tokenize(cfg: TokenizeConfig, command: str = "") -> Path:
    """Build the cache; returns its folder."""
    setup_logging(None)
    apply_threads(cfg.threads)
    out = Path(cfg.out)
    if out.exists() and not cfg.overwrite:
        raise JobError(f"{out} already exists; choose another --out or pass --overwrite")
    device = setup(cfg.device).device
    source = load_vq_source(cfg.vq, cfg.vq_preset)
    vq = source.model.to(device).eval()
    image_size = cfg.image_size or source.image_size or 256
    if not cfg.image_size and not source.image_size:  # a bare file does not say the scale its tokenizer learned
        log.warning(
            "%s is a bare checkpoint with no image size: tokenizing at %d px; pass --image-size with the size "
            "the tokenizer was trained at (NEU-DET: 200), or the tokens see another pixel scale",
            cfg.vq,
            image_size,
        )
    ds = vq.downsample
    if image_size % ds:
        raise JobError(f"--image-size {image_size} is not a multiple of the VQ's downsampling {ds}")
    grid = image_size // ds
    dataset = open_dataset(cfg.data)
    classes = class_list(dataset, list(cfg.classes) or source.class_names)
    require_class_names(classes, str(cfg.data))
    augs = list(range(cfg.augmentations))
    held_images = heldout_paths(dataset, cfg.val_fraction, cfg.split_seed)
    code_dtype = torch.int16 if vq.config.codebook_size <= 32767 else torch.int32

    out.parent.mkdir(parents=True, exist_ok=True)
    for stale in stale_temps(out):  # left by a tokenize that was killed
        log.info("removing %s, left by an earlier tokenize that did not finish", stale)
        shutil.rmtree(stale, ignore_errors=True)
    records: list[dict[str, Any]] = []
    shards: list[dict[str, Any]] = []
    with staged_folder(out, replace=True) as tmp:  # --overwrite was checked above
        samples = dataset.samples
        bar = tqdm(total=len(samples), desc="tokenize", dynamic_ncols=True, mininterval=1.0)
        for shard_start in range(0, len(samples), cfg.shard_size):
            shard = samples[shard_start : shard_start + cfg.shard_size]
            codes, regions, labels, heldout = [], [], [], []
            for batch_start in range(0, len(shard), cfg.batch_size):
                bar.update(min(cfg.batch_size, len(shard) - batch_start))
                batch, prepared = [], []
                for sample in shard[batch_start : batch_start + cfg.batch_size]:
                    try:
                        prepared.append(prepare(sample, image_size))
                        batch.append(sample)
                    except (DataError, OSError, ValueError) as exc:  # one bad file must not end an hour's work
                        log.warning("skipped %s: %s", sample.image, str(exc).splitlines()[0])
                if not batch:
                    continue
                images = np.stack([dihedral(p.image, k) for p in prepared for k in augs])
                with torch.no_grad(), autocast(device):  # as core.pipeline encodes, so codes match the app's
                    batch_codes = vq.encode(to_model_tensor(images).to(device)).cpu()
                codes.append(batch_codes.view(len(batch), len(augs), grid, grid).to(code_dtype))
                for sample, p in zip(batch, prepared, strict=True):
                    tokens = token_mask(p.region, ds)
                    regions.append(torch.from_numpy(np.stack([dihedral(tokens, k) for k in augs])).to(torch.uint8))
                    label = classes.index(p.defect_class) if p.defect_class in classes else -1
                    held = sample.image in held_images
                    labels.append(label)
                    heldout.append(held)
                    records.append(
                        {
                            "image": _relative(sample.image, dataset.root),
                            "class": p.defect_class,
                            "label": label,
                            "heldout": held,
                            "has_mask": sample.mask is not None,
                        }
                    )
            if not codes:
                continue
            name = f"shard_{len(shards):05d}.safetensors"
            save_file(
                {
                    "codes": torch.cat(codes),
                    "region": torch.stack(regions),
                    "labels": torch.tensor(labels, dtype=torch.int64),
                    "heldout": torch.tensor(heldout, dtype=torch.uint8),
                },
                str(tmp / name),
            )
            shards.append({"file": name, "count": len(labels)})
        bar.close()
        if not records:
            raise JobError(f"{cfg.data}: no image could be read")
        index = {
            "format_version": FORMAT_VERSION,
            "kind": "defectforge-token-cache",
            "image_size": image_size,
            "grid": grid,
            "codebook_size": vq.config.codebook_size,
            "class_names": classes,
            "augmentations": [DIHEDRAL_NAMES[k] for k in augs],
            "vq": {
                "source": str(Path(source.path).resolve()),
                "sha256": source.sha256,
                "preset": cfg.vq_preset,
                "config": to_dict(vq.config),
            },
            "dataset": dataset_record(dataset),
            "split": {"val_fraction": cfg.val_fraction, "seed": cfg.split_seed},
            "command": command,
            "shards": shards,
            "samples": records,
        }
        (tmp / INDEX).write_text(json.dumps(index, indent=1), encoding="utf-8")
    n_held = sum(r["heldout"] for r in records)
    log.info(
        "token cache %s: %d images (%d held out) x %d augmentations, %dx%d tokens, %d classes; peak RSS %.0f MiB",
        out,
        len(records),
        n_held,
        len(augs),
        grid,
        grid,
        len(classes),
        peak_rss_mb(),
    )
    return out


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


class TokenCache:
    """A token cache in memory: all shards concatenated (NEU-DET x 8 augmentations is ~10 MB)."""

    def __init__(self, root: Path | str):
        self.root = Path(root)
        index_path = self.root / INDEX
        if not index_path.is_file():
            raise JobError(
                f"{self.root} is not a token cache (no {INDEX}); build one with 'defectforge train tokenize'"
            )
        rebuild = "; rebuild it with 'defectforge train tokenize'"
        try:
            self.index = json.loads(index_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise JobError(f"{index_path}: unreadable ({exc}){rebuild}") from exc
        if not isinstance(self.index, dict) or self.index.get("format_version") != FORMAT_VERSION:
            version = self.index.get("format_version") if isinstance(self.index, dict) else None
            raise JobError(f"{index_path}: unknown token cache format {version!r}")
        try:
            parts = [self._shard(entry) for entry in self.index["shards"]]
            if not parts:
                raise ValueError("it lists no shards")
            self.codes = torch.cat([p["codes"] for p in parts]).long()
            self.region = torch.cat([p["region"] for p in parts]).bool()
            self.labels = torch.cat([p["labels"] for p in parts])
            self.heldout = torch.cat([p["heldout"] for p in parts]).bool()
            self._check_values()
        except (KeyError, TypeError, ValueError, RuntimeError, SafetensorError, OSError) as exc:
            raise JobError(f"token cache {self.root} is damaged: {str(exc).splitlines()[0]}{rebuild}") from exc

    def _shard(self, entry: dict[str, Any]) -> dict[str, torch.Tensor]:
        """One shard file, which must be a plain file name inside the cache and hold what the index says."""
        name = entry["file"]
        if not isinstance(name, str) or Path(name).name != name or not inside(self.root, self.root / name):
            raise ValueError(f"shard {name!r} is not a file name inside the cache")
        part = load_file(str(self.root / name))
        count = int(entry["count"])
        for key in ("codes", "region", "labels", "heldout"):
            if key not in part or part[key].shape[0] != count:
                raise ValueError(f"{name}: {key} does not hold the {count} samples the index lists")
        return part

    def _check_values(self) -> None:
        grid, augs = self.grid, self.n_augmentations
        if tuple(self.codes.shape[1:]) != (augs, grid, grid) or self.region.shape != self.codes.shape:
            raise ValueError(f"codes are {tuple(self.codes.shape[1:])}, the index says ({augs}, {grid}, {grid})")
        if self.codes.numel() and not 0 <= int(self.codes.min()) <= int(self.codes.max()) < self.codebook_size:
            raise ValueError(f"a code is outside the codebook of {self.codebook_size}")
        if self.labels.numel() and not -1 <= int(self.labels.min()) <= int(self.labels.max()) < len(self.class_names):
            raise ValueError(f"a label is outside the {len(self.class_names)} classes")

    @property
    def class_names(self) -> list[str]:
        return list(self.index["class_names"])

    @property
    def grid(self) -> int:
        return int(self.index["grid"])

    @property
    def codebook_size(self) -> int:
        return int(self.index["codebook_size"])

    @property
    def n_augmentations(self) -> int:
        return len(self.index["augmentations"])

    def split(self, heldout: bool) -> torch.Tensor:
        """Indices of the training (False) or held-out (True) samples."""
        return torch.nonzero(self.heldout == heldout).flatten()
