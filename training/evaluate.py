"""`defectforge eval BUNDLE --data DIR [--out DIR]`: a JSON + Markdown quality report for a model bundle.

Held-out images are the bundle's own split (its provenance records fraction and seed), so nothing measured here
was trained on. Sections:
  vq              SSIM, PSNR, Edge IoU of reconstructions; held-out codebook usage
  maskgit         held-out cross-entropy and masked-token accuracy (random arccos masks, and defect regions)
  class_fidelity  a small CNN trained on real train-split defect crops classifies generated defects
  seam            gradient across the blend boundary / gradient beside it, generated vs the base image
  diversity       perceptual distance between variants of one mask (LPIPS, or 1 - SSIM without VGG weights)
  speed           seconds per single-variant inpaint through core.pipeline
Generated defects go through core.pipeline.InpaintPipeline, exactly as the app makes them. Base images are the
dataset's clean surfaces where it has them (procedural CLEAN/), else the held-out image with its own defect
region re-inpainted.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import statistics
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from core.bundle import BundleError, ModelBundle, load_bundle
from core.config import ConfigError
from core.device import DeviceError, choose_device, describe
from core.masks import feathered_alpha
from core.pipeline import InpaintPipeline, PipelineError
from core.request import InpaintRequest, MaskLayer
from core.sampler import with_overrides
from training.checkpoint import atomic_write_text
from training.classifier import crop_defect, predict, train_classifier
from training.datasets import (
    DataError,
    PreparedImage,
    open_dataset,
    prepare,
    split_dataset,
    spread,
    to_model_tensor,
    token_region,
)
from training.jobs import JobError, apply_threads, plain, setup_logging
from training.metrics import seam_score
from training.options import (
    CliError,
    OneLineParser,
    add_config_flags,
    build_config,
    command_line,
    option,
    report_error,
    require_path,
)
from training.perceptual import PerceptualLoss
from training.report_md import render_markdown
from training.runlog import peak_rss_mb
from training.train_maskgit import evaluate_tokens
from training.train_vq import measure_reconstruction

log = logging.getLogger(__name__)
PROG = "defectforge eval"
GOALS = {"vq_ssim": 0.85, "class_fidelity": 0.90, "seam_ratio_max": 1.25}


@dataclass(frozen=True)
class EvalConfig:
    bundle: str = option("", "model bundle folder")
    data: str = option("", "dataset folder or YAML dataset spec (the one the bundle was trained on)")
    out: str = option("", "report folder (default: ./eval-<bundle name>)")
    val_fraction: float | None = option(None, "held-out share (default: the bundle's training split)")
    split_seed: int | None = option(None, "held-out split seed (default: the bundle's)")
    max_images: int = option(200, "held-out images for the VQ and MaskGIT measures")
    fidelity_per_class: int = option(8, "generated defects per class for class fidelity and seams")
    classifier_epochs: int = option(12, "epochs of the fidelity classifier")
    classifier_images: int = option(3000, "most real train-split crops the classifier learns from")
    diversity_masks: int = option(4, "masks for the diversity measure")
    variants: int = option(4, "variants per mask for the diversity measure")
    speed_runs: int = option(3, "timed single-variant inpaints")
    sampler_steps: int | None = option(None, "override the bundle's sampler steps")
    cfg_weight: float | None = option(None, "override the bundle's CFG weight")
    feather_px: int = option(6, "blend feather in model pixels (as the app's default)")
    seed: int = option(0, "seed of generation and classifier")
    device: str = option("auto", "auto, cpu, cuda or mps (DEFECTFORGE_DEVICE wins)")
    threads: int = option(0, "CPU threads for torch (0 = its default, one per core); 1 is often much faster on "
                                "a machine whose cores other jobs keep busy")

    def validate(self) -> None:
        if not self.bundle:
            raise ConfigError("give the model bundle folder")
        if not self.data:
            raise ConfigError("--data is required (the dataset folder)")
        for name in ("max_images", "fidelity_per_class", "variants", "speed_runs", "classifier_epochs"):
            if getattr(self, name) < 1:
                raise ConfigError(f"--{name.replace('_', '-')} must be >= 1")
        if self.val_fraction is not None and not 0 < self.val_fraction < 1:
            raise ConfigError("--val-fraction must be in (0, 1)")
        require_path(self.bundle, "model bundle", "folder")
        require_path(self.data, "--data", "dataset")


@dataclass
class Example:
    """A held-out sample ready for the measures: model-size image, defect region, optional clean base."""

    prepared: PreparedImage
    label: int  # -1: no class the bundle knows
    base: np.ndarray | None  # the clean surface under the defect, where the dataset has it


def _clean_base(sample, image_size: int) -> np.ndarray | None:
    """Procedural datasets keep the surface before the defect was drawn in CLEAN/<stem>.png."""
    root = sample.image.parent.parent
    clean = root / "CLEAN" / f"{sample.image.stem}.png"
    if not clean.is_file():
        return None
    return prepare(replace(sample, image=clean), image_size).image


class Evaluator:
    def __init__(self, cfg: EvalConfig, bundle: ModelBundle):
        self.cfg, self.bundle = cfg, bundle
        self.pipeline = InpaintPipeline(bundle, preview_interval_s=None)
        self.sampler = with_overrides(bundle.info.sampler, steps=cfg.sampler_steps, cfg_weight=cfg.cfg_weight)
        self.size = bundle.info.image_size

    def inpaint(self, image: np.ndarray, mask: np.ndarray, defect_class: str, seed: int, variants: int = 1
                ) -> tuple[list[np.ndarray], float]:
        request = InpaintRequest(image=image, layers=[MaskLayer(mask, defect_class)], seed=seed, variants=variants,
                                 sampler=self.sampler, feather_px=self.cfg.feather_px)
        started = time.perf_counter()
        *_, last = self.pipeline.run(request)
        return [v.image for v in last.result.variants], time.perf_counter() - started

    # --- sections ---------------------------------------------------------------------------------------

    def vq_section(self, held: list[Example]) -> dict[str, Any]:
        images = np.stack([e.prepared.image for e in held])
        metrics, _ = measure_reconstruction(self.bundle.vq, images)
        return {**metrics, "images": len(held)}

    def maskgit_section(self, held: list[Example]) -> dict[str, Any]:
        device, ds = self.bundle.device, self.bundle.vq.downsample
        codes = []
        with torch.no_grad():
            for start in range(0, len(held), 16):
                chunk = np.stack([e.prepared.image for e in held[start:start + 16]])
                codes.append(self.bundle.vq.encode(to_model_tensor(chunk).to(device)).cpu())
        region = torch.from_numpy(np.stack([token_region(e.prepared.region, ds) for e in held]))
        labels = torch.tensor([e.label for e in held])
        result = evaluate_tokens(self.bundle.transformer, torch.cat(codes), region, labels, seed=self.cfg.seed)
        return {"heldout_ce": result["ce"], "masked_token_accuracy": result["accuracy"],
                "region_ce": result["region_ce"], "region_accuracy": result["region_accuracy"],
                "images": len(held)}

    def fidelity_and_seams(self, train: list[PreparedImage], held: list[Example], out: Path) -> tuple[dict, dict]:
        cfg, classes = self.cfg, self.bundle.class_names
        size = 64
        real = [(crop_defect(p.image, p.region, size), classes.index(p.defect_class)) for p in train
                if p.defect_class in classes and p.region.any()]
        if len({label for _, label in real}) < 2:
            return {"skipped": "fewer than two classes with defects in the train split"}, {}
        crops, labels = np.stack([c for c, _ in real]), np.array([lbl for _, lbl in real])
        classifier = train_classifier(crops, labels, len(classes), cfg.classifier_epochs, cfg.seed,
                                      self.bundle.device)
        held_real = [(crop_defect(e.prepared.image, e.prepared.region, size), e.label) for e in held
                     if e.label >= 0 and e.prepared.region.any()]
        real_acc = float(np.mean(predict(classifier, np.stack([c for c, _ in held_real])) ==
                             np.array([lbl for _, lbl in held_real]))) if held_real else float("nan")
        with_region = [e for e in held if e.prepared.region.any()]
        per_class, seams, references, sheet = {}, [], [], []
        alpha_feather = max(1, cfg.feather_px)
        for class_id, name in enumerate(classes):
            same = [e for e in with_region if e.label == class_id] or with_region
            hits = []
            for n, example in zip(range(cfg.fidelity_per_class), itertools.cycle(same), strict=False):
                base = example.base if example.base is not None else example.prepared.image
                mask = example.prepared.region
                (generated,), _ = self.inpaint(base, mask, name, cfg.seed + 1000 * class_id + n)
                hits.append(int(predict(classifier, crop_defect(generated, mask, size)[None])[0] == class_id))
                middle = feathered_alpha(mask, alpha_feather) >= 0.5
                band = alpha_feather // 2 + 2
                score, reference = seam_score(generated, middle, band), seam_score(base, middle, band)
                if score is not None and reference is not None:
                    seams.append(score)
                    references.append(reference)
                if n < 3:
                    sheet.append((name, base, generated))
            per_class[name] = float(np.mean(hits))
        _save_sheet(out / "generated.png", sheet)
        fidelity = {"overall": float(np.mean(list(per_class.values()))), "per_class": per_class,
                    "generated_per_class": cfg.fidelity_per_class, "classifier_real_heldout_accuracy": real_acc,
                    "classifier_train_crops": len(real),
                    "base_images": "clean surfaces (CLEAN/)" if any(e.base is not None for e in held)
                    else "held-out images, defect region re-inpainted"}
        seam = {"generated": _mean(seams), "reference": _mean(references),
                "ratio": _mean(seams) / _mean(references) if seams and _mean(references) > 0 else float("nan"),
                "measured": len(seams), "band_px": alpha_feather // 2 + 2}
        return fidelity, seam

    def diversity_section(self, held: list[Example], perceptual: PerceptualLoss) -> dict[str, Any]:
        cfg, classes = self.cfg, self.bundle.class_names
        distances = []
        masks = [e for e in held if e.prepared.region.any()][: cfg.diversity_masks]
        for i, example in enumerate(masks):
            name = classes[example.label] if example.label >= 0 else classes[0]
            base = example.base if example.base is not None else example.prepared.image
            images, _ = self.inpaint(base, example.prepared.region, name, cfg.seed + 7 * i, variants=cfg.variants)
            crops = np.stack([crop_defect(img, example.prepared.region, 64) for img in images])
            t = to_model_tensor(crops).to(self.bundle.device)
            pairs = list(itertools.combinations(range(len(images)), 2))
            if pairs:
                a, b = zip(*pairs, strict=True)
                with torch.no_grad():
                    distances += perceptual.pairwise(t[list(a)], t[list(b)]).cpu().tolist()
        return {"metric": "lpips_vgg" if perceptual.mode == "lpips" else "1-ssim (VGG16 weights not on disk)",
                "mean": _mean(distances), "masks": len(masks), "variants": cfg.variants, "pairs": len(distances)}

    def speed_section(self, held: list[Example]) -> dict[str, Any]:
        example = next((e for e in held if e.prepared.region.any()), None)
        if example is None:
            return {}
        times = [self.inpaint(example.prepared.image, example.prepared.region, self.bundle.class_names[0],
                              self.cfg.seed + run)[1] for run in range(self.cfg.speed_runs + 1)][1:]  # 1st: warm-up
        return {"seconds_per_inpaint": statistics.median(times), "min_s": min(times), "runs": len(times),
                "device": describe(self.bundle.device), "sampler_steps": self.sampler.steps,
                "image_size": self.size}


def _mean(values: list[float]) -> float:
    return float(np.mean(values)) if values else float("nan")


def _save_sheet(path: Path, rows: list[tuple[str, np.ndarray, np.ndarray]]) -> None:
    """Pairs (base | generated), three per class, as one PNG to look at."""
    if not rows:
        return
    tiles = [np.concatenate([base, generated], axis=1) for _, base, generated in rows]
    per_row = 3
    while len(tiles) % per_row:
        tiles.append(np.zeros_like(tiles[0]))
    grid = np.concatenate([np.concatenate(tiles[i:i + per_row], axis=1) for i in range(0, len(tiles), per_row)])
    Image.fromarray(grid).save(path)


def run_eval(cfg: EvalConfig, command: str = "") -> Path:
    """Measure and write report.json + report.md (+ generated.png); returns the report folder."""
    setup_logging(None)
    apply_threads(cfg.threads)
    device = choose_device(cfg.device)
    bundle = load_bundle(cfg.bundle, device=device)
    out = Path(cfg.out or f"eval-{bundle.name}")
    out.mkdir(parents=True, exist_ok=True)
    split = dict(bundle.info.provenance.get("split") or {})
    fraction = cfg.val_fraction if cfg.val_fraction is not None else float(split.get("val_fraction", 0.1))
    seed = cfg.split_seed if cfg.split_seed is not None else int(split.get("seed", 0))
    dataset = open_dataset(cfg.data)
    train_samples, held_samples = split_dataset(dataset, fraction, seed)
    if not held_samples:
        raise JobError(f"{cfg.data}: no held-out images with --val-fraction {fraction}")
    size = bundle.info.image_size
    classes = bundle.class_names
    held = []
    for sample in spread(held_samples, cfg.max_images):
        prepared = prepare(sample, size)
        label = classes.index(prepared.defect_class) if prepared.defect_class in classes else -1
        held.append(Example(prepared, label, _clean_base(sample, size)))
    train = [prepare(s, size) for s in spread(train_samples, cfg.classifier_images)]
    log.info("evaluating %s on %s: %d held-out images (split %.2f, seed %d), %d train images for the classifier",
             bundle.name, cfg.data, len(held), fraction, seed, len(train))
    evaluator = Evaluator(cfg, bundle)
    started = time.perf_counter()
    report: dict[str, Any] = {
        "bundle": {"path": str(Path(cfg.bundle).resolve()), "name": bundle.name, "fingerprint": bundle.info.fingerprint,
                   "classes": classes, "image_size": size, "trained_steps": bundle.info.provenance.get("steps")},
        "data": {"root": str(Path(cfg.data).resolve()), "kind": dataset.kind, "heldout_images": len(held),
                 "split": {"val_fraction": fraction, "seed": seed}},
        "command": command,
    }
    report["vq"] = evaluator.vq_section(held)
    report["maskgit"] = evaluator.maskgit_section(held)
    report["class_fidelity"], report["seam"] = evaluator.fidelity_and_seams(train, held, out)
    report["diversity"] = evaluator.diversity_section(held, PerceptualLoss("auto").to(device))
    report["speed"] = evaluator.speed_section(held)
    fidelity = report["class_fidelity"].get("overall", float("nan"))
    report["goals"] = {
        f"vq_ssim >= {GOALS['vq_ssim']}": bool(report["vq"]["ssim"] >= GOALS["vq_ssim"]),
        f"class_fidelity >= {GOALS['class_fidelity']}": bool(fidelity >= GOALS["class_fidelity"]),
        f"seam ratio <= {GOALS['seam_ratio_max']}": bool(report["seam"].get("ratio", float("inf"))
                                                          <= GOALS["seam_ratio_max"]),
    }
    report["eval_seconds"] = round(time.perf_counter() - started, 1)
    report["peak_rss_mb"] = peak_rss_mb()
    report = plain(report)
    atomic_write_text(out / "report.json", json.dumps(report, indent=1, allow_nan=True))
    atomic_write_text(out / "report.md", render_markdown(report))
    log.info("report written to %s (%.0f s)", out, report["eval_seconds"])
    return out


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = OneLineParser(prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bundle", help="model bundle folder")
    parser.add_argument("--config", help="YAML file with option values (flags override it)")
    add_config_flags(parser, EvalConfig, skip=("bundle",))
    try:
        args = parser.parse_args(argv)
        cfg = build_config(EvalConfig, args, args.config)
        out = run_eval(cfg, command_line(PROG, argv))
    except (CliError, ConfigError, JobError, DataError, BundleError, DeviceError, PipelineError,
            FileNotFoundError) as exc:
        return report_error(PROG, exc)
    print(out / "report.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
