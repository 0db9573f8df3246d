"""Running work off the UI thread: a generator driven step by step in a QThread, with typed signals and a
cooperative stop (in the spirit of superqt's GeneratorWorker). Inference never runs on the UI thread.
"""

from __future__ import annotations

import inspect
import logging
import statistics
import threading
import time
import traceback
from collections.abc import Callable, Generator
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

log = logging.getLogger(__name__)

MAX_PREVIEW_GAP_S = 2.0  # however slow previews are, the inspector sees one at least this often


def _user_errors() -> tuple[type[Exception], ...]:
    """Errors whose message already tells the user what is wrong (bad model, image, settings, folder): no
    traceback for them. Imported on use, as core's heavy modules are loaded by then."""
    from core.bundle import BundleError
    from core.config import ConfigError
    from core.device import DeviceError
    from core.export import ExportError
    from core.imageio import ImageError
    from core.pipeline import PipelineError

    return BundleError, ConfigError, DeviceError, ExportError, ImageError, PipelineError


class GeneratorWorker(QObject):
    """Calls `func(*args)`; if that gives a generator, iterates it, emitting each item (throttled).

    Signals, each emitted from the worker thread and delivered queued to the receiver's thread:
    yielded(item), returned(value of the function / the generator's return), errored(exception),
    aborted() after quit(), and done() always last.
    """

    yielded = Signal(object)
    returned = Signal(object)
    errored = Signal(object)
    aborted = Signal()
    done = Signal()

    def __init__(self, func: Callable[..., Any], *args: Any, min_interval_s: float = 0.0,
                 always_emit: Callable[[Any], bool] | None = None) -> None:
        super().__init__()
        self._func = func
        self._args = args
        self._stop = threading.Event()
        # Items closer together than this are coalesced (the newest wins) so previews cannot flood the UI.
        self.min_interval_s = min_interval_s
        self._always_emit = always_emit or (lambda item: False)

    def quit(self) -> None:
        """Ask to stop before the next step (thread-safe); the running step finishes first."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    @Slot()
    def run(self) -> None:
        try:
            value = self._func(*self._args)
            if inspect.isgenerator(value):
                value = self._drive(value)
            if self._stop.is_set():
                self.aborted.emit()
            else:
                self.returned.emit(value)
        except Exception as exc:  # every failure goes to the UI as a message, none kills the thread silently
            if isinstance(exc, _user_errors()):  # a refusal with its reason (a pickle model...): one line, as the CLI
                log.warning("%s", str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
            else:
                log.error("background job failed:\n%s", traceback.format_exc())
            self.errored.emit(exc)
        finally:
            self.done.emit()

    def _drive(self, generator: Generator[Any, None, Any]) -> Any:
        last_emit = 0.0
        pending: Any = None
        has_pending = False
        try:
            while not self._stop.is_set():
                try:
                    item = next(generator)
                except StopIteration as stop:
                    return stop.value
                now = time.monotonic()
                if now - last_emit >= self.min_interval_s or self._always_emit(item):
                    self.yielded.emit(item)
                    last_emit, has_pending = now, False
                else:
                    pending, has_pending = item, True
                if has_pending and self._stop.is_set():
                    break
            return None
        finally:
            generator.close()  # runs the generator's own cleanup (frees tensors) right away
            if has_pending and not self._stop.is_set():
                self.yielded.emit(pending)


class Job(QObject):
    """One GeneratorWorker on its own QThread. Keep a reference until `done`; call cancel() to stop early."""

    def __init__(self, worker: GeneratorWorker, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worker = worker
        self.thread = QThread()
        self.thread.setObjectName("defectforge-worker")
        worker.moveToThread(self.thread)
        self.thread.started.connect(worker.run)
        # Direct: QThread.quit is thread-safe, and a UI thread blocked in wait() (closing) could not deliver it.
        worker.done.connect(self.thread.quit, Qt.ConnectionType.DirectConnection)

    def start(self) -> Job:
        self.thread.start()
        return self

    def cancel(self) -> None:
        self.worker.quit()

    @property
    def running(self) -> bool:
        return self.thread.isRunning()

    def wait(self, ms: int) -> bool:
        """Block until the thread ends (at most `ms`); True if it ended."""
        if not self.thread.isRunning():
            return True
        return bool(self.thread.wait(ms))


def run_pipeline(pipeline: Any, request: Any, preview_share: float = 1 / 3) -> Generator[Any, None, Any]:
    """The generation job: step events from InpaintPipeline.run; returns the InpaintResult from the last event.

    Live previews cost a partial decode each. On a GPU that is a few ms and every step can have one; on a CPU it
    can cost more than the step itself. So the preview interval is tuned as the run goes: previews take at most
    about `preview_share` of the time (never more often than the pipeline's own interval)."""
    result = None
    floor = getattr(pipeline, "preview_interval_s", None)
    adapt = floor is not None
    with_preview: list[float] = []
    without_preview: list[float] = []
    steps = pipeline.run(request)
    last = time.perf_counter()
    try:
        for index, event in enumerate(steps):
            now = time.perf_counter()
            if index > 0:  # the first step also pays for encoding the window: not a fair sample
                (with_preview if event.preview is not None else without_preview).append(now - last)
            if adapt and with_preview and without_preview:
                cost = max(0.0, statistics.median(with_preview[-5:]) - statistics.median(without_preview[-5:]))
                interval = cost * (1 - preview_share) / preview_share
                pipeline.preview_interval_s = min(MAX_PREVIEW_GAP_S, max(floor, interval))
            elif adapt and with_preview:
                # Only steps with a preview seen so far: skip one to learn what a step costs without it.
                pipeline.preview_interval_s = min(MAX_PREVIEW_GAP_S, max(floor, with_preview[-1] * 1.5))
            if event.result is not None:
                result = event.result
            yield event
            last = time.perf_counter()
    finally:
        close = getattr(steps, "close", None)
        if close is not None:
            close()  # stopping early: let the pipeline release its tensors now, not at garbage collection
    return result
