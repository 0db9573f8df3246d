"""Running work off the UI thread: a function on a QThread, with typed signals and a cooperative stop (in the
spirit of superqt's GeneratorWorker). A function that returns a generator is driven item by item, so a stop
takes effect between items. Knows nothing of what it runs: inference never runs on the UI thread.
"""

from __future__ import annotations

import atexit
import inspect
import logging
import threading
import traceback
from collections.abc import Callable, Generator
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

log = logging.getLogger(__name__)

# Every QThread whose thread may still run. A QThread destroyed while its thread runs aborts the whole process
# ("QThread: Destroyed while thread is still running", then "Fatal Python error: Aborted"): that happens when a
# window closes while a step or a model load outlasts CLOSE_WAIT_MS (likely on a loaded machine) and its
# controller, the WorkerThread's parent, is deleted. So the QThread is kept here, not only by its owner, until its
# thread has finished; finished ones are let go on the next start.
_live_threads: set[QThread] = set()
EXIT_WAIT_MS = 60_000


def _keep_until_finished(thread: QThread) -> None:
    for old in [t for t in _live_threads if t.isFinished()]:
        _live_threads.discard(old)
    _live_threads.add(thread)


@atexit.register
def _wait_for_live_threads() -> None:
    """At exit, give a thread still running its step time to end rather than destroying it mid-run."""
    for thread in list(_live_threads):
        if thread.isRunning() and not thread.wait(EXIT_WAIT_MS):
            log.warning("a background job did not end within %d s of exit", EXIT_WAIT_MS // 1000)


class Worker(QObject):
    """Calls `func(*args)`; if that gives a generator, iterates it, emitting each item.

    Signals, each emitted from the worker thread and delivered queued to the receiver's thread:
    yielded(item), returned(value of the function / the generator's return), errored(exception),
    aborted() after quit(), and done() always last. An error that `is_expected` accepts already tells the user
    what is wrong (a refused model, a bad image): it is logged as one line, others with their traceback.
    """

    yielded = Signal(object)
    returned = Signal(object)
    errored = Signal(object)
    aborted = Signal()
    done = Signal()

    def __init__(
        self, func: Callable[..., Any], *args: Any, is_expected: Callable[[Exception], bool] = lambda exc: False
    ) -> None:
        super().__init__()
        self._func = func
        self._args = args
        self._is_expected = is_expected
        self._stop = threading.Event()

    def quit(self) -> None:
        """Ask to stop before the next item (thread-safe); the running item finishes first."""
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
            if self._is_expected(exc):
                log.warning("%s", str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
            else:
                log.error("background job failed:\n%s", traceback.format_exc())
            self.errored.emit(exc)
        finally:
            self.done.emit()

    def _drive(self, generator: Generator[Any, None, Any]) -> Any:
        try:
            while not self._stop.is_set():
                try:
                    item = next(generator)
                except StopIteration as stop:
                    return stop.value
                self.yielded.emit(item)
            return None
        finally:
            generator.close()  # runs the generator's own cleanup (frees tensors) right away


class WorkerThread(QObject):
    """One Worker on its own QThread. Keep a reference until `done`; call cancel() to stop early."""

    def __init__(self, worker: Worker, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worker = worker
        self.thread = QThread()
        self.thread.setObjectName("defectforge-worker")
        worker.moveToThread(self.thread)
        self.thread.started.connect(worker.run)
        # Direct: QThread.quit is thread-safe, and a UI thread blocked in wait() (closing) could not deliver it.
        worker.done.connect(self.thread.quit, Qt.ConnectionType.DirectConnection)

    def start(self) -> WorkerThread:
        _keep_until_finished(self.thread)
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
