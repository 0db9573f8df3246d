"""Batch synthesis, headless: jobs (an image, a class, a mask, a seed) inpainted in memory-bounded batches and
exported to a labeled dataset folder, resuming from its manifest. `defectforge synth` (app.synth) is its command
line; this module parses no arguments and prints nothing (a warning goes to the `warn` it is given).

A sample whose key (source sha256 + class + seed + mask sha256) is in the manifest is skipped. With best-of K, a
job makes K candidates (seeds s ... s+K-1), scores each (core.scoring) and exports the best `variants`; each
exported sample's manifest line records every candidate's scores and which were exported or discarded.
"""

from __future__ import annotations

import logging
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.config import SamplerConfig
from core.export import DatasetExporter
from core.imageio import LoadedImage, load_image, load_mask
from core.masks import random_defect_mask
from core.request import InpaintRequest, MaskLayer, mask_sha256, sample_key

log = logging.getLogger(__name__)

# Variants run together in one batch are held as whole images (plus labels and window tensors): bound the batch
# by memory so 1000 variants run in chunks instead of exhausting RAM.
BATCH_MEMORY_BYTES = 512 << 20
MAX_BATCH = 16


class SynthError(Exception):
    """A job that cannot run as asked (no mask file, an image too small for a random mask): one line, no
    traceback."""


@dataclass
class Job:
    image: Path
    defect_class: str
    mask: Path | None  # None: draw a class-shaped random mask
    seed: int


@dataclass(frozen=True)
class SynthPlan:
    """What every job of one run shares."""

    variants: int  # samples exported per job (seeds s, s+1, ...)
    best_of: int | None = None  # K candidates scored per job, the best `variants` exported; None: export all
    tighten: bool = False  # label only where the image really changed
    extra: dict[str, Any] = field(default_factory=dict)  # recorded in every sample's manifest line


@dataclass
class Summary:
    exported: Counter = field(default_factory=Counter)
    skipped: int = 0
    discarded: int = 0  # best-of candidates not exported
    failed: list[str] = field(default_factory=list)


def variants_per_batch(width: int, height: int) -> int:
    """How many variants of a width x height image run in one batch without exceeding BATCH_MEMORY_BYTES."""
    per_variant = width * height * 3 * 8 + 256 * 256 * 3 * 4 * 4  # images, labels, copies; the window tensors
    return max(1, min(MAX_BATCH, BATCH_MEMORY_BYTES // per_variant))


def batches(variants: list[int], size: int) -> list[list[int]]:
    """Runs of consecutive variant numbers, at most `size` long (each run is one batch of seeds s, s+1, ...)."""
    out: list[list[int]] = []
    for variant in variants:
        if out and variant == out[-1][-1] + 1 and len(out[-1]) < size:
            out[-1].append(variant)
        else:
            out.append([variant])
    return out


def image_jobs(image: Path, mask: Path | None, classes: list[str], seed: int) -> list[Job]:
    """One image: every class is drawn on it, each with exactly `seed`, so a result seen in the app can be
    reproduced."""
    return [Job(image, name, mask, seed) for name in classes]


def folder_jobs(
    images: list[Path], classes: list[str], mask_for: Callable[[Path], Path | None], base_seed: int
) -> list[Job]:
    """A folder: the classes take turns over the images. A seed per image from its name, not its position:
    adding files to the folder keeps old work resumable."""
    jobs = []
    for index, image in enumerate(images):
        seed = (base_seed + zlib.crc32(image.name.encode())) % 2**31
        jobs.append(Job(image, classes[index % len(classes)], mask_for(image), seed))
    return jobs


def earlier_base_seed(exporter: DatasetExporter, signature: str) -> int | None:
    """The base seed an earlier run of the same command (`signature`) recorded in the folder, if any: a re-run
    without a seed reuses it and so resumes."""
    for record in reversed(exporter.records()):
        run = (record.get("extra") or {}).get("run") or {}
        if run.get("command") == signature and isinstance(run.get("base_seed"), int):
            return run["base_seed"]
    return None


class BatchSynth:
    """Runs jobs with one pipeline, sampler and plan into one exporter; `summary` counts what happened."""

    def __init__(
        self,
        pipeline: Any,
        exporter: DatasetExporter,
        sampler: SamplerConfig,
        plan: SynthPlan,
        warn: Callable[[str], None] = log.warning,
    ) -> None:
        self.pipeline = pipeline
        self.exporter = exporter
        self.sampler = sampler
        self.plan = plan
        self.warn = warn
        self.done = exporter.exported_keys()
        self.summary = Summary()

    def run(self, job: Job) -> None:
        """Export `job`'s samples not yet in the folder (SynthError, ImageError or PipelineError when it cannot)."""
        source = load_image(job.image)
        layers = [MaskLayer(self._mask(job, source), job.defect_class)]
        masks_sha = mask_sha256(layers)
        if self.plan.best_of:
            self._run_best_of(job, source, layers, masks_sha)
            return
        variants = self.plan.variants
        keys = [sample_key(source.sha256, [job.defect_class], job.seed + i, masks_sha) for i in range(variants)]
        missing = [i for i, key in enumerate(keys) if key not in self.done]
        self.summary.skipped += variants - len(missing)
        if not missing:
            return
        for chunk, result in self._batch_results(job, source, layers, missing):
            for variant in chunk:
                exported = self.exporter.export(
                    result, variant - chunk[0], source, extra=self.plan.extra, unless_exported=True
                )
                if exported is not None:
                    self.summary.exported[job.defect_class] += 1
                else:
                    self.summary.skipped += 1  # another command writing into the same folder exported it first
                self.done.add(keys[variant])

    @staticmethod
    def _mask(job: Job, source: LoadedImage) -> np.ndarray:
        if job.mask is None:
            rng = np.random.default_rng([job.seed, zlib.crc32(job.defect_class.encode())])
            try:
                return random_defect_mask(job.defect_class, source.size, rng)
            except ValueError as exc:  # too small an image to place a defect in
                raise SynthError(f"--auto-mask: {exc}") from None
        if not job.mask.is_file():
            raise SynthError(f"no mask for {job.image.name} (looked for {job.mask})")
        return load_mask(job.mask, source.size)

    def _batch_results(
        self, job: Job, source: LoadedImage, layers: list[MaskLayer], numbers: list[int]
    ) -> Iterator[tuple[list[int], Any]]:
        """(variant numbers, InpaintResult) per memory-bounded batch. Variant i keeps seed job.seed + i whatever
        the batching, so keys and pixels do not depend on it; a mask of specks is warned about before the first
        batch."""
        for batch, chunk in enumerate(batches(numbers, variants_per_batch(*source.size))):
            request = InpaintRequest(
                source.rgb,
                layers,
                seed=job.seed + chunk[0],
                variants=len(chunk),
                sampler=self.sampler,
                source_path=job.image,
                tighten_labels=self.plan.tighten,
            )
            if batch == 0:
                warning = self.pipeline.plan_summary(request).speck_warning()  # core.pipeline.PlanSummary
                if warning:
                    self.warn(f"{job.image.name}: {warning}")
            result = None
            for event in self.pipeline.run(request):
                result = event.result
            yield chunk, result

    def _candidates(self, job: Job, source: LoadedImage, layers: list[MaskLayer]) -> Iterator[tuple]:
        """(candidate number, result, variant index in it, its VariantScore) for seeds job.seed ... + K - 1."""
        from core.scoring import score_variants

        bundle = self.pipeline.bundle
        for chunk, result in self._batch_results(job, source, layers, list(range(self.plan.best_of or 0))):
            scores = score_variants(result, bundle.critic, bundle.info.image_size)
            for index, (number, score) in enumerate(zip(chunk, scores, strict=True)):
                yield number, result, index, score

    def _run_best_of(self, job: Job, source: LoadedImage, layers: list[MaskLayer], masks_sha: str) -> None:
        """K candidates, the best `variants` exported. Resumes per job: a job whose samples are in the manifest
        is done."""
        from core.scoring import ranked_by, score_record

        k, variants, summary = self.plan.best_of or 0, self.plan.variants, self.summary
        job_key = sample_key(source.sha256, [job.defect_class], job.seed, masks_sha) + f":best-of-{k}"
        already = sum(
            1 for r in self.exporter.records() if ((r.get("extra") or {}).get("best_of") or {}).get("job") == job_key
        )
        if already >= variants:
            summary.skipped += variants
            return
        scored, kept = [], []  # every candidate's scores; the best `variants` with their results (the rest go)
        for number, result, index, score in self._candidates(job, source, layers):
            scored.append((number, score))
            kept = sorted([*kept, (score.score, -number, result, index)], key=lambda c: c[:2], reverse=True)
            kept = kept[:variants]
        chosen = {-negative for _, negative, _, _ in kept}
        candidates = [
            {**score_record(job.seed + number, score), "exported": number in chosen} for number, score in scored
        ]
        ranking = ranked_by(self.pipeline.bundle.critic is not None)
        for rank, (_, _, result, index) in enumerate(kept, start=1):
            best_of = {
                "job": job_key,
                "k": k,
                "rank": rank,
                "ranked_by": ranking,
                "discarded": k - len(kept),
                "candidates": candidates,
            }
            extra = {**self.plan.extra, "best_of": best_of}
            if self.exporter.export(result, index, source, extra=extra, unless_exported=True):
                summary.exported[job.defect_class] += 1
            else:
                summary.skipped += 1
        summary.discarded += k - len(kept)
