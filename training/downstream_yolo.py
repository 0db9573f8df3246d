"""The YOLO arm of `defectforge eval downstream`: the same few-shot draws, a detector instead of a crop classifier.

Per seed and k, two YOLO folders are written with the exporter's own YOLO box lines and data.yaml
(core.export_formats), so the detector reads exactly what a DefectForge export gives a trainer:

  real            the images of the k real shots per class, every box of each image labelled, repeated to as many
                  images as the other arm holds: both arms train for the same number of optimiser steps
  real+copy-paste the same images once plus the copy-paste images (training.copy_paste), as many as synthetic
  real+synthetic  the same images once plus each shot's synthetic variants; a variant keeps its source's boxes
                  (the inpainted box lies inside the real box it replaced, and the other boxes are untouched)

Both are validated on the same held-out real images (all their boxes), mAP50 from Ultralytics' own validator,
each training in a child process (training.yolo_job) so that Ultralytics' global patches stay out of ours.
Training starts from the architecture file (`yolov8n.yaml`: random weights, no download) unless --yolo-model
names weights; from scratch, a detector on a few dozen images needs many epochs before its mAP leaves zero,
which the report states beside the figures. Everything Ultralytics writes (settings, caches, weights) stays in
a temporary folder inside the report folder and is removed afterwards.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from core.export_formats import ultralytics_yaml, yolo_box_lines
from core.request import Box
from training.jobs import JobError

log = logging.getLogger(__name__)
MISSING = "ultralytics is not installed (scripts/setup.sh --dev installs it; see the yolo extra in pyproject.toml)"
ROOT = Path(__file__).resolve().parents[1]  # the folder holding training/, for the child process


class YoloError(JobError):
    """The YOLO child process failed; the message ends with its last line of output (one line, as a job error)."""


@dataclass(frozen=True)
class LabelledImage:
    """One training or test image for the detector, at model resolution, with its boxes in its own pixels."""

    name: str
    image: np.ndarray  # (H, W, 3) uint8
    boxes: tuple[Box, ...]


@dataclass(frozen=True)
class YoloSettings:
    epochs: int
    model: str
    imgsz: int
    batch: int


def unavailable() -> str | None:
    """Why the YOLO arm cannot run here, or None when it can."""
    return MISSING if importlib.util.find_spec("ultralytics") is None else None


def write_folder(root: Path, images: Sequence[LabelledImage], class_names: list[str]) -> Path:
    """images/<name>.png and labels/<name>.txt (YOLO boxes): the layout Ultralytics pairs by path."""
    (root / "images").mkdir(parents=True)
    (root / "labels").mkdir()
    for item in images:
        height, width = item.image.shape[:2]
        Image.fromarray(item.image).save(root / "images" / f"{item.name}.png")
        known = [b for b in item.boxes if b.defect_class in class_names]
        (root / "labels" / f"{item.name}.txt").write_bytes(yolo_box_lines(known, class_names, width, height))
    return root / "images"


def _device_arg(device: Any) -> str:
    """Ultralytics' spelling of a torch device: 'cpu', 'mps' or a CUDA index."""
    kind = getattr(device, "type", str(device))
    if kind == "cuda":
        index = getattr(device, "index", None)
        return str(index or 0)
    return kind


def train_and_map50(data_yaml: Path, settings: YoloSettings, seed: int, device: Any, work: Path) -> float:
    """mAP50 on the yaml's val images of a detector trained on its train images for settings.epochs epochs.

    Runs in a child process (training.yolo_job): importing ultralytics patches PIL.Image.open, cv2.imread,
    torch.load and torch.save for the whole process, and on an unreadable image tries to pip-install a plugin
    into the user's environment. None of that may reach DefectForge's own image loading, so ultralytics is
    never imported here; the child gets its settings folder inside `work` and auto-install turned off."""
    result = work / "result.json"
    job = {
        "data": str(data_yaml),
        "epochs": settings.epochs,
        "model": settings.model,
        "imgsz": settings.imgsz,
        "batch": settings.batch,
        "device": _device_arg(device),
        "seed": seed,
        "threads": torch.get_num_threads(),
        "project": str(work / "runs"),
        "result": str(result),
    }
    env = {
        **os.environ,
        "YOLO_CONFIG_DIR": str(work / "ultralytics"),
        "YOLO_VERBOSE": "False",
        "YOLO_AUTOINSTALL": "False",
        "YOLO_OFFLINE": "True",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    done = subprocess.run(
        [sys.executable, "-m", "training.yolo_job", json.dumps(job)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0 or not result.is_file():
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise YoloError(f"YOLO training on {data_yaml.parent.name} failed: {tail[0]}")
    return float(json.loads(result.read_text())["map50"])


def same_length(images: Sequence[LabelledImage], count: int) -> list[LabelledImage]:
    """`images` repeated (each copy under its own name) to `count` entries, so that both arms train for the same
    number of batches per epoch. With equal epochs the arm with the synthetic images would otherwise get
    (1 + synthetic per real) times the optimiser steps, and an undertrained detector gains from steps alone."""
    return [
        LabelledImage(f"{item.name}-r{index // len(images)}", item.image, item.boxes)
        for index, item in ((i, images[i % len(images)]) for i in range(count))
    ]


def run_yolo_arm(
    draws: Sequence[tuple[int, int, list[LabelledImage], list[LabelledImage], list[LabelledImage]]],
    test: list[LabelledImage],
    class_names: list[str],
    settings: YoloSettings,
    device: Any,
    out: Path,
) -> list[dict[str, Any]]:
    """One row per (seed, k) draw: mAP50 of the detector trained on the real images alone, with the copy-paste ones
    added and with the synthetic ones added. `draws` holds (seed, k, real, synthetic, copy-paste images)."""
    rows = []
    with tempfile.TemporaryDirectory(prefix=".yolo-", dir=out) as tmp:
        work = Path(tmp).resolve()  # Ultralytics reads relative paths in data.yaml from the yaml folder
        val_images = write_folder(work / "test", test, class_names)
        for seed, k, real, synthetic, pasted in draws:
            row: dict[str, Any] = {
                "seed": seed,
                "k": k,
                "real_images": len(real),
                "synthetic_images": len(synthetic),
                "copy_paste_images": len(pasted),
            }
            mixed = [*real, *synthetic]
            arms = (
                ("real_only", same_length(real, len(mixed))),
                ("with_copy_paste", [*real, *pasted]),
                ("with_synthetic", mixed),
            )
            for arm, images in arms:
                folder = work / f"s{seed}-k{k}-{arm}"
                train_images = write_folder(folder / "data", images, class_names)
                data_yaml = folder / "data.yaml"
                data_yaml.write_bytes(ultralytics_yaml(class_names, str(train_images), str(val_images)))
                started = time.perf_counter()
                row[arm] = train_and_map50(data_yaml, settings, seed, device, folder)
                log.info(
                    "YOLO seed %d, k %d, %s: mAP50 %.3f (%d images, %.0f s)",
                    seed,
                    k,
                    arm,
                    row[arm],
                    len(images),
                    time.perf_counter() - started,
                )
                shutil.rmtree(folder, ignore_errors=True)  # weights and caches of a finished arm
            rows.append(row)
    return rows
