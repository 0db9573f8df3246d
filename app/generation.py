"""Generate → live steps → variants → accept → export: the part of the window between the controller and the
canvas, sampler panel and gallery. Holds the run's result and the accepted variant."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QApplication, QWidget

from app import dataset_folder, dialogs
from app.canvas import Canvas
from app.controller import Controller, ScoredRun
from app.document import MaskDocument
from app.gallery import Gallery
from app.panels import SamplerPanel
from app.previews import StepUpdate
from app.settings import Settings
from core.device import DeviceError
from core.masks import SPECK_AREA_PX
from core.request import InpaintRequest, InpaintResult, mask_sha256
from core.sampler import random_seed

if TYPE_CHECKING:
    from core.pipeline import PlanSummary
    from core.scoring import VariantScore

log = logging.getLogger(__name__)


def crop_around(
    bounds: tuple[int, int, int, int] | None, width: int, height: int, margin: float = 0.6
) -> tuple[int, int, int, int] | None:
    """A square-ish crop around the mask bounds (with context), so a small defect fills the thumbnail."""
    if bounds is None:
        return None
    x0, y0, x1, y1 = bounds
    side = max(x1 - x0, y1 - y0, 32) * (1 + margin)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    half = min(side / 2, max(width, height) / 2)
    left, top = int(max(0, cx - half)), int(max(0, cy - half))
    return left, top, int(min(width, cx + half)), int(min(height, cy + half))


class GenerationPresenter(QObject):
    message = Signal(str, int)  # status bar text, timeout ms (0 = stays)
    stateChanged = Signal()  # result / accepted / busy changed: the window re-checks its actions

    def __init__(
        self,
        document: MaskDocument,
        canvas: Canvas,
        sampler: SamplerPanel,
        gallery: Gallery,
        controller: Controller,
        settings: Settings,
        dialog_parent: QWidget,
    ) -> None:
        super().__init__(dialog_parent)
        self.document, self.canvas, self.sampler, self.gallery = document, canvas, sampler, gallery
        self.controller, self.settings, self.parent_widget = controller, settings, dialog_parent
        self.result: InpaintResult | None = None
        self.scores: list[VariantScore] = []  # of the result's variants, in variant order; empty: unscored
        self.has_critic = False  # the scores include class fidelity and realism
        self.accepted: int | None = None
        self.exported: dict[int, str] = {}  # variant index -> sample id, for the result on show
        self._exporting: int | None = None
        self.shown_variant = 0
        self.previews_shown = 0
        self._planned: tuple[InpaintRequest | None, PlanSummary | None] = (None, None)  # planned by start()
        self._specks_confirmed: str | None = None  # masks sha256 the user chose to run despite its specks
        self._warm_model: object | None = None  # the LoadedModel that has run a step (warmed up) already
        controller.runStarted.connect(self._on_started)
        controller.step.connect(self._on_step)
        controller.runFinished.connect(self._on_finished)
        controller.runFailed.connect(self._on_failed)
        controller.runCancelled.connect(self._on_cancelled)
        controller.busyChanged.connect(self._on_busy)
        controller.exported.connect(self._on_exported)
        controller.exportFailed.connect(self._on_export_failed)
        controller.exportNote.connect(self._on_export_note)
        gallery.variantSelected.connect(self.show_variant)
        gallery.acceptRequested.connect(self.accept_variant)
        gallery.regenerateRequested.connect(lambda: self.generate(new_seed=True))
        gallery.rerunRequested.connect(self.rerun_exactly)
        gallery.exportRequested.connect(self.export_accepted)
        gallery.splitChanged.connect(lambda share: canvas.set_split(share or None))
        canvas.splitDragged.connect(lambda share: gallery.split.setValue(round(share * 100)))
        sampler.generateRequested.connect(lambda: self.generate())
        sampler.cancelRequested.connect(self.cancel)
        document.add_listener(self._on_mask_changed)

    def _on_mask_changed(self, _rect: object) -> None:
        """The steps beside Steps ("→ n for this mask") counted the mask that ran: an edit, an undo or another image
        makes it another mask."""
        self.sampler.show_run_steps(None)

    def _tell(self, text: str, timeout_ms: int = 6000) -> None:
        self.message.emit(text, timeout_ms)

    # --- building and starting a run ----------------------------------------------------------------------
    def build_request(self, seed: int) -> InpaintRequest | None:
        """The request for the current image and masks, or None (after telling the inspector why not)."""
        model = self.controller.model
        warn = lambda text: dialogs.show_warning(self.parent_widget, self.tr("Cannot generate"), text)  # noqa: E731
        if self.document.is_empty:
            warn(self.tr("Open an image first."))
            return None
        if model is None:
            warn(self.tr("No model loaded — choose one in the Model panel."))
            return None
        layers = self.document.layers()
        if not layers:
            warn(self.tr("Paint a mask first: pick a class, then paint where the defect should appear."))
            return None
        return InpaintRequest(
            image=self.document.image,
            layers=layers,
            seed=seed,
            variants=self.sampler.variants.value(),
            sampler=self.sampler.sampler_config(),
            source_path=self.document.path,
        )

    def generate(self, new_seed: bool = False) -> bool:
        """Start a run with the panel's settings; a random seed when asked to (or when the panel says so). A run
        replaces the variants on show: unexported ones are dropped only when the inspector says so."""
        if self.controller.busy or not self.may_drop_variants(
            self.tr("Replace variants?"),
            self.tr("%1 generated variant(s) are not exported yet; a new run replaces them. Generate anyway?"),
        ):
            return False
        if new_seed or self.sampler.random_seed.isChecked():
            seed = random_seed(self.sampler.variants.value())
        else:
            seed = self.sampler.seed.value()
        request = self.build_request(seed)
        return request is not None and self.start(request)

    def rerun_exactly(self) -> bool:
        """The last request again, unchanged: same image, masks, seed and settings, so the same pixels. Only when
        the variants on show came from another request (the last run was cancelled) is anything lost: ask then."""
        request = self.controller.last_request
        if request is None or self.controller.busy:
            return False
        if (self.result is None or self.result.request is not request) and not self.may_drop_variants(
            self.tr("Replace variants?"),
            self.tr("%1 generated variant(s) are not exported yet; a new run replaces them. Generate anyway?"),
        ):
            return False
        return self.start(request)

    def start(self, request: InpaintRequest) -> bool:
        """Plan `request` (the core validates it: PipelineError), ask before a mask that is mostly specks, then
        run it."""
        from core.pipeline import PipelineError, UnknownClassError

        try:
            summary = self.plan_summary(request)
            if summary is not None and summary.specks.mostly_specks and not self._confirm_specks(request, summary):
                return False
            self._planned = (request, summary)
            self.controller.generate(request, live_preview=self.sampler.live_preview.isChecked())
        except UnknownClassError as exc:
            text = (
                self.tr("The model %1 has no class %2. Repaint those pixels in one of its classes.")
                .replace("%1", exc.model)
                .replace("%2", ", ".join(exc.unknown))
            )
            dialogs.show_warning(self.parent_widget, self.tr("Cannot generate"), text)
            return False
        except (PipelineError, ValueError) as exc:
            dialogs.show_warning(self.parent_widget, self.tr("Cannot generate"), str(exc))
            return False
        return True

    def plan_summary(self, request: InpaintRequest) -> PlanSummary | None:
        """The pipeline's plan of `request` (raises PipelineError), None for a pipeline that cannot plan."""
        pipeline = self.controller.model.pipeline if self.controller.model else None
        return pipeline.plan_summary(request) if hasattr(pipeline, "plan_summary") else None

    def _confirm_specks(self, request: InpaintRequest, summary: PlanSummary) -> bool:
        """Ask once per mask: a run of specks is slow and changes far more than was painted."""
        masks = mask_sha256(request.layers)
        if masks == self._specks_confirmed:
            return True
        text = (
            self.tr(
                "The mask is mostly specks: %1 of its %2 regions are under %3 px. The run needs %4 "
                "windows (%5 steps) and will change far more of the image than was painted."
            )
            .replace("%1", str(summary.specks.specks))
            .replace("%2", str(summary.specks.regions))
            .replace("%3", str(SPECK_AREA_PX))
            .replace("%4", str(summary.windows))
            .replace("%5", str(summary.steps))
            + "\n\n"
            + self.tr("Paint fewer, larger regions for a faster, cleaner result. Generate anyway?")
        )
        if not dialogs.ask_yes_no(self.parent_widget, self.tr("Mask is mostly specks"), text):
            self._tell(self.tr("Not generated: the mask is mostly specks."), 8000)
            return False
        self._specks_confirmed = masks
        return True

    def cancel(self) -> None:
        if self.controller.busy:
            self.controller.cancel()
            self.sampler.show_status(self.tr("Cancelling after this step…"))
            self._tell(self.tr("Cancelling after this step…"), 0)

    # --- progress -----------------------------------------------------------------------------------------
    @Slot(object)
    def _on_started(self, request: InpaintRequest) -> None:
        self.previews_shown = 0
        self.sampler.set_running(True)
        self.canvas.set_after(None)
        planned_request, summary = self._planned
        if planned_request is not request:
            try:
                summary = self.plan_summary(request)
            except ValueError:
                summary = None
        self._planned = (None, None)
        self.sampler.show_run_steps(summary.steps if summary is not None else None)
        self._tell(self._preparing_text(summary), 0)

    def _preparing_text(self, summary: PlanSummary | None) -> str:
        """What a run does before its first step; only a model's first run also warms it up, which is slow."""
        first = self.controller.model is not self._warm_model
        if summary is None:
            if first:
                return self.tr("Preparing: encoding the image and warming the model up (the first run takes longest)…")
            return self.tr("Preparing: encoding the image…")
        if first:
            text = self.tr(
                "Preparing: %1 window(s), %2 steps — encoding the image and warming the model up "
                "(the first run takes longest)…"
            )
        else:
            text = self.tr("Preparing: %1 window(s), %2 steps — encoding the image…")
        return text.replace("%1", str(summary.windows)).replace("%2", str(summary.steps))

    @Slot(object)
    def _on_step(self, update: StepUpdate) -> None:
        event = update.event
        step, total = event.step, event.total_steps
        self._warm_model = self.controller.model  # a step came: the model is warm from here on
        self.sampler.show_step(step, total)
        if update.preview is not None:
            self.canvas.set_preview(update.preview.image, update.preview.box)
            self.previews_shown += 1
        layer_text = ""
        if event.layer_count > 1:
            layer_text = " · " + self.tr("mask %1 of %2").replace("%1", str(event.layer_index + 1)).replace(
                "%2", str(event.layer_count)
            )
        self._tell(
            self.tr("Generating: step %1 of %2").replace("%1", str(step)).replace("%2", str(total)) + layer_text, 0
        )

    @Slot(object)
    def _on_finished(self, run: ScoredRun) -> None:
        result = run.result
        request = result.request  # the seeds of the variants on show; a cancelled or failed run shows none
        self.sampler.last_seed.setText(
            str(request.seed) if request.variants == 1 else f"{request.seed} … {request.seed + request.variants - 1}"
        )
        self.set_result(result, run.scores, run.has_critic)
        self.sampler.show_status(self.tr("Done in %1 s").replace("%1", f"{result.seconds:.1f}"))
        self._tell(
            self.tr("%1 variant(s) in %2 s, seed %3 — pick one, Accept, then Export")
            .replace("%1", str(len(result.variants)))
            .replace("%2", f"{result.seconds:.1f}")
            .replace("%3", str(result.request.seed)),
            10000,
        )

    @Slot(object)
    def _on_failed(self, exc: Exception) -> None:
        self.canvas.clear_preview()
        self.sampler.show_status(self.tr("Failed"))
        self._tell(self.tr("Generation failed"), 8000)
        if (
            isinstance(exc, DeviceError)
            and self.controller.model is not None
            and self.controller.model.device.type != "cpu"
        ):
            if dialogs.ask_yes_no(
                self.parent_widget,
                self.tr("Device problem"),
                str(exc) + "\n\n" + self.tr("Switch to the CPU and reload the model?"),
            ):
                self.settings.device = "cpu"
                self.controller.load_model(self.controller.model.info.path, "cpu")
            return
        dialogs.show_error(self.parent_widget, self.tr("Generation failed"), str(exc), repr(exc))

    @Slot()
    def _on_cancelled(self) -> None:
        self.canvas.clear_preview()
        self.sampler.show_status(self.tr("Cancelled"))
        self._tell(self.tr("Cancelled — the mask is unchanged."), 6000)

    @Slot(bool)
    def _on_busy(self, busy: bool) -> None:
        # A button the run turns off (Generate, Regenerate, Re-run; Cancel at the end) would hand the keyboard
        # focus to the next widget in the chain, often one on a hidden tab: keep it where the keys mean
        # something (C to compare, Esc to cancel).
        run_buttons = (
            self.sampler.generate_button,
            self.sampler.cancel_button,
            self.gallery.regenerate_button,
            self.gallery.rerun_button,
        )
        if QApplication.focusWidget() in run_buttons:
            self.canvas.setFocus()
        self.sampler.set_running(busy)
        if not busy and self.sampler.progress.maximum() == 0:
            self.sampler.show_status(self.tr("Ready"))
        self.stateChanged.emit()

    # --- results ------------------------------------------------------------------------------------------
    @property
    def can_export(self) -> bool:
        """The one export rule: an accepted variant that is not in the dataset yet (nor being written)."""
        return (
            self.result is not None
            and self.accepted is not None
            and self.accepted not in self.exported
            and self._exporting is None
        )

    @property
    def unexported(self) -> bool:
        """A result is on show and none of its variants reached the dataset: closing it would lose work."""
        return self.result is not None and not self.exported and self._exporting is None

    def may_drop_variants(self, title: str, question: str) -> bool:
        """True when no unexported variants would be lost, or the inspector answers Yes to `question` (its %1:
        how many variants). No is the default: Enter keeps the work."""
        if not self.unexported or not self.parent_widget.isVisible():
            return True
        count = len(self.result.variants)  # type: ignore[union-attr]
        return dialogs.ask_yes_no(self.parent_widget, title, question.replace("%1", str(count)))

    def mask_edited(self) -> None:
        """The mask changes under a shown result: show the original being painted on, and drop the acceptance
        so view and state agree (the variants stay in the gallery; click one to see it, accept it again)."""
        if not self.canvas.showing_result and self.accepted is None:
            return
        if self.accepted is not None:
            self.accepted = None
            self.gallery.set_accepted(None)  # (re-selects its row, which shows that variant: hide it after)
            self._tell(
                self.tr(
                    "Mask edited — the variants stay in the gallery: click one to see it, Accept it again to export it."
                ),
                8000,
            )
        self.canvas.set_after(None)
        self.stateChanged.emit()

    def set_result(
        self, result: InpaintResult | None, scores: list[VariantScore] | None = None, has_critic: bool = False
    ) -> None:
        """Show `result` (None: clear) with its variants' scores (core.scoring, in variant order; none: unscored)."""
        self.result, self.accepted, self.shown_variant = result, None, 0
        self.scores, self.has_critic = list(scores or []), has_critic
        self.exported, self._exporting = {}, None
        self.canvas.clear_preview()
        if result is None:
            self.gallery.set_variants([], [], None)
            self.canvas.set_after(None)
        else:
            images = [variant.image for variant in result.variants]
            labels = [
                self.tr("#%1 · seed %2").replace("%1", str(i + 1)).replace("%2", str(v.seed))
                for i, v in enumerate(result.variants)
            ]
            union = np.zeros(self.document.labels.shape, bool)
            for layer in result.request.layers:
                if layer.mask.shape == union.shape:
                    union |= layer.mask
            bounds = None
            if union.any():
                rows, cols = np.flatnonzero(union.any(axis=1)), np.flatnonzero(union.any(axis=0))
                bounds = (int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)
            height, width = images[0].shape[:2]
            self.gallery.set_variants(
                images, labels, crop_around(bounds, width, height), scores=self.scores, has_critic=has_critic
            )
            self.shown_variant = max(0, self.gallery.current_variant())  # the best one, on top
            self.canvas.set_after(images[self.shown_variant])
        self.stateChanged.emit()

    @Slot(int)
    def show_variant(self, index: int) -> None:
        if self.result is not None and 0 <= index < len(self.result.variants):
            self.shown_variant = index
            self.canvas.set_after(self.result.variants[index].image)

    @Slot(int)
    def accept_variant(self, index: int) -> None:
        if self.result is None or not 0 <= index < len(self.result.variants):
            return
        self.accepted = index
        self.gallery.set_accepted(index)
        self.show_variant(index)
        self._tell(
            self.tr("Variant %1 accepted — Export (Ctrl+E) writes it to the dataset.").replace("%1", str(index + 1)),
            8000,
        )
        self.stateChanged.emit()

    # --- export -------------------------------------------------------------------------------------------
    def dataset_dir(self, ask: bool) -> Path | None:
        current = Path(self.settings.dataset_dir) if self.settings.dataset_dir else None
        if current is not None or not ask:
            return current
        return self.choose_dataset()

    def choose_dataset(self) -> Path | None:
        chosen = dataset_folder.choose_dataset_folder(
            self.parent_widget, self.dataset_dir(ask=False), self.settings.export
        )
        if chosen is None:
            return None
        folder, self.settings.export = chosen
        self.settings.dataset_dir = str(folder)
        self.refresh_counts()
        return folder

    def refresh_counts(self) -> None:
        self.controller.refresh_counts(self.dataset_dir(ask=False))

    @Slot()
    def export_accepted(self) -> None:
        """Export the accepted variant, once. Without an accepted variant there is nothing to export: say why."""
        if self.result is None:
            self._tell(self.tr("Nothing to export yet: Generate, pick a variant and Accept it, then Export."), 6000)
            return
        variant = self.accepted
        if variant is None:
            self._tell(self.tr("Accept a variant first, then Export."), 6000)
            return
        if variant in self.exported:
            self._tell_already_exported(variant)
            return
        if self._exporting is not None:
            self._tell(self.tr("Still writing variant %1 to the dataset…").replace("%1", str(self._exporting + 1)), 0)
            return
        root = self.dataset_dir(ask=True)
        if root is None:
            return
        self._exporting = variant
        self.stateChanged.emit()
        self._tell(self.tr("Exporting to %1…").replace("%1", str(root)), 0)
        self.controller.export(
            root, self.result, variant, self.document.source, self.score_extra(variant), self.settings.export.options()
        )

    def _tell_already_exported(self, variant: int) -> None:
        self._tell(
            self.tr("Variant %1 is already in the dataset as %2 — nothing written.")
            .replace("%1", str(variant + 1))
            .replace("%2", self.exported[variant]),
            8000,
        )

    def score_extra(self, variant: int) -> dict | None:
        """The manifest's record of `variant`'s scores: its scores as synth's --best-of records a candidate's,
        its rank among the run's variants, and what the ranking measured. None for an unscored result."""
        if not self.scores or self.result is None:
            return None
        from core.scoring import rank, ranked_by, score_record

        record = score_record(self.result.variants[variant].seed, self.scores[variant])
        return {
            "scores": {
                **record,
                "rank": rank(self.scores).index(variant) + 1,
                "of": len(self.scores),
                "ranked_by": ranked_by(self.has_critic),
            }
        }

    @Slot(str, object)
    def _on_exported(self, sample_id: str, _counts: object) -> None:
        if self._exporting is not None:
            self.exported[self._exporting] = sample_id
        self._exporting = None
        self.gallery.set_exported(self.exported)
        self._tell(self.tr("Exported %1 to %2").replace("%1", sample_id).replace("%2", self.settings.dataset_dir), 0)
        self.stateChanged.emit()

    @Slot(str)
    def _on_export_note(self, note: str) -> None:
        self._tell(
            self.tr(
                "Exported, but the dataset's split lists, COCO file and data.yaml were not rebuilt (the next "
                "export or `defectforge dataset build` does it): %1"
            ).replace("%1", note),
            0,
        )

    @Slot(object)
    def _on_export_failed(self, exc: Exception) -> None:
        from core.export import AlreadyExportedError

        variant, self._exporting = self._exporting, None
        if isinstance(exc, AlreadyExportedError) and variant is not None:
            # An exact re-run's pixels: they are in the dataset, under the id the first export gave them.
            self.exported[variant] = exc.sample_id
            self.gallery.set_exported(self.exported)
            self._tell_already_exported(variant)
            self.stateChanged.emit()
            return
        self.stateChanged.emit()
        self._tell(self.tr("Export failed — the result is still here; fix the folder and export again."), 0)
        dialogs.show_error(
            self.parent_widget,
            self.tr("Export failed"),
            self.tr(
                "Nothing was lost: the result stays in the gallery. Choose another dataset "
                "folder (File menu) or free some space, then export again."
            )
            + "\n\n"
            + str(exc),
            repr(exc),
        )
