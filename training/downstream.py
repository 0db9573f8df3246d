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
  model        the small crop classifier (core.scoring.SmallCNN, square box crops), trained on the real crops
               alone, and on the same real crops plus the synthetic ones; both for the same number of steps.
  test         every box of the held-out real images (the bundle's own split), accuracy.
Results: mean and standard deviation over seeds per k for each arm, and the paired gain, in downstream.json,
downstream.md and downstream.png. Caveat, written in the report: the generator itself was trained on the whole
train split, so this measures whether its samples help a few-shot model, not a few-shot generator.
A YOLO detector on the exported folders would need `ultralytics` (the yolo extra); that arm is reported as
skipped, with the reason.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.bundle import load_bundle
from core.config import ConfigError
from core.device import choose_device, describe
from core.pipeline import InpaintPipeline
from core.request import InpaintRequest, MaskLayer
from core.sampler import with_overrides
from core.scoring import crop_box, predict
from training.checkpoint import atomic_write_text
from training.classifier import box_crops, train_classifier
from training.datasets import PreparedImage, bundle_split, open_dataset, prepare, split_dataset
from training.eval_boxes import inpaint_box
from training.evaluate import USER_ERRORS
from training.jobs import JobError, apply_threads, plain, setup_logging
from training.options import option, require_path, run_bundle_command

log = logging.getLogger(__name__)
PROG = "defectforge eval downstream"
BATCH_SIZE = 32  # few-shot sets are small: more, smaller steps
REPORT_JSON, REPORT_MD, PLOT = "downstream.json", "downstream.md", "downstream.png"


@dataclass(frozen=True)
class DownstreamConfig:
    bundle: str = option("", "model bundle folder")
    data: str = option("", "dataset folder or YAML dataset spec (the one the bundle was trained on)")
    out: str = option("", "report folder (default: ./downstream-<bundle name>)")
    shots: tuple[int, ...] = option((5, 10, 20), "real boxes per class, one run per value")
    seeds: int = option(3, "repetitions with different draws and classifier seeds")
    synthetic_per_real: int = option(2, "synthetic variants made from each real shot")
    classifier_steps: int = option(150, "optimisation steps of every classifier (both arms alike)")
    val_fraction: float | None = option(None, "held-out share (default: the bundle's training split)")
    split_seed: int | None = option(None, "held-out split seed (default: the bundle's)")
    sampler_steps: int | None = option(None, "override the bundle's sampler steps")
    cfg_weight: float | None = option(None, "override the bundle's CFG weight")
    feather_px: int = option(InpaintRequest.feather_px, "blend feather in model pixels (as the app's default)")
    seed: int = option(0, "first seed")
    device: str = option("auto", "auto, cpu, cuda or mps (DEFECTFORGE_DEVICE wins)")
    threads: int = option(0, "CPU threads for torch (0 = its default)")

    def validate(self) -> None:
        if not self.bundle:
            raise ConfigError("give the model bundle folder")
        if not self.data:
            raise ConfigError("--data is required (the dataset folder)")
        if not self.shots or min(self.shots) < 1:
            raise ConfigError("--shots must be one or more numbers >= 1")
        for name in ("seeds", "synthetic_per_real", "classifier_steps"):
            if getattr(self, name) < 1:
                raise ConfigError(f"--{name.replace('_', '-')} must be >= 1")
        if self.val_fraction is not None and not 0 < self.val_fraction < 1:
            raise ConfigError("--val-fraction must be in (0, 1)")
        require_path(self.bundle, "model bundle", "folder")
        require_path(self.data, "--data", "dataset")


@dataclass
class Shot:
    """One real box drawn for the few-shot set, its crop, and the synthetic crops made from it."""

    image: PreparedImage
    box: tuple[int, int, int, int]
    label: int
    real: np.ndarray
    synthetic: np.ndarray | None = None


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
    return Shot(prepared, inpaint_box(box, prepared.image.shape[:2]), label, crop_box(prepared.image, box))


def _synthesize(
    pipeline: InpaintPipeline, shot: Shot, name: str, variants: int, seed: int, sampler, feather_px: int
) -> np.ndarray:
    x0, y0, x1, y1 = shot.box
    mask = np.zeros(shot.image.image.shape[:2], dtype=bool)
    mask[y0:y1, x0:x1] = True
    request = InpaintRequest(
        shot.image.image, [MaskLayer(mask, name)], seed=seed, variants=variants, sampler=sampler, feather_px=feather_px
    )
    *_, last = pipeline.run(request)
    return np.stack([crop_box(v.image, shot.box) for v in last.result.variants])


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


def _yolo_section() -> dict[str, Any]:
    if importlib.util.find_spec("ultralytics") is None:
        return {"skipped": "ultralytics is not installed (the optional yolo extra: pip install 'defectforge[yolo]')"}
    return {
        "skipped": "the YOLO arm (detector on the exported YOLO folders, mAP50) is not implemented yet; "
        "the crop classifier above is the measured protocol"
    }


def run_downstream(cfg: DownstreamConfig, command: str = "") -> Path:
    setup_logging(None)
    apply_threads(cfg.threads)
    device = choose_device(cfg.device)
    bundle = load_bundle(cfg.bundle, device=device)
    classes, size = bundle.class_names, bundle.info.image_size
    out = Path(cfg.out or f"downstream-{bundle.name}")
    out.mkdir(parents=True, exist_ok=True)
    fraction, split_seed = bundle_split(bundle.info.provenance, cfg.val_fraction, cfg.split_seed)
    train_samples, held_samples = split_dataset(open_dataset(cfg.data), fraction, split_seed)
    test_x, test_y = box_crops([prepare(s, size) for s in held_samples], classes)
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
    sampler = with_overrides(bundle.info.sampler, steps=cfg.sampler_steps, cfg_weight=cfg.cfg_weight)
    shots = sorted(set(cfg.shots))
    started = time.perf_counter()
    runs = []
    for repeat in range(cfg.seeds):
        seed = cfg.seed + repeat
        rng = np.random.default_rng([seed, 2024])
        drawn: dict[int, list[Shot]] = {}
        for label, samples in _draw(by_class, 2 * max(shots), rng).items():
            made = [s for s in (_shot(sample, label, classes[label], size) for sample in samples) if s is not None]
            drawn[label] = made[: max(shots)]
        for label, class_shots in drawn.items():
            for index, shot in enumerate(class_shots):
                shot.synthetic = _synthesize(
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
            synth_x = np.concatenate([s.synthetic for s in chosen])
            synth_y = np.repeat(real_y, cfg.synthetic_per_real)
            real_only = _train_and_test(
                real_x, real_y, len(classes), cfg.classifier_steps, seed, device, test_x, test_y
            )
            with_synthetic = _train_and_test(
                np.concatenate([real_x, synth_x]),
                np.concatenate([real_y, synth_y]),
                len(classes),
                cfg.classifier_steps,
                seed,
                device,
                test_x,
                test_y,
            )
            runs.append(
                {
                    "seed": seed,
                    "k": k,
                    "real_boxes": len(chosen),
                    "synthetic_boxes": len(synth_y),
                    "real_only": real_only,
                    "with_synthetic": with_synthetic,
                }
            )
            log.info("seed %d, k %d: real only %.3f, with synthetic %.3f", seed, k, real_only, with_synthetic)
    per_k = {}
    for k in shots:
        rows = [r for r in runs if r["k"] == k]
        per_k[str(k)] = {
            "real_only": _stats([r["real_only"] for r in rows]),
            "with_synthetic": _stats([r["with_synthetic"] for r in rows]),
            "gain": _stats([r["with_synthetic"] - r["real_only"] for r in rows]),
            "seeds": len(rows),
        }
    report = plain(
        {
            "bundle": {
                "path": str(Path(cfg.bundle).resolve()),
                "name": bundle.name,
                "fingerprint": bundle.info.fingerprint,
                "classes": classes,
            },
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
                "caveat": "the generator was trained on the whole train split, not on the k shots",
            },
            "classifier": per_k,
            "runs": runs,
            "yolo": _yolo_section(),
            "device": describe(device),
            "seconds": round(time.perf_counter() - started, 1),
            "command": command,
        }
    )
    atomic_write_text(out / REPORT_JSON, json.dumps(report, indent=1))
    atomic_write_text(out / REPORT_MD, _markdown(report))
    _plot(out / PLOT, shots, per_k, bundle.name)
    log.info("downstream report written to %s (%.0f s)", out, report["seconds"])
    return out


def _markdown(report: dict[str, Any]) -> str:
    protocol = report["protocol"]
    lines = [
        f"# Does the synthetic data help? {report['bundle']['name']}",
        "",
        f"- Data: `{report['data']['root']}`, tested on {report['data']['test_boxes']} held-out real boxes "
        f"(split {report['data']['split']['val_fraction']}, seed {report['data']['split']['seed']})",
        f"- Protocol: k real boxes per class alone vs the same plus {protocol['synthetic_per_real']} synthetic "
        f"per real ({protocol['synthetic']}); {protocol['model']}, {protocol['classifier_steps']} steps; "
        f"{protocol['seeds']} seeds",
        f"- Caveat: {protocol['caveat']}",
        f"- Command: `{report['command']}`",
        "",
        "## Crop classifier accuracy (mean ± std over seeds)",
        "",
        "| k per class | real only | real + synthetic | gain |",
        "|---|---|---|---|",
    ]
    for k, row in report["classifier"].items():
        lines.append(
            f"| {k} | "
            + " | ".join(
                f"{row[arm]['mean']:.3f} ± {row[arm]['std']:.3f}" for arm in ("real_only", "with_synthetic", "gain")
            )
            + " |"
        )
    yolo = report["yolo"]
    lines += [
        "",
        "## YOLO detector (mAP50)",
        "",
        yolo.get("skipped", ""),
        "",
        f"Plot: `{PLOT}`. Took {report['seconds']} s on {report['device']}.",
        "",
    ]
    return "\n".join(lines)


def _plot(path: Path, shots: list[int], per_k: dict[str, Any], title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(5, 3.5), dpi=120)
    for arm, label in (("real_only", "real only"), ("with_synthetic", "real + synthetic")):
        means = [per_k[str(k)][arm]["mean"] for k in shots]
        stds = [per_k[str(k)][arm]["std"] for k in shots]
        axes.errorbar(shots, means, yerr=stds, marker="o", capsize=3, label=label)
    axes.set_xlabel("real boxes per class (k)")
    axes.set_ylabel("held-out accuracy")
    axes.set_xticks(shots)
    axes.set_title(f"Downstream crop classifier: {title}", fontsize=9)
    axes.legend()
    figure.tight_layout()
    tmp = path.with_name(f".{path.name}.tmp.png")
    figure.savefig(tmp)
    plt.close(figure)
    tmp.replace(path)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    status, out = run_bundle_command(PROG, __doc__, DownstreamConfig, run_downstream, argv, USER_ERRORS)
    if status:
        return status
    print(out / REPORT_MD)
    return 0


if __name__ == "__main__":
    sys.exit(main())
