"""A stand-in for core.pipeline.InpaintPipeline (same contract) whose steps the test lets through one by one, to
check Cancel and closing mid-run by what happened, not by how long it took."""

from __future__ import annotations

import threading

import numpy as np

from core.request import Box, InpaintRequest, InpaintResult, PipelineEvent, Preview, VariantResult


class GatedPipeline:
    """Yields `steps` events, each step waiting until the test calls `allow(n)`. `steps_started` / `steps_done`
    say where the run is; `closed` is set once the run has been closed (stopped early or finished)."""

    def __init__(self, bundle, steps: int = 40) -> None:
        self.bundle = bundle
        self.steps = steps
        self._gate = threading.Semaphore(0)
        self.steps_started = 0
        self.steps_done = 0
        self.previews = 0
        self.closed = threading.Event()

    def allow(self, steps: int = 1) -> None:
        """Let `steps` more steps run (thread-safe)."""
        self._gate.release(steps)

    def validate(self, request: InpaintRequest) -> None:
        if not request.layers:
            raise ValueError("nothing to inpaint")

    def preview(self, event: PipelineEvent) -> Preview | None:
        if event.result is not None:
            return None
        self.previews += 1
        return event.make_preview()

    def run(self, request: InpaintRequest):
        mask = np.zeros(request.image.shape[:2], bool)
        for layer in request.layers:
            mask |= layer.mask
        rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
        box = (int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)
        try:
            for step in range(1, self.steps + 1):
                self.steps_started = step
                self._gate.acquire()
                self.steps_done = step
                shade = step * 5 % 255

                def make(shade: int = shade) -> Preview:
                    return Preview(np.full((box[3] - box[1], box[2] - box[0], 3), shade, np.uint8), box)

                yield PipelineEvent(0, len(request.layers), step, self.steps, make_preview=make)
            variants = [
                VariantResult(
                    seed,
                    request.image.copy(),
                    {layer.defect_class: layer.mask for layer in request.layers},
                    [Box(request.layers[0].defect_class, *box)],
                )
                for seed in request.seeds
            ]
            result = InpaintResult(request, variants, self.bundle.name, self.bundle.info.fingerprint, 0.0)
            yield PipelineEvent(0, len(request.layers), self.steps, self.steps, result=result)
        finally:
            self.closed.set()
