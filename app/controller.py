"""The app's background work: loading a model, generating, exporting, each on a worker thread.

A QObject without widgets: the main window calls it and listens to its signals; tests drive it directly.
Only one generation runs at a time; a cancelled run stays "busy" until its thread has really stopped, so late
step events of an old run can never land on a new one.
"""

from __future__ import annotations

import logging
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from app.models import LoadedModel, load_model
from app.previews import PreviewPacer, StepUpdate, steps_with_previews
from app.worker import Worker, WorkerThread
from core.export_formats import ExportOptions
from core.request import InpaintRequest, InpaintResult

log = logging.getLogger(__name__)


def is_user_error(exc: Exception) -> bool:
    """An error whose message already tells the user what is wrong (bad model, image, settings, folder): no
    traceback for it. Imported on use (on the worker thread), as core's heavy modules are loaded by then."""
    from core.bundle import BundleError
    from core.config import ConfigError
    from core.device import DeviceError
    from core.export import ExportError
    from core.imageio import ImageError
    from core.pipeline import PipelineError

    return isinstance(exc, BundleError | ConfigError | DeviceError | ExportError | ImageError | PipelineError)


@dataclass(frozen=True)
class ScoredRun:
    """A finished run and the measured scores of its variants (core.scoring.VariantScore), in variant order.
    `scores` is empty when they could not be measured; `has_critic`: class fidelity and realism were measurable
    (the bundle has a classifier), else only spill and seam."""

    result: InpaintResult
    scores: list[Any] = field(default_factory=list)
    has_critic: bool = False


def _generate(
    pipeline: Any, request: InpaintRequest, pacer: PreviewPacer | None
) -> Generator[StepUpdate, None, ScoredRun | None]:
    """The generation job: the run's steps (with previews), then every variant scored, still on the worker
    thread. A failed measurement costs the scores, never the variants."""
    result = yield from steps_with_previews(pipeline, request, pacer)
    if result is None:
        return None
    from core.scoring import score_variants

    bundle = getattr(pipeline, "bundle", None)
    critic = getattr(bundle, "critic", None)
    try:
        model_size = bundle.info.image_size if bundle is not None else 256
        scores = score_variants(result, critic, model_size)
    except Exception:  # the variants are worth more than their scores
        log.exception("scoring the variants failed; they are shown unscored")
        scores = []
    return ScoredRun(result, scores, critic is not None)


def _sources(records: list[dict[str, Any]]) -> frozenset[str]:
    """The source images a dataset's samples were made from, as resolved paths (what the file list marks)."""
    return frozenset(str(Path(r["source_path"]).resolve()) for r in records if r.get("source_path"))


def _export(
    root: Path,
    class_names: list[str],
    result: InpaintResult,
    variant: int,
    source: Any,
    extra: dict[str, Any] | None,
    options: ExportOptions | None,
) -> tuple[str, dict[str, int], str, frozenset[str]]:
    """Export one variant, then bring the folder's split lists, COCO file and data.yaml up to date. The sample is
    complete before the rebuild starts, so a rebuild that fails is a note (the next export or `defectforge
    dataset build` redoes it), not a failed export that would tempt the user to export the variant twice."""
    from core.export import DatasetExporter, ExportError

    exporter = DatasetExporter(root, class_names, options)
    sample_id = exporter.export(result, variant=variant, source=source, extra=extra)
    note = ""
    try:
        exporter.build()
    except ExportError as exc:
        log.warning("exported %s but could not rebuild the dataset files: %s", sample_id, exc)
        note = str(exc)
    return str(sample_id), dict(exporter.counts()), note, _sources(exporter.records())


def _counts(root: Path, class_names: list[str]) -> tuple[dict[str, int], frozenset[str]]:
    from core.export import DatasetExporter

    exporter = DatasetExporter(root, class_names)
    return dict(exporter.counts()), _sources(exporter.records())


class Controller(QObject):
    modelLoading = Signal(str)  # bundle folder
    modelLoaded = Signal(object)  # LoadedModel
    modelFailed = Signal(object)  # exception
    runStarted = Signal(object)  # InpaintRequest
    step = Signal(object)  # app.previews.StepUpdate: the PipelineEvent and its preview, if one was made
    runFinished = Signal(object)  # ScoredRun: the InpaintResult and its variants' scores
    runFailed = Signal(object)  # exception
    runCancelled = Signal()
    busyChanged = Signal(bool)  # a generation is running (or still stopping)
    exported = Signal(str, object)  # sample id, exported counts per class
    exportFailed = Signal(object)  # exception
    exportNote = Signal(str)  # exported, but the folder's split lists / COCO / data.yaml were not rebuilt: why
    countsChanged = Signal(object)  # exported counts per class
    exportedSourcesChanged = Signal(object)  # frozenset of the resolved paths of images the dataset holds samples of

    def __init__(self, pipeline_factory: Any = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pipeline_factory = pipeline_factory
        self.model: LoadedModel | None = None
        self.last_request: InpaintRequest | None = None
        self._jobs: set[WorkerThread] = set()
        self._exports: set[WorkerThread] = set()
        self._run: WorkerThread | None = None
        self._loading: WorkerThread | None = None
        self._pending_load: tuple[Path, str] | None = None

    # --- state ---------------------------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self._run is not None

    @property
    def loading(self) -> bool:
        return self._loading is not None

    @property
    def working(self) -> bool:
        """Some background job (run, load, export, count) has not ended yet."""
        return any(job.running for job in self._jobs)

    def _start(self, func: Any, *args: Any) -> tuple[Worker, WorkerThread]:
        """A worker for `func(*args)`, connected by the caller before `start()`; kept until its thread ends."""
        worker = Worker(func, *args, is_expected=is_user_error)
        job = WorkerThread(worker, self)
        self._jobs.add(job)
        job.thread.finished.connect(self._forget_jobs)
        return worker, job

    @Slot()
    def _forget_jobs(self) -> None:
        # Drop jobs whose thread has ended; QThread objects must outlive their running thread.
        for job in [j for j in self._jobs if not j.running]:
            self._jobs.discard(job)
            self._exports.discard(job)
            job.deleteLater()

    # --- model ---------------------------------------------------------------------------------------------
    def load_model(self, path: Path | str, device_setting: str) -> bool:
        """Load a bundle in the background. During a run the load waits for it to end; False if loading."""
        if self._loading is not None:
            return False
        if self._run is not None:
            self._pending_load = (Path(path), device_setting)
            return True
        worker, job = self._start(load_model, Path(path), device_setting, self.pipeline_factory)
        worker.returned.connect(self._on_model_loaded)
        worker.errored.connect(self._on_model_failed)
        worker.done.connect(self._on_load_done)
        self.modelLoading.emit(str(path))
        self._loading = job.start()
        return True

    @Slot(object)
    def _on_model_loaded(self, model: LoadedModel) -> None:
        self._loading = None  # listeners re-check what they allow; the thread ends right after
        self.model = model
        self.modelLoaded.emit(model)

    @Slot(object)
    def _on_model_failed(self, exc: Exception) -> None:
        self._loading = None
        self.modelFailed.emit(exc)

    @Slot()
    def _on_load_done(self) -> None:
        self._loading = None

    # --- generation ----------------------------------------------------------------------------------------
    def generate(self, request: InpaintRequest, live_preview: bool = True, pacer: PreviewPacer | None = None) -> None:
        """Validate on this thread (cheap, raises core.pipeline.PipelineError), then run on a worker; previews
        as `pacer` (default: the app's PreviewPacer) wants them, none without `live_preview`."""
        if self.model is None:
            raise RuntimeError("no model loaded")
        if self._run is not None:
            raise RuntimeError("a generation is already running")
        self.model.pipeline.validate(request)
        pacer = (pacer or PreviewPacer()) if live_preview else None
        worker, job = self._start(_generate, self.model.pipeline, request, pacer)
        worker.yielded.connect(self._on_step)
        worker.returned.connect(self._on_run_returned)
        worker.errored.connect(self._on_run_failed)
        worker.aborted.connect(self._on_run_aborted)
        worker.done.connect(self._on_run_done)
        self.last_request = request
        self._run = job.start()
        self.busyChanged.emit(True)
        self.runStarted.emit(request)

    def cancel(self) -> None:
        """Stop the run after its current step."""
        if self._run is not None:
            self._run.cancel()

    @Slot(object)
    def _on_step(self, update: StepUpdate) -> None:
        if self._run is not None and self._run.worker.stopping:
            return  # cancelled: a preview arriving now would only flash
        self.step.emit(update)

    @Slot(object)
    def _on_run_returned(self, run: ScoredRun | None) -> None:
        if run is None:
            self.runFailed.emit(RuntimeError("the pipeline ended without a result"))
        else:
            self.runFinished.emit(run)

    @Slot(object)
    def _on_run_failed(self, exc: Exception) -> None:
        self.runFailed.emit(exc)

    @Slot()
    def _on_run_aborted(self) -> None:
        self.runCancelled.emit()

    @Slot()
    def _on_run_done(self) -> None:
        self._run = None
        self.busyChanged.emit(False)
        if self._pending_load is not None:
            pending, self._pending_load = self._pending_load, None
            self.load_model(*pending)

    # --- export --------------------------------------------------------------------------------------------
    def export(
        self,
        root: Path,
        result: InpaintResult,
        variant: int,
        source: Any,
        extra: dict[str, Any] | None = None,
        options: ExportOptions | None = None,
    ) -> None:
        """Write one variant to the dataset folder in the background (`extra` goes into its manifest line, `options`
        says which label files it gets); ends in exported (and exportNote if the folder's files were not rebuilt)
        or exportFailed."""
        class_names = self.model.info.class_names if self.model else []
        worker, job = self._start(_export, Path(root), list(class_names), result, variant, source, extra, options)
        worker.returned.connect(self._on_exported)
        worker.errored.connect(self._on_export_failed)
        self._exports.add(job.start())

    @Slot(object)
    def _on_exported(self, value: tuple[str, dict[str, int], str, frozenset[str]]) -> None:
        sample_id, counts, note, sources = value
        self.exported.emit(sample_id, counts)
        self.countsChanged.emit(counts)
        self.exportedSourcesChanged.emit(sources)
        if note:
            self.exportNote.emit(note)

    @Slot(object)
    def _on_export_failed(self, exc: Exception) -> None:
        self.exportFailed.emit(exc)

    def refresh_counts(self, root: Path | None) -> None:
        """Read the dataset folder's per-class counts and exported sources in the background (a large dataset takes
        a moment)."""
        if root is None or self.model is None:
            self.countsChanged.emit({})
            self.exportedSourcesChanged.emit(frozenset())
            return
        worker, job = self._start(_counts, Path(root), list(self.model.info.class_names))
        worker.returned.connect(self._on_counts)
        job.start()

    @Slot(object)
    def _on_counts(self, value: tuple[dict[str, int], frozenset[str]]) -> None:
        counts, sources = value
        self.countsChanged.emit(counts)
        self.exportedSourcesChanged.emit(sources)

    # --- shutdown ------------------------------------------------------------------------------------------
    def shutdown(self, timeout_ms: int = 30000) -> bool:
        """Cancel the run and wait for every thread, at most `timeout_ms` each; exports always finish (they are
        short and atomic, and the user asked for them). False if some thread is still running."""
        self.cancel()
        ok = True
        for job in list(self._jobs):
            ok = job.wait(max(timeout_ms, 30000) if job in self._exports else timeout_ms) and ok
        return ok
