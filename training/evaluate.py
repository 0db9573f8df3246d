"""`defectforge eval BUNDLE --data DIR [--out DIR]`: a JSON + Markdown quality report for a model bundle.
(`defectforge eval downstream ...`: does the synthetic data help? See training.downstream.)

Held-out images are the bundle's own split (its provenance records fraction and seed; drawn per class by path
hash, see training.datasets.heldout_paths), so nothing measured here was trained on. Sections:
  vq              SSIM, PSNR, Edge IoU of reconstructions on the original pixels; held-out codebook usage
  maskgit         held-out cross-entropy and masked-token accuracy (random arccos masks, and defect regions)
  class_fidelity  a judge CNN trained on real train-split defect boxes (its held-out accuracy is reported: it
                  must reach 0.95 to be fair) classifies held-out real boxes masked and re-inpainted once per
                  class, so the requested class is the only thing that differs
  realism_kid     KID between generated and real crops of each class in the judge's feature space, beside
                  held-out real crops (the floor) and a smooth cv2.inpaint fill (no defect at all)
  token_grid      intensity steps across token borders / elsewhere in generated regions, against real ones
  label_spill     pixels that changed visibly outside the exported label (must be none)
  seam            gradient across the blend boundary / gradient beside it, generated vs the base image
  cleanup         held-out defects erased: texture distance of the erased box from the image's background
  best_of         held-out boxes re-inpainted as their own class, N variants each: the judge's class fidelity of
                  the first variant against the best by core.scoring (the bundle's classifier, or the judge
                  itself when the bundle has none; the report says when the two are the same network)
  diversity       perceptual distance between variants of one mask (LPIPS, or 1 - SSIM without VGG weights)
  speed           seconds per single-variant inpaint through core.pipeline
  shapes          strokes, blobs, spot clusters and boxes painted on held-out images, inpainted as each class:
                  grain and outline measures and shapes_sheet.png (training.eval_shapes)
  critic          the bundle's classifier on known-bad variants (smooth, flat, blurred fills, another class's
                  defect) and known-good ones (real defects): share flagged / not flagged (training.eval_critic)
Generated defects go through core.pipeline.InpaintPipeline, exactly as the app makes them. The contact sheet
(contact_sheet.png) shows the same backgrounds and masks in every row: one row per class, then clean-up.

This module is the command (its job table runs `eval downstream` too), its config and the report's runner with
the vq and maskgit sections; the other sections measure in training.eval_generation, eval_judge (judge, best_of),
eval_diversity (diversity, speed), eval_shapes and eval_critic.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from core.bundle import ModelBundle
from core.config import ConfigError
from core.fsutil import write_atomic
from core.masks import token_mask
from core.pipeline import InpaintPipeline
from core.pixels import to_model_tensor
from core.request import InpaintRequest, MaskLayer
from training.commands import Job, run_job_command
from training.datasets import prepare, spread
from training.eval_boxes import Example, clean_base, mean_of
from training.eval_bundle import BundleEvalOptions, bundle_record, open_bundle_eval
from training.eval_critic import critic_section
from training.eval_diversity import TimingAndDiversity
from training.eval_generation import GenerationSections
from training.eval_goals import goals
from training.eval_judge import JudgeSections
from training.eval_shapes import SHEET, shapes_section
from training.jobs import JobError, plain
from training.measures import evaluate_tokens, measure_reconstruction
from training.metrics import edge_iou, psnr, ssim
from training.options import option
from training.perceptual import PerceptualLoss
from training.report_md import goal_lines, render_markdown
from training.runlog import peak_rss_mb

log = logging.getLogger(__name__)
PROG = "defectforge eval"
SECTIONS = ("vq", "maskgit", "generation", "diversity", "speed", "shapes", "critic")


@dataclass(frozen=True)
class EvalConfig(BundleEvalOptions):
    max_images: int = option(200, "held-out images for the VQ and MaskGIT measures")
    fidelity_per_class: int = option(8, "held-out boxes per class, each re-inpainted once per class and erased")
    classifier_epochs: int = option(15, "epochs of the fidelity judge")
    sections: tuple[str, ...] = option(
        SECTIONS, "which measures to run (a quick look at class fidelity: --sections generation --judge J)"
    )
    judge: str = option(
        "",
        "a judge saved by an earlier eval (<out>/judge.safetensors) to reuse instead of "
        "training one; it must know the bundle's classes",
    )
    classifier_images: int = option(3000, "most train-split images whose boxes the judge learns from")
    best_of: int = option(4, "variants per held-out box for the best-of-N measure (0: skip it)")
    diversity_masks: int = option(4, "masks for the diversity measure")
    variants: int = option(4, "variants per mask for the diversity measure")
    speed_runs: int = option(3, "timed single-variant inpaints")
    shapes_per_kind: int = option(3, "held-out images each painted shape kind is tried on, once per class")
    seed: int = option(0, "seed of generation and classifier")

    def validate(self) -> None:
        super().validate()
        for name in (
            "max_images",
            "fidelity_per_class",
            "variants",
            "speed_runs",
            "classifier_epochs",
            "shapes_per_kind",
        ):
            if getattr(self, name) < 1:
                raise ConfigError(f"--{name.replace('_', '-')} must be >= 1")
        if self.best_of < 0:
            raise ConfigError("--best-of must be >= 0")
        unknown = sorted(set(self.sections) - set(SECTIONS))
        if unknown or not self.sections:
            raise ConfigError(f"--sections: choose from {', '.join(SECTIONS)} (got {', '.join(unknown) or 'none'})")


class Evaluator(TimingAndDiversity, GenerationSections, JudgeSections):
    """One bundle's sections: inpaints through the pipeline with the report's sampler and feather."""

    def __init__(self, cfg: EvalConfig, bundle: ModelBundle):
        self.cfg, self.bundle = cfg, bundle
        self.pipeline = InpaintPipeline(bundle)
        self.sampler = cfg.sampler(bundle)
        self.size = bundle.info.image_size

    def run(self, image: np.ndarray, mask: np.ndarray, defect_class: str, seed: int, variants: int = 1):
        request = InpaintRequest(
            image=image,
            layers=[MaskLayer(mask, defect_class)],
            seed=seed,
            variants=variants,
            sampler=self.sampler,
            feather_px=self.cfg.feather_px,
        )
        started = time.perf_counter()
        *_, last = self.pipeline.run(request)
        return last.result.variants, time.perf_counter() - started

    def inpaint(
        self, image: np.ndarray, mask: np.ndarray, defect_class: str, seed: int, variants: int = 1
    ) -> tuple[list[np.ndarray], float]:
        results, seconds = self.run(image, mask, defect_class, seed, variants)
        return [v.image for v in results], seconds

    # --- sections ---------------------------------------------------------------------------------------

    def vq_section(self, held: list[Example]) -> dict[str, Any]:
        """Reconstruction on the original pixels: the model-size round trip resized back to the source crop."""
        images = np.stack([e.prepared.image for e in held])
        metrics, recon = measure_reconstruction(self.bundle.vq, images)
        ssims, psnrs, edges = [], [], []
        for example, rec in zip(held, recon, strict=True):
            native = example.prepared.native if example.prepared.native is not None else example.prepared.image
            if rec.shape[:2] != native.shape[:2]:
                rec = cv2.resize(rec, native.shape[1::-1], interpolation=cv2.INTER_CUBIC)
            a = to_model_tensor(native[None]).add(1).div(2)
            b = to_model_tensor(rec[None]).add(1).div(2)
            ssims.append(float(ssim(a, b)))
            psnrs.append(float(psnr(a, b)[0]))
            edges.append(edge_iou(native, rec))
        return {
            "ssim": mean_of(ssims),
            "psnr": mean_of(psnrs),
            "edge_iou": mean_of(edges),
            "heldout_codebook_usage": metrics["heldout_codebook_usage"],
            "images": len(held),
            "native_px": int(held[0].prepared.native.shape[0]) if held[0].prepared.native is not None else None,
        }

    def maskgit_section(self, held: list[Example]) -> dict[str, Any]:
        device, ds = self.bundle.device, self.bundle.vq.downsample
        codes = []
        with torch.no_grad():
            for start in range(0, len(held), 16):
                chunk = np.stack([e.prepared.image for e in held[start : start + 16]])
                codes.append(self.bundle.vq.encode(to_model_tensor(chunk).to(device)).cpu())
        region = torch.from_numpy(np.stack([token_mask(e.prepared.region, ds) for e in held]))
        labels = torch.tensor([e.label for e in held])
        result = evaluate_tokens(self.bundle.transformer, torch.cat(codes), region, labels, seed=self.cfg.seed)
        return {
            "heldout_ce": result["ce"],
            "masked_token_accuracy": result["accuracy"],
            "region_ce": result["region_ce"],
            "region_accuracy": result["region_accuracy"],
            "images": len(held),
        }


def run_eval(cfg: EvalConfig, command: str = "") -> Path:
    """Measure and write report.json + report.md (+ contact_sheet.png); returns the report folder."""
    bundle, device, out, fraction, seed, dataset, train_samples, held_samples = open_bundle_eval(cfg, "eval")
    if not held_samples:
        raise JobError(f"{cfg.data}: no held-out images with --val-fraction {fraction}")
    size = bundle.info.image_size
    classes = bundle.class_names
    held = []
    for sample in spread(held_samples, cfg.max_images):
        prepared = prepare(sample, size)
        label = classes.index(prepared.defect_class) if prepared.defect_class in classes else -1
        held.append(Example(prepared, label, clean_base(sample, size)))
    wanted = set(cfg.sections)
    train = [prepare(s, size) for s in spread(train_samples, cfg.classifier_images)] if "generation" in wanted else []
    log.info(
        "evaluating %s on %s: %d held-out images (split %.2f, seed %d), %d train images for the judge",
        bundle.name,
        cfg.data,
        len(held),
        fraction,
        seed,
        len(train),
    )
    evaluator = Evaluator(cfg, bundle)
    started = time.perf_counter()
    report: dict[str, Any] = {
        "bundle": {
            **bundle_record(bundle, cfg.bundle),
            "image_size": size,
            "trained_steps": bundle.info.provenance.get("steps"),
        },
        "data": {
            "root": str(Path(cfg.data).resolve()),
            "kind": dataset.kind,
            "heldout_images": len(held),
            "split": {"val_fraction": fraction, "seed": seed, "rule": "per class, by sha256 of seed and path"},
        },
        "command": command,
    }
    if "vq" in wanted:
        report["vq"] = evaluator.vq_section(held)
    if "maskgit" in wanted:
        report["maskgit"] = evaluator.maskgit_section(held)
    if "generation" in wanted:
        judge, judge_info, real = evaluator.judge(train, held, out)
        report.update(evaluator.generation_sections(judge, judge_info, real, held, out))
        report["best_of"] = evaluator.best_of_section(judge, real, held)
    if "diversity" in wanted:
        report["diversity"] = evaluator.diversity_section(held, PerceptualLoss("auto").to(device))
    if "speed" in wanted:
        report["speed"] = evaluator.speed_section(held)
    if "shapes" in wanted:
        report["shapes"] = shapes_section(
            lambda *request: evaluator.inpaint(*request)[0][0],
            held,
            classes,
            cfg.shapes_per_kind,
            cfg.seed,
            out / SHEET,
        )
    if "critic" in wanted:
        report["critic"] = critic_section(bundle.critic, held, classes, cfg.fidelity_per_class, size)
    report["goals"] = goals(report)
    report["eval_seconds"] = round(time.perf_counter() - started, 1)
    report["peak_rss_mb"] = peak_rss_mb()
    report = plain(report)
    write_atomic(out / "report.json", json.dumps(report, indent=1, allow_nan=True))
    write_atomic(out / "report.md", render_markdown(report))
    log.info("report written to %s (%.0f s)", out, report["eval_seconds"])
    return out


def _printed(out: Path) -> list[str]:
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    return [*goal_lines(report), str(out / "report.md")]


def jobs() -> dict[str, Job]:
    from training import downstream

    return {  # the report is the job without a name (`eval BUNDLE`), so no bundle folder's name is taken
        "": Job(
            EvalConfig,
            run_eval,
            "a quality report for a model bundle",
            description=__doc__,
            positional=("bundle",),
            done=_printed,
        ),
        "downstream": Job(
            downstream.DownstreamConfig,
            downstream.run_downstream,
            "does the synthetic data help a few-shot model?",
            description=downstream.__doc__,
            positional=("bundle",),
            done=downstream.printed,
        ),
    }


def main(argv: list[str] | None = None) -> int:
    """`eval BUNDLE ...` runs the report, `eval downstream BUNDLE ...` the downstream protocol."""
    return run_job_command(PROG, __doc__, jobs(), argv, default="")


if __name__ == "__main__":
    sys.exit(main())
