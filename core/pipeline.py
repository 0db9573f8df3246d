"""The inpainting pipeline: an InpaintRequest in, one event per sampler step out, the result on the last one.

Mask layers are applied in turn, each on the previous layer's output. Each layer's mask is split into windows
(core.windows); a window is encoded, the tokens its mask touches are re-sampled for all variants in one batch,
decoded once at the end, and blended back with a feathered alpha: pixels outside the feathered band keep their
input values bit for bit. Events carry no pixels and do not depend on the clock: between steps a caller may ask
for a cheap preview of the step (`preview(event)`, a decode of the affected tokens only) and may stop at any time
by no longer iterating; nothing is left behind. How often to show one is the front end's choice.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial

import cv2
import numpy as np
import torch

from core.annotations import mask_boxes
from core.bundle import ModelBundle
from core.config import ConfigError
from core.device import autocast, friendly_oom
from core.masks import (
    SPECK_AREA_PX,
    SpeckReport,
    blend,
    blend_cover,
    feathered_alpha,
    speck_report,
    tighten_to_changed,
    token_mask,
)
from core.pixels import to_model_tensor, to_uint8
from core.request import (
    CLEANUP_CLASS,
    MAX_SEED,
    InpaintRequest,
    InpaintResult,
    MaskLayer,
    PipelineEvent,
    Preview,
    VariantResult,
)
from core.sampler import HaltonSampler, SamplerStep
from core.windows import WindowPlan, plan_windows

log = logging.getLogger(__name__)

# Decoding is the memory peak (full-resolution activations per image): decode variants in chunks this big.
DECODE_BATCH = 4
# Token margin a preview decode sees around the affected tokens: one token of context keeps edges plausible
# at a fraction of the cost of two (a preview is redrawn many times, the result once).
PREVIEW_MARGIN_TOKENS = 1


class PipelineError(ValueError):
    """A request the pipeline cannot run; the message tells the user what to change. Front ends that word it
    their own way (the GUI, synth) catch the subclasses that carry the facts."""


class UnknownClassError(PipelineError):
    """Mask layers ask for defect classes the model does not know."""

    def __init__(self, unknown: list[str], model: str, known: list[str]):
        self.unknown, self.model, self.known = unknown, model, known
        names = ", ".join(repr(name) for name in unknown)
        super().__init__(
            f"unknown defect class {names}: model {model!r} knows {', '.join(known)} "
            f"(or {CLEANUP_CLASS!r} to erase a defect)"
        )


@dataclass
class _WindowJob:
    """Everything known about one window before the run starts (so total_steps is known up front)."""

    index: int  # over the whole run: window seeds derive from it
    layer_index: int
    plan: WindowPlan
    token_mask: np.ndarray  # (g, g) bool
    steps: int
    alpha: np.ndarray  # (h, w) float32 blend weight at crop resolution
    token_box: tuple[int, int, int, int]  # (top, left, height, width) of the token mask's bounding box


@dataclass(frozen=True)
class PlanSummary:
    """What a request will cost, known before it runs: windows, sampler steps, and how the mask breaks up."""

    windows: int
    steps: int
    specks: SpeckReport  # of all layers' masks together

    def speck_warning(self) -> str | None:
        """One line for a mask that is mostly specks (core.masks.SpeckReport.mostly_specks), else None."""
        if not self.specks.mostly_specks:
            return None
        return (
            f"the mask is mostly specks: {self.specks.specks} of its {self.specks.regions} regions are under "
            f"{SPECK_AREA_PX} px, so the run needs {self.windows} windows ({self.steps} steps) and changes "
            "far more than was painted; paint fewer, larger regions"
        )


def _window_seeds(seeds: list[int], window_index: int) -> list[int]:
    """The request's seeds for the first window; independent, repeatable seeds for later ones."""
    if window_index == 0:
        return seeds
    return [int(np.random.SeedSequence([seed, window_index]).generate_state(1, np.uint32)[0]) for seed in seeds]


def _is_gray(image: np.ndarray) -> bool:
    return (
        image.ndim == 3
        and np.array_equal(image[..., 0], image[..., 1])
        and np.array_equal(image[..., 1], image[..., 2])
    )


def model_input(crop: np.ndarray) -> np.ndarray:
    """What the model sees of a crop: a gray model works on luminance, so a colour photo goes in as its luma
    (ITU-R 601, as `in_photo_colour` takes it back out); a gray one as it is."""
    if _is_gray(crop):
        return crop
    luma = cv2.cvtColor(np.ascontiguousarray(crop), cv2.COLOR_RGB2YCrCb)[..., 0]
    return np.repeat(luma[..., None], 3, axis=2)


def in_photo_colour(generated: np.ndarray, reference: np.ndarray, region: np.ndarray) -> np.ndarray:
    """`generated` (h, w, 3) in the colour of the photo `reference` it will be blended into.

    A gray reference (all channels equal) gives gray pixels (the channel mean): a gray steel image stays gray,
    whatever faint tint the decoder gives. A colour reference keeps the generated luminance and takes its chroma
    from the photo around `region` (h, w) bool, where the result will be blended: the chroma planes are filled
    across the region from its edge (cv2.inpaint), so a rusty plate gets a rusty defect, not a gray one. Outside
    `region` the blend keeps the photo's pixels, so only what is inside matters."""
    if _is_gray(reference):
        gray = np.rint(generated.astype(np.float32).mean(axis=2)).astype(np.uint8)
        return np.repeat(gray[..., None], 3, axis=2)
    region = region.astype(bool)
    luma = cv2.cvtColor(np.ascontiguousarray(generated), cv2.COLOR_RGB2YCrCb)[..., 0]
    chroma = cv2.cvtColor(np.ascontiguousarray(reference), cv2.COLOR_RGB2YCrCb)[..., 1:]
    if region.any():
        if region.all():  # no surface around it to carry: the photo's own mean chroma
            chroma = np.broadcast_to(np.rint(chroma.reshape(-1, 2).mean(axis=0)).astype(np.uint8), chroma.shape)
        else:
            hole = region.astype(np.uint8)
            chroma = np.dstack([cv2.inpaint(chroma[..., i].copy(), hole, 3, cv2.INPAINT_TELEA) for i in range(2)])
    return cv2.cvtColor(np.dstack([luma, chroma]).astype(np.uint8), cv2.COLOR_YCrCb2RGB)


class InpaintPipeline:
    """Runs InpaintRequests with one model bundle."""

    def __init__(self, bundle: ModelBundle):
        self.bundle = bundle
        self.model_size = bundle.info.image_size
        self.token_px = bundle.vq.downsample
        self.grid = bundle.info.grid_size

    # ---- checks and planning --------------------------------------------------------------------------

    def validate(self, request: InpaintRequest) -> None:
        """Raise PipelineError with a message a user can act on; return quietly if the request can run."""
        image = request.image
        if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            got = f"{image.shape} {image.dtype}" if isinstance(image, np.ndarray) else type(image).__name__
            raise PipelineError(f"the image must be an (H, W, 3) uint8 RGB array, got {got}")
        height, width = image.shape[:2]
        if height < 1 or width < 1:
            raise PipelineError("the image is empty")
        if not request.layers:
            raise PipelineError("no mask: paint where the defect should go")
        self.check_classes([layer.defect_class for layer in request.layers])
        for number, layer in enumerate(request.layers, start=1):
            name = f"mask {number} ({layer.defect_class})" if len(request.layers) > 1 else "the mask"
            mask = layer.mask
            if not isinstance(mask, np.ndarray) or mask.ndim != 2:
                raise PipelineError(f"{name} must be an (H, W) array")
            if mask.shape != (height, width):
                raise PipelineError(f"{name} is {mask.shape[1]}x{mask.shape[0]} but the image is {width}x{height}")
            if not mask.any():
                raise PipelineError(f"{name} is empty: paint where the defect should go")
            if mask.all():
                raise PipelineError(f"{name} covers the whole image: leave some surface around it as context")
        if not isinstance(request.variants, int) or request.variants < 1:
            raise PipelineError(f"variants must be at least 1, got {request.variants!r}")
        last_seed = MAX_SEED - (request.variants - 1)  # variant i uses seed + i
        if not isinstance(request.seed, int | np.integer) or not 0 <= request.seed <= last_seed:
            more = f" with {request.variants} variants" if request.variants > 1 else ""
            raise PipelineError(f"the seed must be a whole number from 0 to {last_seed}{more}, got {request.seed!r}")
        if request.context_margin < 0:
            raise PipelineError("the context margin must be >= 0")
        if request.feather_px < 0:
            raise PipelineError("the feather width must be >= 0 pixels")
        try:
            request.sampler.validate()
        except ConfigError as exc:
            raise PipelineError(str(exc)) from exc

    def check_classes(self, classes: list[str]) -> None:
        """UnknownClassError naming every class (in order, once) the model does not know; CLEANUP_CLASS is
        always known. `validate` runs it on a request's layers; a front end may run it first on what the user
        asked for (synth, before any image is read)."""
        known = self.bundle.class_names
        unknown = list(dict.fromkeys(name for name in classes if name != CLEANUP_CLASS and name not in known))
        if unknown:
            raise UnknownClassError(unknown, self.bundle.name, list(known))

    def _plan(self, request: InpaintRequest) -> list[_WindowJob]:
        jobs: list[_WindowJob] = []
        guard = request.feather_px + 2 + self.token_px
        for layer_index, layer in enumerate(request.layers):
            for plan in plan_windows(layer.mask.astype(bool), self.model_size, request.context_margin, guard):
                window = plan.window
                # Feather width is in model pixels; at crop resolution it scales with the window.
                feather = math.ceil(request.feather_px / window.scale) if request.feather_px > 0 else 0
                grow = math.ceil(feather * window.scale) + 2
                tokens = token_mask(window.mask_to_model(plan.mask), self.token_px, grow)
                rows, cols = np.nonzero(tokens)
                top, left = int(rows.min()), int(cols.min())
                box = (top, left, int(rows.max()) + 1 - top, int(cols.max()) + 1 - left)
                steps = request.sampler.steps_for(int(tokens.sum()), tokens.size)
                jobs.append(
                    _WindowJob(len(jobs), layer_index, plan, tokens, steps, feathered_alpha(plan.mask, feather), box)
                )
        return jobs

    def total_steps(self, request: InpaintRequest) -> int:
        """How many events `run(request)` will yield (for a progress bar before it starts)."""
        return self.plan_summary(request).steps

    def plan_summary(self, request: InpaintRequest) -> PlanSummary:
        """Validate (PipelineError) and plan `request` without running it: its windows, steps and specks."""
        self.validate(request)
        jobs = self._plan(request)
        painted = np.zeros(request.image.shape[:2], dtype=bool)
        for layer in request.layers:
            painted |= layer.mask.astype(bool)
        return PlanSummary(len(jobs), sum(job.steps for job in jobs), speck_report(painted))

    # ---- running ----------------------------------------------------------------------------------------

    def run(self, request: InpaintRequest) -> Iterator[PipelineEvent]:
        """Validate now (PipelineError), then return the iterator of step events; the last carries the result."""
        self.validate(request)
        return self._events(request, self._plan(request))

    def _class_id(self, defect_class: str) -> int:
        if defect_class == CLEANUP_CLASS:
            return self.bundle.transformer.config.null_class
        return self.bundle.class_index(defect_class)

    def _encode(self, crops: list[np.ndarray], plan: WindowPlan) -> torch.Tensor:
        """The windows of all variants as code grids (B, g, g); identical windows are encoded once."""
        device = self.bundle.device
        inputs = [plan.window.to_model(model_input(crop)) for crop in crops]
        unique = [inputs[0]] if all(np.array_equal(inputs[0], other) for other in inputs[1:]) else inputs
        batch = to_model_tensor(np.stack(unique), device)
        with friendly_oom(device), torch.no_grad(), autocast(device):
            codes = self.bundle.vq.encode(batch)
        codes = codes.cpu()
        return codes.expand(len(crops), -1, -1).clone() if len(unique) == 1 else codes

    def _decode(self, codes: torch.Tensor) -> np.ndarray:
        """Full-quality decode of code grids (B, g, g) -> (B, S, S, 3) uint8, in memory-bounded chunks."""
        device = self.bundle.device
        out = []
        with friendly_oom(device), torch.no_grad(), autocast(device):
            for start in range(0, codes.shape[0], DECODE_BATCH):
                out.append(to_uint8(self.bundle.vq.decode_codes(codes[start : start + DECODE_BATCH].to(device))))
        return np.concatenate(out)

    @staticmethod
    def preview(event: PipelineEvent) -> Preview | None:
        """What the run looks like at `event` (variant 0, the window being generated), or None for the result
        event. Ask before pulling the next event: a run that moved on cannot show an old step (RuntimeError)."""
        if event.result is not None:
            return None
        if event.make_preview is None:
            raise RuntimeError(f"step {event.step} is over: ask for its preview before pulling the next step")
        return event.make_preview()

    def _preview(
        self, job: _WindowJob, step: SamplerStep, current: np.ndarray, sampler: HaltonSampler, class_id: int
    ) -> Preview:
        """Variant 0's affected tokens decoded alone, blended like the result, with its box in image pixels.
        Tokens not revealed yet show the model's current best guess for them (HaltonSampler.most_likely), so
        the preview is the picture the next steps refine, not the input surface with specks on it."""
        device = self.bundle.device
        with friendly_oom(device):
            codes = sampler.most_likely(step.codes[:1], step.known[:1], [class_id])
        top, left, height, width = job.token_box
        with friendly_oom(device), torch.no_grad(), autocast(device):
            pixels = self.bundle.vq.decode_window(
                codes.to(device), top, left, height, width, margin=PREVIEW_MARGIN_TOKENS
            )
        ds = self.token_px
        window = job.plan.window
        (x0, y0, x1, y1), patch = window.patch_to_crop(
            to_uint8(pixels)[0], (left * ds, top * ds, (left + width) * ds, (top + height) * ds)
        )
        crop = window.crop(current)[y0:y1, x0:x1]
        patch = in_photo_colour(patch, crop, job.alpha[y0:y1, x0:x1] > 0)
        preview = blend(crop, patch, job.alpha[y0:y1, x0:x1])
        return Preview(preview, (window.x0 + x0, window.y0 + y0, window.x0 + x1, window.y0 + y1))

    def _finished_preview(self, job: _WindowJob, current: np.ndarray) -> Preview:
        """A finished window as it will be in the result: a crop, no decode."""
        x0, y0, x1, y1 = box = self._token_box_in_image(job)
        return Preview(current[y0:y1, x0:x1].copy(), box)

    def _events(self, request: InpaintRequest, jobs: list[_WindowJob]) -> Iterator[PipelineEvent]:
        started = time.perf_counter()
        layer_count = len(request.layers)
        total = sum(job.steps for job in jobs)
        images = [request.image.copy() for _ in range(request.variants)]
        labels: list[dict[str, np.ndarray]] = [{} for _ in range(request.variants)]
        cleanups: list[np.ndarray | None] = [None] * request.variants
        sampler = HaltonSampler(self.bundle.transformer, request.sampler)
        step_number = 0
        for layer_index, layer in enumerate(request.layers):
            changed = [np.zeros(layer.mask.shape, dtype=bool) for _ in images]
            # A clean-up region holds every pixel the clean-up changed, visibly or not: tightening is for labels.
            tighten = request.tighten_labels and not layer.is_cleanup
            class_id = self._class_id(layer.defect_class)
            for job in (j for j in jobs if j.layer_index == layer_index):
                window = job.plan.window
                original = self._encode([window.crop(image) for image in images], job.plan)
                steps = sampler.inpaint(
                    original, job.token_mask, [class_id] * len(images), _window_seeds(request.seeds, job.index)
                )
                try:
                    while True:
                        with friendly_oom(self.bundle.device):
                            step = next(steps, None)
                        if step is None:
                            break
                        step_number += 1
                        if step.done:
                            self._finish_window(job, step, images, changed, tighten)
                            if step_number == total:
                                break  # the result event below stands for the run's last step
                        make = (
                            partial(self._finished_preview, job, images[0])
                            if step.done
                            else partial(self._preview, job, step, images[0], sampler, class_id)
                        )
                        event = PipelineEvent(
                            layer_index, layer_count, step_number, total, window_done=step.done, make_preview=make
                        )
                        yield event
                        event.make_preview = None  # the images move on from here
                finally:
                    steps.close()
            self._update_labels(labels, cleanups, layer, changed, request.tighten_labels)
        result = InpaintResult(
            request=request,
            variants=[
                VariantResult(
                    seed,
                    image,
                    label_masks,
                    [box for name, mask in label_masks.items() for box in mask_boxes(mask, name)],
                    cleanup,
                )
                for seed, image, label_masks, cleanup in zip(request.seeds, images, labels, cleanups, strict=True)
            ],
            model_name=self.bundle.name,
            model_fingerprint=self.bundle.info.fingerprint,
            seconds=time.perf_counter() - started,
        )
        log.info(
            "inpainted %d layer(s), %d window(s), %d step(s), %d variant(s) in %.2f s",
            layer_count,
            len(jobs),
            total,
            request.variants,
            result.seconds,
        )
        yield PipelineEvent(layer_count - 1, layer_count, total, total, result=result)

    def _token_box_in_image(self, job: _WindowJob) -> tuple[int, int, int, int]:
        top, left, height, width = job.token_box
        ds, window = self.token_px, job.plan.window
        x0, y0, x1, y1 = window.model_box_to_crop((left * ds, top * ds, (left + width) * ds, (top + height) * ds))
        return window.x0 + x0, window.y0 + y0, window.x0 + x1, window.y0 + y1

    def _finish_window(
        self, job: _WindowJob, step: SamplerStep, images: list[np.ndarray], changed: list[np.ndarray], tighten: bool
    ) -> None:
        """Decode once at full quality and blend every variant's window into its image."""
        window = job.plan.window
        decoded = self._decode(step.codes)
        for variant, image in enumerate(images):
            crop = window.crop(image)
            generated = in_photo_colour(window.from_model(decoded[variant]), crop, job.alpha > 0)
            blended = blend(crop, generated, job.alpha)
            # The label covers what a detector will see: the feather band changes pixels beyond the painted
            # mask too. Tightened: every visibly changed pixel (specks included); else the painted mask grown
            # as far as the blend changed anything.
            if tighten:
                window.crop(changed[variant])[...] |= tighten_to_changed(job.alpha > 0, crop, blended, min_area=1)
            else:
                window.crop(changed[variant])[...] |= blend_cover(job.alpha, crop, blended)
            crop[...] = blended

    @staticmethod
    def _update_labels(
        labels: list[dict[str, np.ndarray]],
        cleanups: list[np.ndarray | None],
        layer: MaskLayer,
        changed: list[np.ndarray],
        tighten: bool,
    ) -> None:
        """A layer replaces earlier labels under its mask; a defect layer then adds its own label, a Clean-up
        layer what it changed to the variant's clean-up region (so no changed pixel goes unrecorded)."""
        painted = layer.mask.astype(bool)
        for variant, variant_labels in enumerate(labels):
            for name in list(variant_labels):
                variant_labels[name] &= ~painted
                if not variant_labels[name].any():
                    del variant_labels[name]
            if layer.is_cleanup:
                region = painted | changed[variant]
                cleanups[variant] = region if cleanups[variant] is None else cleanups[variant] | region
                continue
            label = changed[variant] if tighten else painted | changed[variant]
            if tighten and not label.any():
                log.info("nothing visibly changed under the %s mask; labelling the painted mask", layer.defect_class)
                label = painted
            if layer.defect_class in variant_labels:
                variant_labels[layer.defect_class] = variant_labels[layer.defect_class] | label
            else:
                variant_labels[layer.defect_class] = label.copy()
