"""A slow stand-in for core.pipeline.InpaintPipeline (same contract) to time Cancel and closing mid-run."""

from __future__ import annotations

import threading
import time

import numpy as np

from core.request import Box, InpaintRequest, InpaintResult, PipelineEvent, VariantResult


class SlowPipeline:
    """Yields `steps` events, sleeping `step_s` in each (like a real sampler step on a slow CPU)."""

    def __init__(self, bundle, steps: int = 40, step_s: float = 0.15) -> None:
        self.bundle = bundle
        self.steps = steps
        self.step_s = step_s
        self.steps_done = 0
        self.closed = threading.Event()
        self.stopped_at: float | None = None

    def validate(self, request: InpaintRequest) -> None:
        if not request.layers:
            raise ValueError("nothing to inpaint")

    def run(self, request: InpaintRequest):
        mask = np.zeros(request.image.shape[:2], bool)
        for layer in request.layers:
            mask |= layer.mask
        rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
        box = (int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)
        try:
            for step in range(1, self.steps + 1):
                time.sleep(self.step_s)
                self.steps_done = step
                preview = np.full((box[3] - box[1], box[2] - box[0], 3), step * 5 % 255, np.uint8)
                yield PipelineEvent(0, len(request.layers), step, self.steps, preview, box)
            variants = [VariantResult(seed, request.image.copy(), {layer.defect_class: layer.mask
                                                                   for layer in request.layers},
                                      [Box(request.layers[0].defect_class, *box)]) for seed in request.seeds]
            result = InpaintResult(request, variants, self.bundle.name, self.bundle.info.fingerprint, 0.0)
            yield PipelineEvent(0, len(request.layers), self.steps, self.steps, None, None, result)
        finally:
            self.stopped_at = time.perf_counter()
            self.closed.set()
