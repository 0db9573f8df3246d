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
Generated defects go through core.pipeline.InpaintPipeline, exactly as the app makes them. The contact sheet
(contact_sheet.png) shows the same backgrounds and masks in every row: one row per class, then clean-up.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import statistics
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
from PIL import Image

from core.bundle import BundleError, ModelBundle, load_bundle
from core.config import ConfigError
from core.device import DeviceError, choose_device, describe
from core.masks import feathered_alpha
from core.pipeline import InpaintPipeline, PipelineError
from core.request import CLEANUP_CLASS, InpaintRequest, MaskLayer
from core.sampler import with_overrides
from core.scoring import (
    REAL_PER_CLASS,
    SPILL_LEVELS,
    Critic,
    CriticError,
    crop_box,
    embed,
    load_critic,
    predict,
    probabilities,
    rank,
    save_critic,
    score_variants,
    seam_score,
    visible_change,
)
from training.checkpoint import atomic_write_text
from training.classifier import box_crops, crop_defect, real_features, train_classifier
from training.datasets import (
    DataError,
    PreparedImage,
    bundle_split,
    open_dataset,
    prepare,
    split_dataset,
    spread,
    to_model_tensor,
    token_region,
)
from training.jobs import JobError, apply_threads, plain, setup_logging
from training.metrics import edge_iou, grid_ratio, kid, psnr, ssim, texture_distance
from training.options import option, require_path, run_bundle_command
from training.perceptual import PerceptualLoss
from training.report_md import goal_lines, render_markdown
from training.runlog import peak_rss_mb
from training.train_maskgit import evaluate_tokens
from training.train_vq import measure_reconstruction

log = logging.getLogger(__name__)
PROG = "defectforge eval"
# Issue 9's goals, checked in every report.
GOALS = {
    "vq_ssim": 0.74,
    "class_fidelity": 0.85,
    "class_fidelity_min": 0.6,
    "kid_over_smooth_max": 0.25,
    "grid_over_real_max": 1.05,
    "cleanup_over_background_max": 1.5,
    "seconds_per_inpaint_max": 1.0,
}
SECTIONS = ("vq", "maskgit", "generation", "diversity", "speed")
JUDGE_MIN = 0.95  # a judge less accurate than this on real held-out boxes cannot vouch for generated ones
MIN_CONTEXT = 0.3  # share of the image a re-inpainted box leaves untouched
MIN_BACKGROUND = 0.2  # clean-up is measured only where this share of the image is defect-free
SHEET_COLUMNS = 6
CONTACT_SHEET = "contact_sheet.png"
JUDGE_FILE = "judge.safetensors"
# What a user can fix: these end a run with one line, anything else is a bug and keeps its traceback.
USER_ERRORS = (ConfigError, JobError, DataError, BundleError, DeviceError, PipelineError, FileNotFoundError)


@dataclass(frozen=True)
class EvalConfig:
    bundle: str = option("", "model bundle folder")
    data: str = option("", "dataset folder or YAML dataset spec (the one the bundle was trained on)")
    out: str = option("", "report folder (default: ./eval-<bundle name>)")
    val_fraction: float | None = option(None, "held-out share (default: the bundle's training split)")
    split_seed: int | None = option(None, "held-out split seed (default: the bundle's)")
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
    sampler_steps: int | None = option(None, "override the bundle's sampler steps")
    cfg_weight: float | None = option(None, "override the bundle's CFG weight")
    feather_px: int = option(6, "blend feather in model pixels (as the app's default)")
    seed: int = option(0, "seed of generation and classifier")
    device: str = option("auto", "auto, cpu, cuda or mps (DEFECTFORGE_DEVICE wins)")
    threads: int = option(
        0,
        "CPU threads for torch (0 = its default, one per core); 1 is often much faster on "
        "a machine whose cores other jobs keep busy",
    )

    def validate(self) -> None:
        if not self.bundle:
            raise ConfigError("give the model bundle folder")
        if not self.data:
            raise ConfigError("--data is required (the dataset folder)")
        for name in ("max_images", "fidelity_per_class", "variants", "speed_runs", "classifier_epochs"):
            if getattr(self, name) < 1:
                raise ConfigError(f"--{name.replace('_', '-')} must be >= 1")
        if self.best_of < 0:
            raise ConfigError("--best-of must be >= 0")
        if self.val_fraction is not None and not 0 < self.val_fraction < 1:
            raise ConfigError("--val-fraction must be in (0, 1)")
        unknown = sorted(set(self.sections) - set(SECTIONS))
        if unknown or not self.sections:
            raise ConfigError(f"--sections: choose from {', '.join(SECTIONS)} (got {', '.join(unknown) or 'none'})")
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
        self.pipeline = InpaintPipeline(bundle)
        self.sampler = with_overrides(bundle.info.sampler, steps=cfg.sampler_steps, cfg_weight=cfg.cfg_weight)
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
            "ssim": _mean(ssims),
            "psnr": _mean(psnrs),
            "edge_iou": _mean(edges),
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
        region = torch.from_numpy(np.stack([token_region(e.prepared.region, ds) for e in held]))
        labels = torch.tensor([e.label for e in held])
        result = evaluate_tokens(self.bundle.transformer, torch.cat(codes), region, labels, seed=self.cfg.seed)
        return {
            "heldout_ce": result["ce"],
            "masked_token_accuracy": result["accuracy"],
            "region_ce": result["region_ce"],
            "region_accuracy": result["region_accuracy"],
            "images": len(held),
        }

    def judge(self, train: list[PreparedImage], held: list[Example], out: Path) -> tuple[Any, dict[str, Any], dict]:
        """The class-fidelity judge: a small CNN on real train-split box crops; its held-out accuracy says
        whether it is fair (>= JUDGE_MIN). Also the real crops per class (train: KID reference; held-out:
        KID floor)."""
        classes = self.bundle.class_names
        crops, labels = box_crops(train, classes)
        held_x, held_y = box_crops([e.prepared for e in held], classes)
        if len(set(labels.tolist())) < 2 or not len(held_y):
            return None, {"skipped": "fewer than two classes with boxes in the train split"}, {}
        started = time.perf_counter()
        if self.cfg.judge:
            try:
                critic = load_critic(Path(self.cfg.judge), self.bundle.device)
            except CriticError as exc:
                raise JobError(str(exc)) from exc
            if critic.classes != classes:
                raise JobError(f"--judge {self.cfg.judge} knows {critic.classes}, the bundle {classes}")
            model = critic.model
        else:
            model = train_classifier(
                crops, labels, len(classes), self.cfg.classifier_epochs, self.cfg.seed, self.bundle.device
            )
        predicted = predict(model, held_x)
        info = {
            "heldout_accuracy": float(np.mean(predicted == held_y)),
            "heldout_accuracy_per_class": {
                name: float(np.mean(predicted[held_y == i] == i))
                for i, name in enumerate(classes)
                if (held_y == i).any()
            },
            "train_crops": len(labels),
            "heldout_crops": len(held_y),
            "fair": bool(np.mean(predicted == held_y) >= JUDGE_MIN),
            "seconds": time.perf_counter() - started,
        }
        real = {name: {"train": crops[labels == i], "heldout": held_x[held_y == i]} for i, name in enumerate(classes)}
        # Kept with its real features, so 'defectforge train classifier --judge' can adopt it as a bundle's critic.
        save_critic(
            out / JUDGE_FILE,
            model,
            classes,
            {k: v for k, v in info.items() if k != "seconds"},
            real_features(model, crops, labels, classes),
        )
        return model, info, real

    def generation_sections(
        self, judge_model, judge_info: dict, real: dict, held: list[Example], out: Path
    ) -> dict[str, Any]:
        """Held-out real defect boxes masked and re-inpainted once per class (and once erased): class fidelity,
        KID, token grid, label spill, seams, clean-up, and the contact sheet, all from the same inpaints."""
        cfg, classes = self.cfg, self.bundle.class_names
        chosen = _pick_boxes(held, classes, cfg.fidelity_per_class)
        if judge_model is None or not chosen:
            return {"class_fidelity": {"skipped": judge_info.get("skipped", "no held-out defect boxes")}}
        confusion = np.zeros((len(classes), len(classes)), dtype=np.int64)
        generated_crops: dict[str, list[np.ndarray]] = {name: [] for name in classes}
        smooth_crops, grids, real_grids, seams, seam_refs = [], [], [], [], []
        spill_pixels, changed_pixels, spill_max = 0, 0, 0
        cleanup_rows: list[dict[str, float]] = []
        sheet: list[tuple[np.ndarray, np.ndarray, dict[str, np.ndarray], np.ndarray]] = []
        ds = self.bundle.vq.downsample
        for n, (example, box) in enumerate(chosen):
            image = example.prepared.image
            mask = np.zeros(image.shape[:2], dtype=bool)
            mask[box[1] : box[3], box[0] : box[2]] = True
            smooth = cv2.inpaint(image, mask.astype(np.uint8) * 255, 5, cv2.INPAINT_TELEA)
            smooth_crops.append(crop_box(smooth, box))
            real_grid = grid_ratio(image, mask, ds)
            per_class_images = {}
            for class_id, name in enumerate(classes):
                (variant,), _ = self.run(image, mask, name, cfg.seed + 1009 * n + class_id)
                generated = variant.image
                per_class_images[name] = generated
                crop = crop_box(generated, box)
                generated_crops[name].append(crop)
                confusion[class_id, int(predict(judge_model, crop[None])[0])] += 1
                grid = grid_ratio(generated, mask, ds)
                if grid is not None and real_grid is not None:
                    grids.append(grid)
                    real_grids.append(real_grid)
                changed = visible_change(image, generated)
                label = np.zeros_like(mask)
                for label_mask in variant.label_masks.values():
                    label |= label_mask
                spill = changed & ~label
                spill_pixels += int(spill.sum())
                changed_pixels += int(changed.sum())
                if spill.any():
                    spill_max = max(
                        spill_max,
                        int(np.abs(generated.astype(np.int16) - image.astype(np.int16)).max(axis=2)[spill].max()),
                    )
                middle = feathered_alpha(mask, max(1, cfg.feather_px)) >= 0.5
                band = max(1, cfg.feather_px) // 2 + 2
                score, reference = seam_score(generated, middle, band), seam_score(image, middle, band)
                if score is not None and reference is not None:
                    seams.append(score)
                    seam_refs.append(reference)
            (erased,), _ = self.inpaint(image, mask, CLEANUP_CLASS, cfg.seed + 1009 * n + 999)
            row = _cleanup_row(example, mask, image, erased, smooth)
            if row:
                cleanup_rows.append(row)
            # one column per source class (its first box): the backgrounds of every class, not six of the first
            if len(sheet) < SHEET_COLUMNS and all(example.label != e.label for e, *_ in sheet):
                sheet.append((example, mask, per_class_images, erased))
        _save_contact_sheet(out / CONTACT_SHEET, sheet, classes)

        per_class = {name: float(confusion[i, i] / max(1, confusion[i].sum())) for i, name in enumerate(classes)}
        fidelity = {
            "overall": float(np.trace(confusion) / max(1, confusion.sum())),
            "per_class": per_class,
            "boxes": len(chosen),
            "inpaints_per_class": len(chosen),
            "confusion": {
                "rows": "requested class",
                "columns": "judged class",
                "classes": classes,
                "counts": confusion.tolist(),
            },
            "judge": judge_info,
            "base_images": "held-out real images, one defect box each masked and re-inpainted once per class",
        }
        feats = {name: {k: embed(judge_model, v) for k, v in sets.items() if len(v)} for name, sets in real.items()}
        smooth_feats = embed(judge_model, np.stack(smooth_crops))
        kid_rows = {}
        for name in classes:
            reference = feats[name].get("train")
            if reference is None or len(reference) < 2:
                continue
            generated = embed(judge_model, np.stack(generated_crops[name]))
            kid_rows[name] = {
                "generated": kid(generated, reference),
                "real_heldout": kid(feats[name]["heldout"], reference) if "heldout" in feats[name] else float("nan"),
                "smooth_fill": kid(smooth_feats, reference),
            }
        realism = {
            "per_class": kid_rows,
            **{
                key: _mean([row[key] for row in kid_rows.values()])
                for key in ("generated", "real_heldout", "smooth_fill")
            },
        }
        realism["generated_over_smooth"] = (
            realism["generated"] / realism["smooth_fill"] if realism["smooth_fill"] > 0 else float("nan")
        )
        grid = {"generated": _mean(grids), "real": _mean(real_grids), "period_px": ds, "measured": len(grids)}
        spill = {
            "changed_pixels_outside_label": spill_pixels,
            "changed_pixels": changed_pixels,
            "share_outside_label": spill_pixels / max(1, changed_pixels),
            "max_levels_outside": spill_max,
            "threshold_levels": SPILL_LEVELS,
        }
        seam = {
            "generated": _mean(seams),
            "reference": _mean(seam_refs),
            "ratio": _mean(seams) / _mean(seam_refs) if seams and _mean(seam_refs) > 0 else float("nan"),
            "measured": len(seams),
            "band_px": max(1, cfg.feather_px) // 2 + 2,
        }
        cleanup = {
            "images": len(cleanup_rows),
            **{
                key: _mean([row[key] for row in cleanup_rows])
                for key in ("erased", "defect", "smooth_fill", "background")
            },
        }
        cleanup["erased_over_background"] = (
            cleanup["erased"] / cleanup["background"] if cleanup.get("background", 0) > 0 else float("nan")
        )
        return {
            "class_fidelity": fidelity,
            "realism_kid": realism,
            "token_grid": grid,
            "label_spill": spill,
            "seam": seam,
            "cleanup": cleanup,
        }

    def best_of_section(self, judge_model, real: dict, held: list[Example]) -> dict[str, Any]:
        """Does picking the best of N by the scores beat taking the first variant? Judged by the eval's judge."""
        cfg, classes, n = self.cfg, self.bundle.class_names, self.cfg.best_of
        if n < 2:
            return {"skipped": "--best-of below 2", "n": n}
        if judge_model is None:
            return {"skipped": "no judge", "n": n}
        critic = self.bundle.critic
        if critic is None:
            reference = {
                name: embed(judge_model, np.stack(spread(list(sets["train"]), REAL_PER_CLASS)))
                for name, sets in real.items()
                if len(sets["train"])
            }
            critic, scorer, same = Critic(judge_model, classes, reference), "the eval's judge", True
        else:
            scorer = "the bundle's classifier"
            ours, theirs = critic.model.state_dict(), judge_model.state_dict()
            same = ours.keys() == theirs.keys() and all(
                ours[k].shape == theirs[k].shape and torch.equal(ours[k].cpu(), theirs[k].cpu()) for k in ours
            )
        first_right, best_right, first_prob, best_prob = [], [], [], []
        for number, (example, box) in enumerate(_pick_boxes(held, classes, cfg.fidelity_per_class)):
            name = example.prepared.defect_class
            mask = np.zeros(example.prepared.image.shape[:2], dtype=bool)
            mask[box[1] : box[3], box[0] : box[2]] = True
            request = InpaintRequest(
                image=example.prepared.image,
                layers=[MaskLayer(mask, name)],
                seed=cfg.seed + 7919 * number,
                variants=n,
                sampler=self.sampler,
                feather_px=cfg.feather_px,
            )
            *_, last = self.pipeline.run(request)
            best = rank(score_variants(last.result, critic, self.size))[0]
            crops = np.stack([crop_box(last.result.variants[i].image, box) for i in (0, best)])
            probs = probabilities(judge_model, crops)[:, classes.index(name)]
            right = predict(judge_model, crops) == classes.index(name)
            first_right.append(bool(right[0]))
            best_right.append(bool(right[1]))
            first_prob.append(float(probs[0]))
            best_prob.append(float(probs[1]))
        if not first_right:
            return {"skipped": "no held-out defect boxes", "n": n}
        return {
            "n": n,
            "boxes": len(first_right),
            "scorer": scorer,
            "same_network": bool(same),
            "first_fidelity": _mean(first_right),
            "best_fidelity": _mean(best_right),
            "first_probability": _mean(first_prob),
            "best_probability": _mean(best_prob),
            "improved": sum(b and not f for f, b in zip(first_right, best_right, strict=True)),
            "worsened": sum(f and not b for f, b in zip(first_right, best_right, strict=True)),
        }

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
        return {
            "metric": "lpips_vgg" if perceptual.mode == "lpips" else "1-ssim (VGG16 weights not on disk)",
            "mean": _mean(distances),
            "masks": len(masks),
            "variants": cfg.variants,
            "pairs": len(distances),
        }

    def speed_section(self, held: list[Example]) -> dict[str, Any]:
        example = next((e for e in held if e.prepared.region.any()), None)
        if example is None:
            return {}
        times = [
            self.inpaint(
                example.prepared.image, example.prepared.region, self.bundle.class_names[0], self.cfg.seed + run
            )[1]
            for run in range(self.cfg.speed_runs + 1)
        ][1:]  # 1st: warm-up
        return {
            "seconds_per_inpaint": statistics.median(times),
            "min_s": min(times),
            "runs": len(times),
            "device": describe(self.bundle.device),
            "sampler_steps": self.sampler.steps,
            "image_size": self.size,
        }


def _xyxy(box) -> tuple[int, int, int, int]:
    return box.x0, box.y0, box.x1, box.y1


def _pick_boxes(
    held: list[Example], classes: list[str], per_class: int
) -> list[tuple[Example, tuple[int, int, int, int]]]:
    """Up to `per_class` held-out images of each class, each with one of its boxes to re-inpaint: the largest
    box that leaves at least MIN_CONTEXT of the image as context (a larger one is shrunk about its centre)."""
    chosen = []
    for name in classes:
        count = 0
        for example in held:
            if count >= per_class:
                break
            boxes = [b for b in example.prepared.boxes if b.defect_class == name]
            if example.prepared.defect_class != name or not boxes:
                continue
            box = max(boxes, key=lambda b: (b.x1 - b.x0) * (b.y1 - b.y0))
            chosen.append((example, inpaint_box(_xyxy(box), example.prepared.image.shape[:2])))
            count += 1
    return chosen


def inpaint_box(box: tuple[int, int, int, int], shape: tuple[int, int]) -> tuple[int, int, int, int]:
    """The box to mask and re-inpaint: the defect's box, shrunk about its centre where it would leave less than
    MIN_CONTEXT of the (h, w) image as context."""
    h, w = shape
    limit = (1 - MIN_CONTEXT) * h * w
    x0, y0, x1, y1 = box
    area = (x1 - x0) * (y1 - y0)
    if area > limit:
        shrink = math.sqrt(limit / area)
        cx, cy, bw, bh = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) * shrink, (y1 - y0) * shrink
        x0, x1 = max(0, round(cx - bw / 2)), min(w, round(cx + bw / 2))
        y0, y1 = max(0, round(cy - bh / 2)), min(h, round(cy + bh / 2))
    return x0, y0, x1, y1


def _cleanup_row(
    example: Example, mask: np.ndarray, image: np.ndarray, erased: np.ndarray, smooth: np.ndarray
) -> dict[str, float] | None:
    """Texture distances from the image's defect-free background: the erased box, the defect before erasing,
    a smooth fill, and as the floor each half of the image's background (left, right, top, bottom) against
    the whole: how far one stretch of clean surface is from the rest of it."""
    defects = np.zeros_like(mask)
    for b in example.prepared.boxes:
        defects[b.y0 : b.y1, b.x0 : b.x1] = True
    background = ~(cv2.dilate(defects.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0)
    if background.mean() < MIN_BACKGROUND:
        return None
    h, w = mask.shape
    halves = []
    for half in (np.s_[:, : w // 2], np.s_[:, w // 2 :], np.s_[: h // 2, :], np.s_[h // 2 :, :]):
        part = np.zeros_like(mask)
        part[half] = True
        halves.append(texture_distance(image, background & part, background))
    values = {
        "erased": texture_distance(erased, mask, background),
        "defect": texture_distance(image, mask, background),
        "smooth_fill": texture_distance(smooth, mask, background),
        "background": _mean([v for v in halves if v is not None]),
    }
    return None if any(v is None or math.isnan(v) for v in values.values()) else values  # type: ignore[return-value]


def _mean(values: list[float]) -> float:
    values = [v for v in values if v is not None and not math.isnan(v)]
    return float(np.mean(values)) if values else float("nan")


def _label(text: str, height: int, width: int) -> np.ndarray:
    tile = np.full((height, width, 3), 255, dtype=np.uint8)
    for i, part in enumerate(text.replace("_", " ").replace("-", "- ").split(" ")[:3]):
        cv2.putText(tile, part, (6, 22 + 20 * i), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    return tile


def _save_contact_sheet(path: Path, columns: list, classes: list[str]) -> None:
    """One column per held-out image; rows: the original with its mask outlined, each class, clean-up.
    The same backgrounds and masks in every row, so the requested class is the only thing that changes."""
    if not columns:
        return
    size = columns[0][0].prepared.image.shape[0]
    gap = 4

    def outlined(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
        out = image.copy()
        contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        cv2.drawContours(out, contours, -1, (255, 60, 60), 1)
        return out

    rows = [("original (mask outlined)", [outlined(e.prepared.image, m) for e, m, _, _ in columns])]
    rows += [(name, [images[name] for _, _, images, _ in columns]) for name in classes]
    rows += [("clean-up", [erased for *_, erased in columns])]
    lines = []
    for title, tiles in rows:
        cells = [_label(title, size, 130)]
        for tile in tiles:
            cells += [np.full((size, gap, 3), 255, np.uint8), cv2.resize(tile, (size, size))]
        lines += [np.concatenate(cells, axis=1), np.full((gap, 130 + len(tiles) * (size + gap), 3), 255, np.uint8)]
    Image.fromarray(np.concatenate(lines[:-1])).save(path)


def _goals(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Each goal with the measured figure beside it: measure, value, goal (in words), met."""
    nan = float("nan")
    fidelity = report.get("class_fidelity", {})
    per_class = fidelity.get("per_class", {})
    worst = min(per_class.values()) if per_class else nan
    kid_ratio = report.get("realism_kid", {}).get("generated_over_smooth", nan)
    grid = report.get("token_grid", {})
    grid_ratio_value = grid.get("generated", nan) / grid["real"] if grid.get("real") else nan
    cleanup = report.get("cleanup", {}).get("erased_over_background", nan)
    spill = report.get("label_spill", {}).get("changed_pixels_outside_label", nan)
    speed = report.get("speed", {}).get("seconds_per_inpaint", nan)
    judge = fidelity.get("judge", {}).get("heldout_accuracy", nan)
    rows = [
        ("tokenizer SSIM (held-out, original pixels)", report.get("vq", {}).get("ssim", nan), ">=", GOALS["vq_ssim"]),
        ("judge accuracy on real held-out boxes", judge, ">=", JUDGE_MIN),
        ("class fidelity, overall", fidelity.get("overall", nan), ">=", GOALS["class_fidelity"]),
        ("class fidelity, worst class", worst, ">=", GOALS["class_fidelity_min"]),
        ("KID generated / KID smooth fill", kid_ratio, "<=", GOALS["kid_over_smooth_max"]),
        ("token grid generated / real", grid_ratio_value, "<=", GOALS["grid_over_real_max"]),
        ("clean-up texture distance / background's", cleanup, "<=", GOALS["cleanup_over_background_max"]),
        ("changed pixels outside the label", spill, "<=", 0),
        ("seconds per inpaint (median)", speed, "<=", GOALS["seconds_per_inpaint_max"]),
    ]
    return [
        {
            "measure": name,
            "value": value,
            "goal": f"{op} {target}",
            "met": bool(value >= target if op == ">=" else value <= target),
        }
        for name, value, op, target in rows
    ]


def run_eval(cfg: EvalConfig, command: str = "") -> Path:
    """Measure and write report.json + report.md (+ contact_sheet.png); returns the report folder."""
    setup_logging(None)
    apply_threads(cfg.threads)
    device = choose_device(cfg.device)
    bundle = load_bundle(cfg.bundle, device=device)
    out = Path(cfg.out or f"eval-{bundle.name}")
    out.mkdir(parents=True, exist_ok=True)
    fraction, seed = bundle_split(bundle.info.provenance, cfg.val_fraction, cfg.split_seed)
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
            "path": str(Path(cfg.bundle).resolve()),
            "name": bundle.name,
            "fingerprint": bundle.info.fingerprint,
            "classes": classes,
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
    wanted = set(cfg.sections)
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
    report["goals"] = _goals(report)
    report["eval_seconds"] = round(time.perf_counter() - started, 1)
    report["peak_rss_mb"] = peak_rss_mb()
    report = plain(report)
    atomic_write_text(out / "report.json", json.dumps(report, indent=1, allow_nan=True))
    atomic_write_text(out / "report.md", render_markdown(report))
    log.info("report written to %s (%.0f s)", out, report["eval_seconds"])
    return out


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["downstream"]:
        from training.downstream import main as downstream

        return downstream(argv[1:])
    status, out = run_bundle_command(PROG, __doc__, EvalConfig, run_eval, argv, USER_ERRORS)
    if status:
        return status
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    for line in goal_lines(report):
        print(line)
    print(out / "report.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
