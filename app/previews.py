"""How often the app shows a live preview while a run goes: the display-rate policy, in one place.

The core's step events carry no pixels; the app asks `pipeline.preview(event)` when this policy says a step is
worth showing. A preview costs a partial decode: on a GPU a few ms and every step can have one, on a CPU it can
cost more than the step itself, so previews get at most about a third of the run's time. Qt-free, and the clock
is a parameter, so the policy is tested without waiting.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

from core.request import InpaintResult, PipelineEvent, Preview

# Previews closer together than this look no livelier than 20 a second; fast GPUs would only waste decodes.
MIN_PREVIEW_GAP_S = 0.05
# However slow previews are, the inspector sees one at least this often.
MAX_PREVIEW_GAP_S = 2.0
# Share of the run's time that previews may take.
PREVIEW_SHARE = 1 / 3


class PreviewPacer:
    """Says which steps get a preview: the first one, every finished window (free and final), and otherwise
    one when enough time has passed since the last, given what a preview has been costing."""

    def __init__(
        self,
        clock: Callable[[], float] = time.perf_counter,
        min_gap_s: float = MIN_PREVIEW_GAP_S,
        max_gap_s: float = MAX_PREVIEW_GAP_S,
        share: float = PREVIEW_SHARE,
    ) -> None:
        self.clock = clock
        self.min_gap_s, self.max_gap_s, self.share = min_gap_s, max_gap_s, share
        self._last: float | None = None  # when the last preview was made
        self._cost = 0.0  # what the last decoded preview cost

    @property
    def gap_s(self) -> float:
        """Least time between two previews now: a preview costing c waits c·(1−share)/share after the last."""
        return min(self.max_gap_s, max(self.min_gap_s, self._cost * (1 - self.share) / self.share))

    def wants(self, event: PipelineEvent) -> bool:
        if event.result is not None:
            return False
        return self._last is None or event.window_done or self.clock() - self._last >= self.gap_s

    def made(self, started: float, decoded: bool) -> None:
        """A preview was made from `started` (clock time) until now; `decoded`: it cost a decode."""
        now = self.clock()
        if decoded:
            self._cost = now - started
        self._last = now


@dataclass(frozen=True)
class StepUpdate:
    """What the UI gets per step: the core's event and, when the pacer asked for one, its preview."""

    event: PipelineEvent
    preview: Preview | None = None


def steps_with_previews(
    pipeline: Any, request: Any, pacer: PreviewPacer | None
) -> Generator[StepUpdate, None, InpaintResult | None]:
    """The generation job: one StepUpdate per step of `pipeline.run(request)`, previews where `pacer` wants them
    (None: no previews); returns the run's InpaintResult."""
    result = None
    events = pipeline.run(request)
    try:
        for event in events:
            preview = None
            if pacer is not None and pacer.wants(event):
                started = pacer.clock()
                preview = pipeline.preview(event)
                pacer.made(started, decoded=not event.window_done)
            if event.result is not None:
                result = event.result
            yield StepUpdate(event, preview)
    finally:
        close = getattr(events, "close", None)
        if close is not None:
            close()  # stopping early: let the pipeline release its tensors now, not at garbage collection
    return result
