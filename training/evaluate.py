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

from core.bundle import BundleError, ModelBundle, load_bundle
from core.config import ConfigError, sampler_override
from core.device import DeviceError, choose_device
from core.fsutil import write_atomic
from core.masks import token_mask
from core.pipeline import InpaintPipeline, PipelineError
from core.pixels import to_model_tensor
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
    seam_region,
    seam_score,
    visible_change,
)
from training.classifier import box_crops, real_features, real_grain, train_classifier
from training.datasets import (
    DataError,
    PreparedImage,
    bundle_split,
    open_dataset,
    prepare,
    split_dataset,
    spread,
)
from training.eval_boxes import Example, clean_base, cleanup_row, mean_of, pick_boxes, save_contact_sheet
from training.eval_critic import critic_section
from training.eval_diversity import TimingAndDiversity
from training.eval_goals import JUDGE_MIN, goals
from training.eval_shapes import SHEET, shapes_section
from training.jobs import JobError, apply_threads, plain, setup_logging
from training.measures import evaluate_tokens, measure_reconstruction
from training.metrics import edge_iou, grid_ratio, kid, psnr, ssim
from training.options import device_option, option, require_path, run_bundle_command, threads_option
from training.perceptual import PerceptualLoss
from training.report_md import goal_lines, render_markdown
from training.runlog import peak_rss_mb

log = logging.getLogger(__name__)
PROG = "defectforge eval"
SECTIONS = ("vq", "maskgit", "generation", "diversity", "speed", "shapes", "critic")
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
    shapes_per_kind: int = option(3, "held-out images each painted shape kind is tried on, once per class")
    sampler_steps: int | None = sampler_override("steps", "override the bundle's sampler steps")
    cfg_weight: float | None = sampler_override("cfg_weight", "override the bundle's CFG weight")
    feather_px: int = option(InpaintRequest.feather_px, "blend feather in model pixels (as the app's default)")
    seed: int = option(0, "seed of generation and classifier")
    device: str = device_option()
    threads: int = threads_option()

    def validate(self) -> None:
        if not self.bundle:
            raise ConfigError("give the model bundle folder")
        if not self.data:
            raise ConfigError("--data is required (the dataset folder)")
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
        if self.val_fraction is not None and not 0 < self.val_fraction < 1:
            raise ConfigError("--val-fraction must be in (0, 1)")
        unknown = sorted(set(self.sections) - set(SECTIONS))
        if unknown or not self.sections:
            raise ConfigError(f"--sections: choose from {', '.join(SECTIONS)} (got {', '.join(unknown) or 'none'})")
        require_path(self.bundle, "model bundle", "folder")
        require_path(self.data, "--data", "dataset")


class Evaluator(TimingAndDiversity):
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
            real_grain(train, classes),
        )
        return model, info, real

    def generation_sections(
        self, judge_model, judge_info: dict, real: dict, held: list[Example], out: Path
    ) -> dict[str, Any]:
        """Held-out real defect boxes masked and re-inpainted once per class (and once erased): class fidelity,
        KID, token grid, label spill, seams, clean-up, and the contact sheet, all from the same inpaints."""
        cfg, classes = self.cfg, self.bundle.class_names
        chosen = pick_boxes(held, classes, cfg.fidelity_per_class)
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
                middle, band = seam_region(mask, cfg.feather_px)
                score, reference = seam_score(generated, middle, band), seam_score(image, middle, band)
                if score is not None and reference is not None:
                    seams.append(score)
                    seam_refs.append(reference)
            (erased,), _ = self.inpaint(image, mask, CLEANUP_CLASS, cfg.seed + 1009 * n + 999)
            row = cleanup_row(example, mask, image, erased, smooth)
            if row:
                cleanup_rows.append(row)
            # one column per source class (its first box): the backgrounds of every class, not six of the first
            if len(sheet) < SHEET_COLUMNS and all(example.label != e.label for e, *_ in sheet):
                sheet.append((example, mask, per_class_images, erased))
        save_contact_sheet(out / CONTACT_SHEET, sheet, classes)

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
                key: mean_of([row[key] for row in kid_rows.values()])
                for key in ("generated", "real_heldout", "smooth_fill")
            },
        }
        realism["generated_over_smooth"] = (
            realism["generated"] / realism["smooth_fill"] if realism["smooth_fill"] > 0 else float("nan")
        )
        grid = {"generated": mean_of(grids), "real": mean_of(real_grids), "period_px": ds, "measured": len(grids)}
        spill = {
            "changed_pixels_outside_label": spill_pixels,
            "changed_pixels": changed_pixels,
            "share_outside_label": spill_pixels / max(1, changed_pixels),
            "max_levels_outside": spill_max,
            "threshold_levels": SPILL_LEVELS,
        }
        seam = {
            "generated": mean_of(seams),
            "reference": mean_of(seam_refs),
            "ratio": mean_of(seams) / mean_of(seam_refs) if seams and mean_of(seam_refs) > 0 else float("nan"),
            "measured": len(seams),
            "band_px": max(1, cfg.feather_px) // 2 + 2,
        }
        cleanup = {
            "images": len(cleanup_rows),
            **{
                key: mean_of([row[key] for row in cleanup_rows])
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
        for number, (example, box) in enumerate(pick_boxes(held, classes, cfg.fidelity_per_class)):
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
            "first_fidelity": mean_of(first_right),
            "best_fidelity": mean_of(best_right),
            "first_probability": mean_of(first_prob),
            "best_probability": mean_of(best_prob),
            "improved": sum(b and not f for f, b in zip(first_right, best_right, strict=True)),
            "worsened": sum(f and not b for f, b in zip(first_right, best_right, strict=True)),
        }


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
