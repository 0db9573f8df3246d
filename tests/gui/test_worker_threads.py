"""The native crash the suite once died of (issue 20, item 11): a QThread destroyed while its thread still runs
aborts the process. It happens when a window closes while a step or a model load outlasts the close wait (a
loaded machine) and the controller that owns the job is deleted. Run in a child process: the failure is an
abort, which would take the test process down with it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import gc, sys, threading
    from PySide6.QtCore import QCoreApplication, QEvent, QObject
    app = QCoreApplication(sys.argv)
    from app.worker import Worker, WorkerThread

    release, started = threading.Event(), threading.Event()

    def slow_step():
        started.set()
        release.wait(30)
        return 1

    owner = QObject()  # the controller
    job = WorkerThread(Worker(slow_step), owner).start()
    assert started.wait(30)
    del job
    owner.deleteLater()  # the window (and its controller) deleted while the step runs
    del owner
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
    gc.collect()
    release.set()
    print("survived", flush=True)
    """
)


def test_a_job_still_running_when_its_owner_is_deleted_does_not_abort_the_process():
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    child = subprocess.run(
        [sys.executable, "-X", "faulthandler", "-c", SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == 0, child.stderr[-2000:]
    assert "survived" in child.stdout
    assert "Destroyed while thread" not in child.stderr
