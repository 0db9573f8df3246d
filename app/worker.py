"""Running work off the UI thread: a function on a QThread, with typed signals and a cooperative stop (in the
spirit of superqt's GeneratorWorker). A function that returns a generator is driven item by item, so a stop
takes effect between items. Knows nothing of what it runs: inference never runs on the UI thread.
"""

from __future__ import annotations

import inspect
import logging
import threading
import traceback
from collections.abc import Callable, Generator
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

log = logging.getLogger(__name__)


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
