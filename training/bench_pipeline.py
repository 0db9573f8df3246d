"""`defectforge bench pipeline`: end-to-end inpaint speed through core.pipeline, as JSON lines.

Two scenarios: a NEU-size 200x200 image with a 15 % mask (one window; at the default model's 200 px, native)
and a GC10-size 2048x1000 image with a small mask (a native-resolution window). Each reports end-to-end
seconds, the time to the first preview and peak RSS. Uses --model, else the bundled default; without either, a
bundle of the default model's presets ('vq8-cpu', 'cpu-small', 200 px) with random weights (the JSON says
"weights": "random": speed only, no meaningful pixels).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import torch

from core.bundle import BundleInfo, ModelBundle, load_bundle
from core.config import SamplerConfig, transformer_preset, vq_preset
from core.device import choose_device, describe
from core.names import NEU_CLASSES
from core.pipeline import InpaintPipeline
from core.request import InpaintRequest, MaskLayer
from core.resources import default_model_path
from core.transformer import MaskTransformer
from core.vq import VQModel

# Goals from the pipeline issue, for this machine's kind with the default model.
GOAL_FIRST_PREVIEW_S = 0.5
GOAL_NEU_TOTAL_S = 1.0  # one 200x200 inpaint, median, on this 2-core CPU (issue 9)


def bench_bundle(model: str | Path | None, device: torch.device) -> tuple[ModelBundle, str]:
    """The bundle to measure and where its weights came from: 'bundle' (a file) or 'random'."""
    path = Path(model) if model else default_model_path()
    if model or path.exists():
        return load_bundle(path, device), "bundle"
    torch.manual_seed(0)
    vq = VQModel(vq_preset("vq8-cpu")).eval()
    image_size = 200
    transformer = MaskTransformer(
        transformer_preset("cpu-small", num_classes=len(NEU_CLASSES), input_size=image_size // vq.downsample)
    ).eval()
    info = BundleInfo(
        path=Path("<random weights>"),
        name="random-vq8-cpu-cpu-small",
        class_names=list(NEU_CLASSES),
        image_size=image_size,
        vq=vq.config,
        transformer=transformer.config,
        sampler=SamplerConfig(),
    )
    return ModelBundle(info, vq, transformer).to(device), "random"


def _surface(height: int, width: int) -> np.ndarray:
    """Rolled-steel-like texture: row streaks, grain and noise (speed does not depend on it, realism is cheap)."""
    rng = np.random.default_rng(0)
    streaks = rng.normal(0, 18, (height, 1))
    grain = cv2.GaussianBlur(rng.normal(0, 20, (height, width)), (0, 0), sigmaX=6, sigmaY=1)
    gray = np.clip(125 + streaks + grain + rng.normal(0, 5, (height, width)), 0, 255).astype(np.uint8)
    return np.repeat(gray[:, :, None], 3, axis=2)


def _ellipse_mask(height: int, width: int, center: tuple[int, int], axes: tuple[int, int]) -> np.ndarray:
    canvas = np.zeros((height, width), np.uint8)
    cv2.ellipse(canvas, center, axes, 20, 0, 360, 1, -1)
    return canvas.astype(bool)


def _scenarios() -> list[tuple[str, np.ndarray, np.ndarray]]:
    neu_mask = _ellipse_mask(200, 200, (100, 100), (55, 35))  # 15 % of 200x200
    gc10_mask = _ellipse_mask(1000, 2048, (1300, 420), (40, 9))  # a small inclusion on a big plate
    return [
        ("pipeline.neu_200x200_mask15pct", _surface(200, 200), neu_mask),
        ("pipeline.gc10_2048x1000_small_mask", _surface(1000, 2048), gc10_mask),
    ]


def bench_pipeline(
    args: argparse.Namespace, emit: Callable[[dict], None], timed: Callable[..., dict[str, float]]
) -> None:
    device = choose_device(args.device)
    bundle, weights = bench_bundle(args.model, device)
    pipeline = InpaintPipeline(bundle)
    defect_class = "inclusion" if "inclusion" in bundle.class_names else bundle.class_names[0]
    for scenario, image, mask in _scenarios():
        request = InpaintRequest(image, [MaskLayer(mask, defect_class)], seed=0, sampler=bundle.info.sampler)
        first_previews: list[float] = []
        cpu_seconds: list[float] = []

        def run(
            request: InpaintRequest = request,
            first_previews: list[float] = first_previews,
            cpu_seconds: list[float] = cpu_seconds,
        ) -> None:
            start, cpu_start = time.perf_counter(), time.process_time()
            first = None
            for event in pipeline.run(request):
                if first is None and pipeline.preview(event) is not None:  # the app shows the first step
                    first = time.perf_counter() - start
            first_previews.append(first if first is not None else time.perf_counter() - start)
            cpu_seconds.append(time.process_time() - cpu_start)

        timing = timed(run, args.repeats)
        measured = first_previews[-args.repeats :]  # the warm-up run is not counted
        record = {
            "scenario": scenario,
            "device": describe(device),
            "bundle": bundle.name,
            "weights": weights,
            "image": [int(image.shape[1]), int(image.shape[0])],
            "mask_share": round(float(mask.mean()), 4),
            "class": defect_class,
            "steps_run": pipeline.total_steps(request),
            **timing,
            "first_preview_s": round(statistics.median(measured), 4),
            "goal_first_preview_s": GOAL_FIRST_PREVIEW_S,
            # CPU seconds of this process (all threads): unlike wall time, not inflated by others on the machine.
            "process_cpu_s": round(statistics.median(cpu_seconds[-args.repeats :]), 4),
            "threads": torch.get_num_threads(),
        }
        if scenario.startswith("pipeline.neu"):
            record["goal_total_s"] = GOAL_NEU_TOTAL_S
        emit(record)
