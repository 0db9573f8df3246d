"""`defectforge synth`: inpaint defects headlessly and export a labeled dataset. Never imports Qt (runs on servers).

  one image   --image I (--mask M | --auto-mask) --class C [--class C2 ...]   every class is drawn on the image
  a folder    --images DIR (--masks DIR | --auto-mask) --class C [...]        masks match images by file stem;
                                                                               classes take turns over the images
Each image+class makes -n variants (seeds S, S+1, ...), each exported as its own sample. Re-running the same
command resumes: a sample whose key (source sha256 + class + seed + mask sha256) is in the manifest is skipped.
--best-of K makes K candidates (seeds S ... S+K-1) instead, scores each (core.scoring: class fidelity and realism
by the bundle's classifier, spill and seam) and exports the best -n; each exported sample's manifest line records
every candidate's scores and which were exported or discarded. Without a classifier in the bundle candidates are
ranked by spill and seam only.
A mask that is mostly specks (core.masks) gets a one-line warning before its run.
Without --seed a random seed is drawn and printed; a re-run of the same command into the same folder reuses it.
--formats picks the label files (voc, yolo, yolo-seg, coco); after the run the split lists, COCO instances and
data.yaml are rebuilt from the whole folder (`defectforge dataset build` does only that).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
import time
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.choices import IMAGE_SUFFIXES
from core.config import ConfigError, SamplerConfig
from core.device import DeviceError
from core.export import DatasetExporter, ExportError
from core.export_formats import DEFAULT_FORMATS, FORMATS, ExportOptions, FormatError
from core.flags import DEVICE_HELP, add_config_flags, device_flag, given
from core.imageio import ImageError, load_image, load_mask
from core.masks import random_defect_mask
from core.request import CLEANUP_CLASS, MAX_SEED, MAX_VARIANTS, InpaintRequest, MaskLayer, mask_sha256, sample_key

PROG = "defectforge synth"
EXIT_FAILED, EXIT_INTERRUPTED = 1, 130
# Variants run together in one batch are held as whole images (plus labels and window tensors): bound the batch
# by memory so -n 1000 runs in chunks instead of exhausting RAM.
BATCH_MEMORY_BYTES = 512 << 20
MAX_BATCH = 16
log = logging.getLogger(PROG)


class UserError(Exception):
    """A problem with what the user asked for: reported as one line, no traceback."""


@dataclass
class Job:
    image: Path
    defect_class: str
    mask: Path | None  # None: draw a class-shaped random mask
    seed: int


@dataclass
class Summary:
    exported: Counter = field(default_factory=Counter)
    skipped: int = 0
    discarded: int = 0  # --best-of candidates not exported
    failed: list[str] = field(default_factory=list)


def _path(text: str) -> Path:
    """A path argument; an empty one (`--out ""`) would silently mean the current folder, so it is refused."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty path; give a folder or file name")
    return Path(text)


_path.__name__ = "path"


def variants_per_batch(width: int, height: int) -> int:
    """How many variants of a width x height image run in one batch without exceeding BATCH_MEMORY_BYTES."""
    per_variant = width * height * 3 * 8 + 256 * 256 * 3 * 4 * 4  # images, labels, copies; the window tensors
    return max(1, min(MAX_BATCH, BATCH_MEMORY_BYTES // per_variant))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--image", type=_path, help="one image to draw defects on")
    source.add_argument("--images", type=_path, metavar="DIR", help="a folder of images (not searched recursively)")
    masks = parser.add_mutually_exclusive_group(required=True)
    masks.add_argument(
        "--mask",
        type=_path,
        help="mask for --image: pixels brighter than half its brightest are where the defect goes",
    )
    masks.add_argument("--masks", type=_path, metavar="DIR", help="masks for --images, matched by file stem")
    masks.add_argument("--auto-mask", action="store_true", help="draw a random mask shaped like each class")
    parser.add_argument(
        "--class",
        dest="classes",
        action="append",
        required=True,
        metavar="C",
        help=f"defect class (repeatable); {CLEANUP_CLASS} erases instead",
    )
    parser.add_argument(
        "-n",
        "--variants",
        type=int,
        default=1,
        help=f"variants per image and class (default 1, at most {MAX_VARIANTS})",
    )
    parser.add_argument(
        "--best-of",
        type=int,
        metavar="K",
        help="make K candidates per image and class, score them and export the best -n",
    )
    parser.add_argument("--seed", type=int, help=f"base seed, 0 to {MAX_SEED} (default: random, printed)")
    parser.add_argument("--model", type=_path, help="model bundle folder (default: the bundled model)")
    parser.add_argument("--out", type=_path, required=True, help="labeled dataset folder (created, appended to)")
    sampler = parser.add_argument_group("sampler settings", "each defaults to the model bundle's own")
    add_config_flags(sampler, SamplerConfig, show_defaults=False)  # each refuses what SamplerConfig's Bounds do
    sampler.add_argument(
        "--temperature", metavar="T[:T_MAX]", help="shorthand for --temp-min/--temp-max: one temperature or a ramp"
    )
    parser.add_argument("--device", type=device_flag, help=DEVICE_HELP)
    parser.add_argument("--tighten", action="store_true", help="label only where the image really changed")
    add_export_arguments(parser)
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    return parser


def _formats(text: str) -> tuple[str, ...]:
    try:
        return ExportOptions.parse_formats(text)
    except FormatError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


_formats.__name__ = "formats"


def add_export_arguments(parser: argparse.ArgumentParser) -> None:
    """The ExportOptions flags, shared by synth and `defectforge dataset build`."""
    defaults = ExportOptions()
    parser.add_argument(
        "--formats",
        type=_formats,
        default=DEFAULT_FORMATS,
        metavar="F[,F...]",
        help=f"label formats, from {', '.join(FORMATS)} (default {','.join(DEFAULT_FORMATS)}); "
        "yolo-seg also writes data.yaml for Ultralytics",
    )
    parser.add_argument(
        "--val-fraction",
        type=float,
        default=defaults.val_fraction,
        metavar="F",
        help="share of images listed in val.txt (and instances_val.json), chosen by image id and "
        "--split-seed (default 0: no split)",
    )
    parser.add_argument(
        "--split-seed",
        type=int,
        default=defaults.split_seed,
        metavar="S",
        help=f"seed of the train/val split (default {defaults.split_seed})",
    )


def export_options(args: argparse.Namespace) -> ExportOptions:
    try:
        return ExportOptions(formats=args.formats, val_fraction=args.val_fraction, split_seed=args.split_seed)
    except FormatError as exc:
        raise UserError(f"--val-fraction: {exc}") from None


def _sampler(bundle, args: argparse.Namespace):
    from core.sampler import with_overrides

    overrides = given(args, SamplerConfig)
    if args.temperature:
        if "temp_min" in overrides or "temp_max" in overrides:
            raise UserError("--temperature is a shorthand for --temp-min/--temp-max: give one or the other")
        try:
            parts = [float(p) for p in args.temperature.split(":")]
        except ValueError:
            raise UserError(f"--temperature {args.temperature!r}: expected a number or START:END") from None
        if len(parts) not in (1, 2):
            raise UserError(f"--temperature {args.temperature!r}: expected a number or START:END")
        overrides.update(temp_min=parts[0], temp_max=parts[-1])
    return with_overrides(bundle.info.sampler, **overrides)


def _load_model(args: argparse.Namespace):
    from core.bundle import load_bundle
    from core.device import choose_device
    from core.resources import default_model_path

    path = args.model or default_model_path()
    if args.model is None and not path.exists():
        raise UserError(
            f"no default model bundle at {path} yet; pass --model BUNDLE (a folder with model.yaml), "
            "or train one with 'defectforge train'"
        )
    return load_bundle(path, choose_device(args.device))


def _images(args: argparse.Namespace) -> list[Path]:
    if args.image is not None:
        return [args.image]
    folder = args.images
    if not folder.is_dir():
        raise UserError(f"--images {folder}: not a folder")
    found = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not found:
        raise UserError(f"no images ({', '.join(IMAGE_SUFFIXES)}) in {folder}")
    return found


def _mask_for(image: Path, args: argparse.Namespace) -> Path | None:
    if args.auto_mask:
        return None
    if args.mask is not None:
        return args.mask
    for suffix in IMAGE_SUFFIXES + tuple(s.upper() for s in IMAGE_SUFFIXES):
        candidate = args.masks / f"{image.stem}{suffix}"
        if candidate.is_file():
            return candidate
    return args.masks / f"{image.stem}.png"  # missing: reported when the job runs


def _command_signature(args: argparse.Namespace, fingerprint: str, sampler) -> str:
    """What makes two invocations 'the same command', for reusing a random seed when resuming."""
    from core.config import to_dict

    parts = {
        "images": str((args.image or args.images).resolve()),
        "masks": "auto" if args.auto_mask else str((args.mask or args.masks).resolve()),
        "classes": args.classes,
        "variants": args.variants,
        "best_of": args.best_of,
        "model": fingerprint,
        "sampler": to_dict(sampler),
        "tighten": args.tighten,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


def _base_seed(args: argparse.Namespace, exporter: DatasetExporter, signature: str) -> int:
    if args.seed is not None:
        return args.seed
    for record in reversed(exporter.records()):
        run = (record.get("extra") or {}).get("run") or {}
        if run.get("command") == signature and isinstance(run.get("base_seed"), int):
            print(
                f"{PROG}: resuming with seed {run['base_seed']} from the earlier run into {args.out}", file=sys.stderr
            )
            return run["base_seed"]
    from core.sampler import random_seed

    seed = random_seed(args.best_of or args.variants)
    print(f"{PROG}: seed {seed} (random; add --seed {seed} to repeat this run)", file=sys.stderr)
    return seed


def _jobs(args: argparse.Namespace, base_seed: int) -> list[Job]:
    images = _images(args)
    if args.image is not None:
        # One image: the seed is exactly the one given, so a result seen in the app can be reproduced.
        return [Job(args.image, name, _mask_for(args.image, args), base_seed) for name in args.classes]
    jobs = []
    for index, image in enumerate(images):
        name = args.classes[index % len(args.classes)]
        # A seed per image from its name, not its position: adding files to the folder keeps old work resumable.
        seed = (base_seed + zlib.crc32(image.name.encode())) % 2**31
        jobs.append(Job(image, name, _mask_for(image, args), seed))
    return jobs


def _batches(variants: list[int], size: int) -> list[list[int]]:
    """Runs of consecutive variant numbers, at most `size` long (each run is one batch of seeds s, s+1, ...)."""
    out: list[list[int]] = []
    for variant in variants:
        if out and variant == out[-1][-1] + 1 and len(out[-1]) < size:
            out[-1].append(variant)
        else:
            out.append([variant])
    return out


def _run_job(
    job: Job,
    args: argparse.Namespace,
    pipeline,
    exporter: DatasetExporter,
    sampler,
    done: set[str],
    extra: dict,
    summary: Summary,
) -> None:
    source = load_image(job.image)
    if job.mask is None:
        rng = np.random.default_rng([job.seed, zlib.crc32(job.defect_class.encode())])
        try:
            mask = random_defect_mask(job.defect_class, source.size, rng)
        except ValueError as exc:  # too small an image to place a defect in
            raise UserError(f"--auto-mask: {exc}") from None
    else:
        if not job.mask.is_file():
            raise UserError(f"no mask for {job.image.name} (looked for {job.mask})")
        mask = load_mask(job.mask, source.size)
    layers = [MaskLayer(mask, job.defect_class)]
    masks_sha = mask_sha256(layers)
    if args.best_of:
        _run_best_of(job, args, pipeline, exporter, sampler, source, layers, masks_sha, extra, summary)
        return
    keys = [sample_key(source.sha256, [job.defect_class], job.seed + i, masks_sha) for i in range(args.variants)]
    missing = [i for i, key in enumerate(keys) if key not in done]
    summary.skipped += args.variants - len(missing)
    if not missing:
        return
    for chunk, result in _batch_results(job, args, pipeline, sampler, source, layers, missing):
        for variant in chunk:
            if exporter.export(result, variant - chunk[0], source, extra=extra, unless_exported=True) is not None:
                summary.exported[job.defect_class] += 1
            else:
                summary.skipped += 1  # another command writing into the same folder exported it first
            done.add(keys[variant])


def _batch_results(
    job: Job, args: argparse.Namespace, pipeline, sampler, source, layers, numbers: list[int]
) -> Iterator[tuple[list[int], object]]:
    """(variant numbers, InpaintResult) per memory-bounded batch. Variant i keeps seed job.seed + i whatever the
    batching, so keys and pixels do not depend on it; a mask of specks is warned about before the first batch."""
    for batch, chunk in enumerate(_batches(numbers, variants_per_batch(*source.size))):
        request = InpaintRequest(
            source.rgb,
            layers,
            seed=job.seed + chunk[0],
            variants=len(chunk),
            sampler=sampler,
            source_path=job.image,
            tighten_labels=args.tighten,
        )
        if batch == 0:
            _warn_if_specks(job, pipeline, request)
        result = None
        for event in pipeline.run(request):
            result = event.result
        yield chunk, result


def _warn_if_specks(job: Job, pipeline, request: InpaintRequest) -> None:
    """One line on stderr before the first batch of a job whose mask is mostly specks (core.pipeline.PlanSummary)."""
    warning = pipeline.plan_summary(request).speck_warning()
    if warning:
        from tqdm import tqdm

        tqdm.write(f"{PROG}: warning: {job.image.name}: {warning}", file=sys.stderr)


def _candidates(job: Job, args: argparse.Namespace, pipeline, sampler, source, layers) -> Iterator[tuple]:
    """(candidate number, result, variant index in it, its VariantScore) for seeds job.seed ... + K - 1."""
    from core.scoring import score_variants

    bundle = pipeline.bundle
    for chunk, result in _batch_results(job, args, pipeline, sampler, source, layers, list(range(args.best_of))):
        scores = score_variants(result, bundle.critic, bundle.info.image_size)
        for index, (number, score) in enumerate(zip(chunk, scores, strict=True)):
            yield number, result, index, score


def _run_best_of(
    job: Job,
    args: argparse.Namespace,
    pipeline,
    exporter: DatasetExporter,
    sampler,
    source,
    layers,
    masks_sha: str,
    extra: dict,
    summary: Summary,
) -> None:
    """K candidates, the best -n exported. Resumes per job: a job whose -n samples are in the manifest is done."""
    from core.scoring import ranked_by, score_record

    job_key = sample_key(source.sha256, [job.defect_class], job.seed, masks_sha) + f":best-of-{args.best_of}"
    already = sum(1 for r in exporter.records() if ((r.get("extra") or {}).get("best_of") or {}).get("job") == job_key)
    if already >= args.variants:
        summary.skipped += args.variants
        return
    scored, kept = [], []  # every candidate's scores; the best -n with their results (the rest are let go)
    for number, result, index, score in _candidates(job, args, pipeline, sampler, source, layers):
        scored.append((number, score))
        kept = sorted([*kept, (score.score, -number, result, index)], key=lambda c: c[:2], reverse=True)
        kept = kept[: args.variants]
    chosen = {-negative for _, negative, _, _ in kept}
    candidates = [{**score_record(job.seed + number, score), "exported": number in chosen} for number, score in scored]
    ranking = ranked_by(pipeline.bundle.critic is not None)
    for rank, (_, _, result, index) in enumerate(kept, start=1):
        best_of = {
            "job": job_key,
            "k": args.best_of,
            "rank": rank,
            "ranked_by": ranking,
            "discarded": args.best_of - len(kept),
            "candidates": candidates,
        }
        if exporter.export(result, index, source, extra={**extra, "best_of": best_of}, unless_exported=True):
            summary.exported[job.defect_class] += 1
        else:
            summary.skipped += 1
    summary.discarded += args.best_of - len(kept)


def _run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from core.pipeline import InpaintPipeline, PipelineError

    if args.image is not None and args.masks is not None:
        raise UserError("--masks goes with --images; for one --image use --mask")
    if args.images is not None and args.mask is not None:
        raise UserError("--mask goes with --image; for --images use --masks DIR or --auto-mask")
    if not 1 <= args.variants <= MAX_VARIANTS:
        raise UserError(
            f"-n/--variants must be from 1 to {MAX_VARIANTS}, got {args.variants}; run the command "
            "again to add more (it resumes)"
        )
    if args.best_of is not None and not args.variants <= args.best_of <= MAX_VARIANTS:
        raise UserError(f"--best-of must be from -n ({args.variants}) to {MAX_VARIANTS}, got {args.best_of}")
    seeds_used = args.best_of or args.variants
    last_seed = MAX_SEED - (seeds_used - 1) if args.image is not None else MAX_SEED
    if args.seed is not None and not 0 <= args.seed <= last_seed:
        more = f" with {'--best-of' if args.best_of else '-n'} {seeds_used}" if last_seed != MAX_SEED else ""
        raise UserError(f"--seed must be from 0 to {last_seed}{more}, got {args.seed}")
    if args.image is not None and not args.image.is_file():
        raise UserError(f"--image {args.image}: no such file")
    if args.mask is not None and not args.mask.is_file():
        raise UserError(f"--mask {args.mask}: no such file")
    if args.masks is not None and not args.masks.is_dir():
        raise UserError(f"--masks {args.masks}: not a folder")
    options = export_options(args)
    started = time.perf_counter()
    bundle = _load_model(args)
    pipeline = InpaintPipeline(bundle)
    pipeline.check_classes(args.classes)  # the core's rule, before any image is read
    sampler = _sampler(bundle, args)
    exporter = DatasetExporter(args.out, bundle.class_names, options)
    signature = _command_signature(args, bundle.info.fingerprint, sampler)
    base_seed = _base_seed(args, exporter, signature)
    jobs = _jobs(args, base_seed)
    if args.best_of and bundle.critic is None:
        print(
            f"{PROG}: model {bundle.name!r} has no classifier, so --best-of ranks candidates by spill and seam "
            "only (add one with 'defectforge train classifier')",
            file=sys.stderr,
        )
    done = exporter.exported_keys()
    extra = {"run": {"command": signature, "base_seed": base_seed}}
    summary = Summary()
    single = args.image is not None
    with tqdm(jobs, desc="synth", unit="image", file=sys.stderr, disable=None) as progress:
        for job in progress:
            progress.set_postfix_str(f"{job.image.name} {job.defect_class}", refresh=False)
            try:
                _run_job(job, args, pipeline, exporter, sampler, done, extra, summary)
            except (ImageError, PipelineError, UserError) as exc:
                if single:
                    raise
                summary.failed.append(f"{job.image.name}: {exc}")
                progress.write(f"{PROG}: skipped {job.image.name}: {exc}", file=sys.stderr)
    exporter.build()
    _print_summary(summary, args.out, time.perf_counter() - started)
    return EXIT_FAILED if summary.failed else 0


def _print_summary(summary: Summary, out: Path, seconds: float) -> None:
    total = sum(summary.exported.values())
    per_class = ", ".join(f"{name} {count}" for name, count in sorted(summary.exported.items()))
    notes = []
    if summary.skipped:
        notes.append(f"{summary.skipped} already exported")
    if summary.discarded:
        notes.append(f"{summary.discarded} lower-scored candidate(s) discarded")
    if summary.failed:
        notes.append(f"{len(summary.failed)} image(s) failed")
    print(
        f"exported {total} sample(s) to {out} in {seconds:.1f} s"
        + (f": {per_class}" if per_class else "")
        + (f" ({'; '.join(notes)})" if notes else "")
    )


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error argparse has already explained
        return int(exc.code or 0)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format=f"{PROG}: %(message)s", stream=sys.stderr
    )
    from core.bundle import BundleError
    from core.pipeline import PipelineError, UnknownClassError

    try:
        return _run(args)
    except UnknownClassError as exc:
        known = ", ".join(exc.known)
        print(
            f"{PROG}: error: --class: unknown class {exc.unknown[0]!r}; model {exc.model!r} knows {known} "
            f"(or {CLEANUP_CLASS} to erase a defect)",
            file=sys.stderr,
        )
        return EXIT_FAILED
    except (UserError, ImageError, PipelineError, ExportError, BundleError, DeviceError, ConfigError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; run the same command again to resume", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
