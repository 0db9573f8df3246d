"""The app's preview policy: which steps get a live preview, told by events and a fake clock, not by waiting."""

from __future__ import annotations

from app.previews import MAX_PREVIEW_GAP_S, MIN_PREVIEW_GAP_S, PreviewPacer, steps_with_previews
from core.request import PipelineEvent, Preview


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class TimedPipeline:
    """Steps cost `step_s` of the fake clock, a decoded preview `preview_s`; `done_at` steps finish a window."""

    def __init__(
        self, clock: Clock, step_s: float, preview_s: float, steps: int = 30, done_at: tuple[int, ...] = ()
    ) -> None:
        self.clock, self.step_s, self.preview_s, self.steps, self.done_at = clock, step_s, preview_s, steps, done_at
        self.previewed: list[int] = []
        self.closed = False

    def run(self, request):
        try:
            for step in range(1, self.steps + 1):
                self.clock.now += self.step_s
                yield PipelineEvent(
                    0,
                    1,
                    step,
                    self.steps,
                    window_done=step in self.done_at,
                    make_preview=lambda: Preview(None, (0, 0, 1, 1)),
                )
        finally:
            self.closed = True

    def preview(self, event: PipelineEvent) -> Preview:
        if not event.window_done:
            self.clock.now += self.preview_s
        self.previewed.append(event.step)
        return event.make_preview()


def _run(pipeline: TimedPipeline, pacer: PreviewPacer | None) -> list:
    return list(steps_with_previews(pipeline, None, pacer))


def test_slow_previews_take_about_a_third_of_the_run():
    clock = Clock()
    slow = TimedPipeline(clock, step_s=0.004, preview_s=0.08, steps=200)  # a preview costs 20 steps
    updates = _run(slow, PreviewPacer(clock))
    preview_time = len(slow.previewed) * slow.preview_s
    assert slow.previewed[0] == 1  # the first step always shows something
    assert 3 <= len(slow.previewed) < 20
    assert preview_time <= clock.now / 3 + slow.preview_s
    assert [u.preview is not None for u in updates] == [u.event.step in slow.previewed for u in updates]


def test_free_previews_come_as_often_as_the_display_wants_them():
    clock = Clock()
    assert 1 / 32 < MIN_PREVIEW_GAP_S < 1 / 16  # (steps of 1/16 s and 1/64 s: exact in binary)
    fast = TimedPipeline(clock, step_s=1 / 16, preview_s=0.0)
    _run(fast, PreviewPacer(clock))
    assert fast.previewed == list(range(1, 31))  # steps slower than the display: every step
    clock = Clock()
    faster = TimedPipeline(clock, step_s=1 / 64, preview_s=0.0, steps=40)
    _run(faster, PreviewPacer(clock))
    assert faster.previewed == list(range(1, 41, 4))  # four steps per display gap: every fourth


def test_a_finished_window_is_always_shown_and_very_slow_previews_still_come_every_two_seconds():
    clock = Clock()
    pipeline = TimedPipeline(clock, step_s=0.5, preview_s=10.0, steps=20, done_at=(3,))
    _run(pipeline, PreviewPacer(clock))
    assert 3 in pipeline.previewed  # free and final, whatever the pacing
    steps_between = [b - a for a, b in zip(pipeline.previewed, pipeline.previewed[1:], strict=False)]
    assert max(steps_between) * pipeline.step_s <= MAX_PREVIEW_GAP_S + pipeline.step_s


def test_live_preview_off_asks_for_no_previews_and_the_run_is_closed_when_stopped():
    clock = Clock()
    pipeline = TimedPipeline(clock, step_s=0.1, preview_s=0.1)
    assert all(u.preview is None for u in _run(pipeline, None)) and pipeline.previewed == []
    stopped = TimedPipeline(clock, step_s=0.1, preview_s=0.1)
    updates = steps_with_previews(stopped, None, PreviewPacer(clock))
    next(updates)
    updates.close()  # the user pressed Cancel
    assert stopped.closed
