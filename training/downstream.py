"""`defectforge eval downstream BUNDLE --data DIR --out DIR`: does DefectForge's synthetic data help a model
trained on few real defects?

Protocol, per seed and per k in --shots:
  real         k real defect boxes per class, drawn at random (seeded) from the bundle's train split: one box
               (the largest of the class) from each of k images of that class. The draws are nested: the k=5 shots
               are the first five of the k=10 ones, so a larger k only adds data.
  synthetic    each real shot's own box re-inpainted by the bundle as its class, --synthetic-per-real variants
               (core.pipeline, as the app makes them). Only the k shots' images are used: no other real image
               enters the synthetic arm. The box is shrunk where it would leave too little context
               (training.eval_boxes.inpaint_box), as in the eval's class fidelity.
  copy-paste   the model-free baseline (training.copy_paste): each real shot's defect crop Poisson-blended into
               another of the k shots' images, as many per real shot as the synthetic arm makes: what an
               inspector could do without DefectForge.
  model        the small crop classifier (core.scoring.SmallCNN, square box crops), trained on the real crops
               alone, with the copy-paste crops added and with the synthetic ones added; all for the same number
               of steps.
  test         every box of the held-out real images (the bundle's own split), accuracy.
Results: mean and standard deviation over seeds per k for each arm, and the paired gains of the synthetic arm
over real only and over copy-paste, in downstream.json,
downstream.md and downstream.png. Caveat, written in the report: the generator itself was trained on the whole
train split, so this measures whether its samples help a few-shot model, not a few-shot generator.
YOLO arm (training.downstream_yolo), where `ultralytics` is installed (the yolo extra) and --yolo-epochs > 0:
the same draws as whole images with all their boxes, a YOLO detector trained on each arm's YOLO folder and
tested on the held-out images, mAP50. Without ultralytics the arm is reported as skipped, with the reason.
The command is a job of `defectforge eval` (training.evaluate's job table); the options and opening it shares with
the report are training.eval_bundle's.
"""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.config import ConfigError
from core.device import describe
from core.fsutil import write_atomic
from core.pipeline import InpaintPipeline
from core.request import InpaintRequest, MaskLayer
from core.scoring import crop_box, predict
from training.classifier import box_crops, train_classifier
from training.copy_paste import paste_defect
from training.datasets import PreparedImage, prepare
from training.downstream_checks import check_yolo_model, draw_caps
from training.downstream_yolo import LabelledImage, YoloSettings, run_yolo_arm, unavailable
from training.eval_boxes import inpaint_box
from training.eval_bundle import BundleEvalOptions, bundle_record, open_bundle_eval
from training.jobs import JobError, plain
from training.options import option, restate

log = logging.getLogger(__name__)
BATCH_SIZE = 32  # few-shot sets are small: more, smaller steps
REPORT_JSON, REPORT_MD, PLOT = "downstream.json", "downstream.md", "downstream.png"


@dataclass(frozen=True)
class DownstreamConfig(BundleEvalOptions):
    out: str = restate(BundleEvalOptions, "out", help="report folder (default: ./downstream-<bundle name>)")
    shots: tuple[int, ...] = option((5, 10, 20), "real boxes per class, one run per value")
    seeds: int = option(3, "repetitions with different draws and classifier seeds")
    synthetic_per_real: int = option(2, "synthetic variants made from each real shot")
    classifier_steps: int = option(150, "optimisation steps of every classifier (both arms alike)")
    seed: int = option(0, "first seed")
    yolo_epochs: int = option(60, "YOLO epochs per arm where ultralytics is installed (0 = skip the YOLO arm)")
    yolo_model: str = option("yolov8n.yaml", "YOLO architecture (from scratch) or weights file to start from")
    yolo_imgsz: int = option(224, "YOLO input size (a multiple of 32)")
    yolo_batch: int = option(16, "YOLO batch size")

    def validate(self) -> None:
        super().validate()
        if not self.shots or min(self.shots) < 1:
            raise ConfigError("--shots must be one or more numbers >= 1")
        for name in ("seeds", "synthetic_per_real", "classifier_steps", "yolo_batch"):
            if getattr(self, name) < 1:
                raise ConfigError(f"--{name.replace('_', '-')} must be >= 1")
        if self.yolo_epochs < 0:
            raise ConfigError("--yolo-epochs must be >= 0 (0 skips the YOLO arm)")
        if self.yolo_imgsz < 32 or self.yolo_imgsz % 32:
            raise ConfigError("--yolo-imgsz must be a multiple of 32")
        check_yolo_model(self.yolo_model)


@dataclass
class Shot:
    """One real box drawn for the few-shot set, its crop, and the synthetic crops made from it."""

    source: Path  # the sample's image file: an image drawn for two classes is one detector image
    image: PreparedImage
    box: tuple[int, int, int, int]
    label: int
    real: np.ndarray
    synthetic: np.ndarray | None = None  # (V, 64, 64, 3) crops of the variants' box
    variants: np.ndarray | None = None  # (V, S, S, 3) the whole synthetic images


@dataclass
class Pasted:
    """One copy-paste image: a shot's defect blended into another shot's image."""

    image: np.ndarray
    boxes: tuple
    crop: np.ndarray  # the judge-style square crop of the pasted box
    label: int


def _draw(by_class: dict[int, list], count: int, rng: np.random.Generator) -> dict[int, list]:
    """Per class, `count` train samples in a seeded random order (fewer where the class has fewer)."""
    return {label: [samples[i] for i in rng.permutation(len(samples))[:count]] for label, samples in by_class.items()}


def _shot(sample, label: int, name: str, size: int) -> Shot | None:
    prepared = prepare(sample, size)
    boxes = [b for b in prepared.boxes if b.defect_class == name]
    if not boxes:
        return None
    largest = max(boxes, key=lambda b: (b.x1 - b.x0) * (b.y1 - b.y0))
    box = (largest.x0, largest.y0, largest.x1, largest.y1)
    return Shot(
        sample.image, prepared, inpaint_box(box, prepared.image.shape[:2]), label, crop_box(prepared.image, box)
    )


def _synthesize(
    pipeline: InpaintPipeline, shot: Shot, name: str, variants: int, seed: int, sampler, feather_px: int
) -> None:
    x0, y0, x1, y1 = shot.box
    mask = np.zeros(shot.image.image.shape[:2], dtype=bool)
    mask[y0:y1, x0:x1] = True
    request = InpaintRequest(
        shot.image.image, [MaskLayer(mask, name)], seed=seed, variants=variants, sampler=sampler, feather_px=feather_px
    )
    *_, last = pipeline.run(request)
    shot.variants = np.stack([v.image for v in last.result.variants])
    shot.synthetic = np.stack([crop_box(image, shot.box) for image in shot.variants])


def _copy_paste(chosen: list[Shot], per_real: int, classes: list[str], seed: int, k: int) -> list[Pasted]:
    """`per_real` copy-paste images per shot: its defect box into another of the chosen images (seeded)."""
    rng = np.random.default_rng([seed, k, 7919])
    sources = sorted({shot.source for shot in chosen})
    targets = {shot.source: shot.image for shot in chosen}
    made = []
    for shot in chosen:
        others = [path for path in sources if path != shot.source] or sources
        for _ in range(per_real):
            target = targets[others[int(rng.integers(len(others)))]]
            image, boxes, box = paste_defect(
                target.image, target.boxes, shot.image.image, shot.box, classes[shot.label], rng
            )
            made.append(Pasted(image, boxes, crop_box(image, box), shot.label))
    return made


def _train_and_test(
    crops: np.ndarray,
    labels: np.ndarray,
    classes: int,
    steps: int,
    seed: int,
    device,
    test_x: np.ndarray,
    test_y: np.ndarray,
) -> float:
    """Accuracy on the test crops of a classifier trained for `steps` optimiser steps on (crops, labels)."""
    per_epoch = math.ceil(len(crops) / BATCH_SIZE)
    model = train_classifier(crops, labels, classes, max(1, round(steps / per_epoch)), seed, device, BATCH_SIZE)
    return float(np.mean(predict(model, test_x) == test_y))


def _stats(values: list[float]) -> dict[str, float]:
    array = np.asarray(values, dtype=np.float64)
    return {"mean": float(array.mean()), "std": float(array.std(ddof=1)) if len(array) > 1 else 0.0}


def _per_k(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean and spread over seeds of each arm and of the paired gain, per k."""
    per_k = {}
    for k in sorted({row["k"] for row in rows}):
        picked = [row for row in rows if row["k"] == k]
        per_k[str(k)] = {
            **{arm: _stats([r[arm] for r in picked]) for arm, _ in ARMS},
            **{gain: _stats([r["with_synthetic"] - r[base] for r in picked]) for gain, base in GAINS},
            "seeds": len(picked),
        }
    return per_k


def detector_images(
    chosen: list[Shot], pasted: list[Pasted], seed: int
) -> tuple[list[LabelledImage], list[LabelledImage], list[LabelledImage]]:
    """The YOLO arm's real images (each shot's image once, all its boxes), synthetic images (each variant with its
    source's boxes) and copy-paste images (with the target's boxes and the pasted one)."""
    real: dict[Path, LabelledImage] = {}
    synthetic = []
    for shot in chosen:
        if shot.source not in real:
            real[shot.source] = LabelledImage(f"s{seed}-real{len(real)}", shot.image.image, shot.image.boxes)
        for image in shot.variants if shot.variants is not None else ():
            synthetic.append(LabelledImage(f"s{seed}-synthetic{len(synthetic)}", image, shot.image.boxes))
    copies = [LabelledImage(f"s{seed}-paste{i}", p.image, p.boxes) for i, p in enumerate(pasted)]
    return list(real.values()), synthetic, copies


def _yolo_section(cfg: DownstreamConfig, draws: list, test: list[PreparedImage], classes, device, out: Path):
    reason = unavailable() if cfg.yolo_epochs else "--yolo-epochs 0"
    if reason:
        return {"skipped": reason}
    settings = YoloSettings(cfg.yolo_epochs, cfg.yolo_model, cfg.yolo_imgsz, cfg.yolo_batch)
    test_images = [LabelledImage(f"test{i}", p.image, p.boxes) for i, p in enumerate(test)]
    rows = run_yolo_arm(draws, test_images, classes, settings, device, out)
    return {
        "model": cfg.yolo_model,
        "epochs": cfg.yolo_epochs,
        "imgsz": cfg.yolo_imgsz,
        "test_images": len(test_images),
        "from_scratch": cfg.yolo_model.endswith((".yaml", ".yml")),
        "map50": _per_k(rows),
        "runs": rows,
    }


def run_downstream(cfg: DownstreamConfig, command: str = "") -> Path:
    bundle, device, out, fraction, split_seed, _, train_samples, held_samples = open_bundle_eval(cfg, "downstream")
    classes, size = bundle.class_names, bundle.info.image_size
    held_out = [prepare(s, size) for s in held_samples]
    test_x, test_y = box_crops(held_out, classes)
    if not len(test_y):
        raise JobError(f"{cfg.data}: no held-out defect boxes of the bundle's classes (split {fraction})")
    by_class: dict[int, list] = {}
    for sample in train_samples:
        names = {b.defect_class for b in sample.boxes}
        for label, name in enumerate(classes):
            if name in names:
                by_class.setdefault(label, []).append(sample)
    if len(by_class) < 2:
        raise JobError(f"{cfg.data}: fewer than two of the bundle's classes have boxes in the train split")
    pipeline = InpaintPipeline(bundle)
    sampler = cfg.sampler(bundle)
    shots = sorted(set(cfg.shots))
    started = time.perf_counter()
    runs = []
    detector_draws = []  # (seed, k, real images, synthetic images) for the YOLO arm
    for repeat in range(cfg.seeds):
        seed = cfg.seed + repeat
        rng = np.random.default_rng([seed, 2024])
        drawn: dict[int, list[Shot]] = {}
        for label, samples in _draw(by_class, 2 * max(shots), rng).items():
            made = [s for s in (_shot(sample, label, classes[label], size) for sample in samples) if s is not None]
            drawn[label] = made[: max(shots)]
        for label, class_shots in drawn.items():
            for index, shot in enumerate(class_shots):
                _synthesize(
                    pipeline,
                    shot,
                    classes[label],
                    cfg.synthetic_per_real,
                    seed * 1_000_003 + label * 1009 + index,
                    sampler,
                    cfg.feather_px,
                )
        for k in shots:
            chosen = [shot for class_shots in drawn.values() for shot in class_shots[:k]]
            real_x, real_y = np.stack([s.real for s in chosen]), np.array([s.label for s in chosen])
            pasted = _copy_paste(chosen, cfg.synthetic_per_real, classes, seed, k)
            detector_draws.append((seed, k, *detector_images(chosen, pasted, seed)))
            synth_x = np.concatenate([s.synthetic for s in chosen])
            synth_y = np.repeat(real_y, cfg.synthetic_per_real)
            paste_x, paste_y = np.stack([p.crop for p in pasted]), np.array([p.label for p in pasted])
            row: dict[str, Any] = {
                "seed": seed,
                "k": k,
                "real_boxes": len(chosen),
                "synthetic_boxes": len(synth_y),
                "copy_paste_boxes": len(paste_y),
                "capped": draw_caps(drawn, k, classes),
            }
            for arm, (x, y) in (
                ("real_only", (real_x, real_y)),
                ("with_copy_paste", (np.concatenate([real_x, paste_x]), np.concatenate([real_y, paste_y]))),
                ("with_synthetic", (np.concatenate([real_x, synth_x]), np.concatenate([real_y, synth_y]))),
            ):
                row[arm] = _train_and_test(x, y, len(classes), cfg.classifier_steps, seed, device, test_x, test_y)
            runs.append(row)
            log.info(
                "seed %d, k %d: real only %.3f, with copy-paste %.3f, with synthetic %.3f",
                seed,
                k,
                row["real_only"],
                row["with_copy_paste"],
                row["with_synthetic"],
            )
    report = plain(
        {
            "bundle": bundle_record(bundle, cfg.bundle),
            "data": {
                "root": str(Path(cfg.data).resolve()),
                "split": {"val_fraction": fraction, "seed": split_seed},
                "test_boxes": int(len(test_y)),
            },
            "protocol": {
                "shots": shots,
                "seeds": cfg.seeds,
                "synthetic_per_real": cfg.synthetic_per_real,
                "classifier_steps": cfg.classifier_steps,
                "model": "SmallCNN crop classifier",
                "synthetic": "each real shot's own box re-inpainted as its class",
                "copy_paste": "each real shot's defect box Poisson-blended into another shot's image",
                "caveat": "the generator was trained on the whole train split, not on the k shots",
            },
            "classifier": _per_k(runs),
            "runs": runs,
            "yolo": _yolo_section(cfg, detector_draws, held_out, classes, device, out),
            "device": describe(device),
            "seconds": round(time.perf_counter() - started, 1),
            "command": command,
        }
    )
    write_atomic(out / REPORT_JSON, json.dumps(report, indent=1))
    write_atomic(out / REPORT_MD, _markdown(report))
    plot_report(out / PLOT, report)
    log.info("downstream report written to %s (%.0f s)", out, report["seconds"])
    return out


ARMS = (("real_only", "real only"), ("with_copy_paste", "real + copy-paste"), ("with_synthetic", "real + synthetic"))
# The synthetic arm's paired gains: over real only, and over the model-free copy-paste baseline.
GAINS = (("gain", "real_only"), ("gain_vs_copy_paste", "with_copy_paste"))


def _table(per_k: dict[str, Any]) -> list[str]:
    columns = [*(arm for arm, _ in ARMS), *(gain for gain, _ in GAINS)]
    lines = [
        "| k per class | real only | real + copy-paste | real + synthetic | synthetic gain over real | "
        "synthetic gain over copy-paste |",
        "|---|---|---|---|---|---|",
    ]
    for k, row in per_k.items():
        cells = (f"{row[c]['mean']:.3f} ± {row[c]['std']:.3f}" if c in row else "n/a" for c in columns)
        lines.append(f"| {k} | " + " | ".join(cells) + " |")
    return lines


def _markdown(report: dict[str, Any]) -> str:
    protocol = report["protocol"]
    lines = [
        f"# Does the synthetic data help? {report['bundle']['name']}",
        "",
        f"- Data: `{report['data']['root']}`, tested on {report['data']['test_boxes']} held-out real boxes "
        f"(split {report['data']['split']['val_fraction']}, seed {report['data']['split']['seed']})",
        f"- Protocol: k real boxes per class alone, plus {protocol['synthetic_per_real']} copy-paste per real "
        f"({protocol.get('copy_paste', 'not run')}), or plus {protocol['synthetic_per_real']} synthetic per real "
        f"({protocol['synthetic']}); {protocol['model']}, {protocol['classifier_steps']} steps; "
        f"{protocol['seeds']} seeds",
        f"- Caveat: {protocol['caveat']}",
        f"- Command: `{report['command']}`",
        "",
        "## Crop classifier accuracy (mean ± std over seeds)",
        "",
        *_table(report["classifier"]),
        "",
        "## YOLO detector (mAP50 on the held-out images, mean ± std over seeds)",
        "",
    ]
    yolo = report["yolo"]
    if "skipped" in yolo:
        lines.append(f"Skipped: {yolo['skipped']}.")
    else:
        start = "from scratch (random weights)" if yolo["from_scratch"] else "from its weights"
        lines += [
            f"`{yolo['model']}` {start}, {yolo['epochs']} epochs at {yolo['imgsz']} px, tested on "
            f"{yolo['test_images']} held-out images. The real-only arm's images are repeated to the other arm's "
            "count, so both train for the same number of steps. From scratch on a few dozen images a detector "
            "needs many epochs before its mAP leaves zero: read the gain, not the level.",
            "",
            *_table(yolo["map50"]),
        ]
    lines += ["", f"Plot: `{PLOT}`. Took {report['seconds']} s on {report['device']}.", ""]
    return "\n".join(lines)


def plot_report(path: Path, report: dict[str, Any]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [(report["classifier"], "held-out accuracy", "crop classifier")]
    if "map50" in report["yolo"]:
        panels.append((report["yolo"]["map50"], "held-out mAP50", "YOLO detector"))
    figure, all_axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.5), dpi=120, squeeze=False)
    for axes, (per_k, ylabel, model) in zip(all_axes[0], panels, strict=True):
        shots = [int(k) for k in per_k]
        span = (max(shots) - min(shots)) or 2
        dodge = 0.03 * span  # the arms side by side, so their bars do not hide each other
        for (arm, label), side in zip(ARMS, (-1, 0, 1), strict=True):
            if arm not in per_k[str(shots[0])]:
                continue
            means = [per_k[str(k)][arm]["mean"] for k in shots]
            stds = [per_k[str(k)][arm]["std"] for k in shots]
            places = [k + side * dodge for k in shots]
            axes.errorbar(places, means, yerr=stds, marker="o", capsize=3, label=label)
        axes.set_xlabel("real boxes per class (k)")
        axes.set_ylabel(ylabel)
        axes.set_xticks(shots)
        axes.set_xlim(min(shots) - 0.15 * span, max(shots) + 0.15 * span)
        axes.set_title(f"Downstream {model}: {report['bundle']['name']}", fontsize=9)
        axes.legend()
    figure.tight_layout()
    try:  # the temp name does not end in .png: say the format
        write_atomic(path, lambda tmp: figure.savefig(tmp, format="png"))
    finally:
        plt.close(figure)


def printed(out: Path) -> list[str]:
    """What `eval downstream` prints once the report is written (training.evaluate runs the command)."""
    return [str(out / REPORT_MD)]
