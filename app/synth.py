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
from pathlib import Path

from core.choices import IMAGE_SUFFIXES
from core.config import ConfigError, SamplerConfig
from core.device import DeviceError
from core.export import DatasetExporter, ExportError
from core.export_formats import DEFAULT_FORMATS, FORMATS, ExportOptions, FormatError
from core.flags import DEVICE_HELP, add_config_flags, device_flag, given
from core.imageio import ImageError
from core.request import CLEANUP_CLASS, MAX_SEED, MAX_VARIANTS
from core.synth import BatchSynth, Job, Summary, SynthError, SynthPlan, earlier_base_seed, folder_jobs, image_jobs

# The batch engine (jobs, memory-bounded batches, best-of, resuming) is core.synth: this module turns arguments into
# its jobs, shows progress and prints the summary.
PROG = "defectforge synth"
EXIT_FAILED, EXIT_INTERRUPTED = 1, 130
log = logging.getLogger(PROG)


class UserError(SynthError):
    """A problem with what the user asked for: reported as one line, no traceback."""


def _path(text: str) -> Path:
    """A path argument; an empty one (`--out ""`) would silently mean the current folder, so it is refused."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty path; give a folder or file name")
    return Path(text)


_path.__name__ = "path"


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


def synth_sampler(bundle, args: argparse.Namespace):
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


def synth_images(args: argparse.Namespace) -> list[Path]:
    folder = args.images
    if not folder.is_dir():
        raise UserError(f"--images {folder}: not a folder")
    from core.image_files import list_images

    found = list_images(folder)
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
    earlier = earlier_base_seed(exporter, signature)
    if earlier is not None:
        print(f"{PROG}: resuming with seed {earlier} from the earlier run into {args.out}", file=sys.stderr)
        return earlier
    from core.sampler import random_seed

    seed = random_seed(args.best_of or args.variants)
    print(f"{PROG}: seed {seed} (random; add --seed {seed} to repeat this run)", file=sys.stderr)
    return seed


def _jobs(args: argparse.Namespace, base_seed: int) -> list[Job]:
    if args.image is not None:
        return image_jobs(args.image, _mask_for(args.image, args), args.classes, base_seed)
    return folder_jobs(synth_images(args), args.classes, lambda image: _mask_for(image, args), base_seed)


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
    sampler = synth_sampler(bundle, args)
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
    plan = SynthPlan(
        args.variants, args.best_of, args.tighten, extra={"run": {"command": signature, "base_seed": base_seed}}
    )
    synth = BatchSynth(
        pipeline, exporter, sampler, plan, warn=lambda text: tqdm.write(f"{PROG}: warning: {text}", file=sys.stderr)
    )
    single = args.image is not None
    with tqdm(jobs, desc="synth", unit="image", file=sys.stderr, disable=None) as progress:
        for job in progress:
            progress.set_postfix_str(f"{job.image.name} {job.defect_class}", refresh=False)
            try:
                synth.run(job)
            except (ImageError, PipelineError, SynthError) as exc:
                if single:
                    raise
                synth.summary.failed.append(f"{job.image.name}: {exc}")
                progress.write(f"{PROG}: skipped {job.image.name}: {exc}", file=sys.stderr)
    exporter.build()
    _print_summary(synth.summary, args.out, time.perf_counter() - started)
    return EXIT_FAILED if synth.summary.failed else 0


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
    except (SynthError, ImageError, PipelineError, ExportError, BundleError, DeviceError, ConfigError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; run the same command again to resume", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
