"""What `eval` and `eval downstream` share: the options naming a bundle, the data it was trained on, its held-out
split, sampler and blend (BundleEvalOptions, which both configs inherit), and opening all that before either
measures anything (open_bundle_eval).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, NamedTuple

import torch

from core.bundle import ModelBundle, load_bundle
from core.config import ConfigError, SamplerConfig, sampler_override
from core.data.records import Dataset, DatasetSample
from core.device import choose_device
from core.request import InpaintRequest
from core.sampler import with_overrides
from training.datasets import bundle_split, open_dataset, split_dataset
from training.jobs import apply_threads, setup_logging
from training.options import BundleDataOptions, MachineOptions, option, require_path


@dataclass(frozen=True)
class BundleEvalOptions(BundleDataOptions, MachineOptions):
    """The bundle's held-out split, how it inpaints there, and the report folder (its help names eval's default;
    `eval downstream` restates it with its own). The bundle is a positional argument here."""

    FLAGS_TITLE: ClassVar[str] = "its held-out split, sampler and report"

    out: str = option("", "report folder (default: ./eval-<bundle name>)")
    val_fraction: float | None = option(None, "held-out share (default: the bundle's training split)")
    split_seed: int | None = option(None, "held-out split seed (default: the bundle's)")
    sampler_steps: int | None = sampler_override("steps", "override the bundle's sampler steps")
    cfg_weight: float | None = sampler_override("cfg_weight", "override the bundle's CFG weight")
    feather_px: int = option(InpaintRequest.feather_px, "blend feather in model pixels (as the app's default)")

    def sampler(self, bundle: ModelBundle) -> SamplerConfig:
        """The bundle's sampler with the overrides given here."""
        return with_overrides(bundle.info.sampler, steps=self.sampler_steps, cfg_weight=self.cfg_weight)

    def validate(self) -> None:
        if not self.bundle:
            raise ConfigError("give the model bundle folder")
        require_path(self.bundle, "model bundle", "folder")
        super().validate()
        if self.val_fraction is not None and not 0 < self.val_fraction < 1:
            raise ConfigError("--val-fraction must be in (0, 1)")
        if self.out and Path(self.out).exists() and not Path(self.out).is_dir():
            raise ConfigError(f"--out {self.out} is a file; give a folder for the report")


class BundleEval(NamedTuple):
    """An opened eval job: the bundle on its device, the report folder, and the data split as the bundle was."""

    bundle: ModelBundle
    device: torch.device
    out: Path
    fraction: float
    seed: int
    dataset: Dataset
    train_samples: list[DatasetSample]
    held_samples: list[DatasetSample]


def bundle_record(bundle: ModelBundle, folder: str) -> dict[str, Any]:
    """How a report names the bundle it measured."""
    return {
        "path": str(Path(folder).resolve()),
        "name": bundle.name,
        "fingerprint": bundle.info.fingerprint,
        "classes": bundle.class_names,
    }


def open_bundle_eval(cfg: BundleEvalOptions, job: str) -> BundleEval:
    """Log, threads, device, the bundle, the report folder (default ./<job>-<bundle name>) and the bundle's own
    train/held-out split of the data (or the one the options give)."""
    setup_logging(None)
    apply_threads(cfg.threads)
    device = choose_device(cfg.device)
    bundle = load_bundle(cfg.bundle, device=device)
    out = Path(cfg.out or f"{job}-{bundle.name}")
    out.mkdir(parents=True, exist_ok=True)
    fraction, seed = bundle_split(bundle.info.provenance, cfg.val_fraction, cfg.split_seed)
    dataset = open_dataset(cfg.data)
    train_samples, held_samples = split_dataset(dataset, fraction, seed)
    return BundleEval(bundle, device, out, fraction, seed, dataset, train_samples, held_samples)
