"""`defectforge data`: make procedural NEU-style data, and inspect dataset folders.

  procedural --out DIR [--per-class N] [--seed S] [--size PX] [--preview PNG]
  inspect DIR [DIR ...] [--kind K] [--class-map YAML] [--json]

`inspect` lists counts per class, image sizes and every problem found; it exits 0 whatever the problems,
and non-zero (with a one-line reason) only when a folder can't be read at all.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from PIL import Image


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="defectforge data", description="Make procedural data, inspect datasets.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    make = sub.add_parser("procedural", help="write a NEU-DET-layout procedural dataset and/or a preview sheet")
    make.add_argument("--out", type=Path, help="dataset folder to create (must not exist or be empty)")
    make.add_argument("--per-class", type=int, default=300, help="images per class (NEU-DET has 300; default 300)")
    make.add_argument("--seed", type=int, default=0, help="data seed (default 0)")
    make.add_argument("--size", type=int, default=200, help="image side in pixels (NEU-DET: 200)")
    make.add_argument("--preview", type=Path, help="also write a contact sheet PNG: 6 classes x 4 image|mask pairs")

    look = sub.add_parser("inspect", help="counts per class, image sizes and every problem in dataset folders")
    look.add_argument("roots", nargs="+", type=Path, metavar="DIR", help="dataset folder(s); several are merged")
    look.add_argument(
        "--kind",
        default="auto",
        help="layout: auto (default), neu-det, neu-cls, sd-saliency, x-sdd, gc10, mvtec, folders, procedural",
    )
    look.add_argument("--class-map", type=Path, help="YAML class map to merge class names (see core/data/class_map)")
    look.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    return parser


def _procedural(args: argparse.Namespace) -> int:
    if args.out is None and args.preview is None:
        print("error: give --out DIR, --preview PNG, or both", file=sys.stderr)
        return 2
    if args.per_class < 1 or args.size < 32:
        print("error: --per-class must be >= 1 and --size >= 32", file=sys.stderr)
        return 2
    if args.preview is not None:
        from core.procedural_sheet import save_contact_sheet

        path = save_contact_sheet(args.preview, seed=args.seed, size=args.size)
        print(f"preview: {path}", file=sys.stderr)
    if args.out is not None:
        from tqdm import tqdm

        from core.procedural import NEU_CLASSES
        from core.procedural_writer import write_neu_det

        total = args.per_class * len(NEU_CLASSES)
        try:
            with tqdm(total=total, desc="procedural", unit="img", file=sys.stderr) as bar:
                write_neu_det(args.out, args.per_class, args.seed, args.size, progress=bar.update)
        except (FileExistsError, OSError) as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        print(f"wrote {total} images to {args.out}", file=sys.stderr)
    return 0


# Side the images are decoded and resized to when inspecting: small, the decode is what finds problems.
INSPECT_SIZE = 32


def summarize(dataset: Any) -> dict[str, Any]:
    """Counts per class (images and boxes), masks, image sizes and problems, JSON-ready."""
    from core.data.common import DatasetError
    from core.data.records import DatasetProblem
    from core.names import class_name_problem
    from training.datasets import DataError, prepare

    per_class: dict[str, dict[str, int]] = {}
    for sample in dataset.samples:
        if sample.defect_class:
            per_class.setdefault(sample.defect_class, {"images": 0, "boxes": 0})["images"] += 1
        for box in sample.boxes:
            per_class.setdefault(box.defect_class, {"images": 0, "boxes": 0})["boxes"] += 1
    sizes: Counter[str] = Counter()
    problems = list(dataset.problems)
    for sample in dataset.samples:
        try:
            with Image.open(sample.image) as image:
                sizes[f"{image.width}x{image.height}"] += 1
            # Decode it as training does (image, mask, region): a truncated file passes the header read above.
            prepare(sample, INSPECT_SIZE)
        except (DataError, DatasetError, OSError, ValueError) as error:  # report, never stop
            problems.append(DatasetProblem(sample.image, f"unreadable image: {str(error).splitlines()[0]}"))
    for name in per_class:
        problem = class_name_problem(name)
        if problem:  # tokenize and train refuse it: a class name becomes a folder name on export
            problems.append(DatasetProblem(dataset.root, f"bad class name: {problem}; rename it with a class map"))
    return {
        "root": str(dataset.root),
        "kind": dataset.kind,
        "samples": len(dataset.samples),
        "clean": sum(1 for s in dataset.samples if not s.defect_class),
        "with_mask": sum(1 for s in dataset.samples if s.mask is not None),
        "boxes": sum(len(s.boxes) for s in dataset.samples),
        "classes": {name: per_class[name] for name in sorted(per_class)},
        "image_sizes": dict(sizes.most_common()),
        "problems": [{"path": str(p.path), "message": p.message} for p in problems],
    }


def _print_summary(summary: dict[str, Any]) -> None:
    print(f"{summary['root']}  ({summary['kind']})")
    print(
        f"samples {summary['samples']}  clean {summary['clean']}  with mask {summary['with_mask']}  "
        f"boxes {summary['boxes']}  classes {len(summary['classes'])}"
    )
    if summary["classes"]:
        width = max(len("class"), *(len(name) for name in summary["classes"]))
        print(f"  {'class':<{width}}  {'images':>7}  {'boxes':>7}")
        for name, counts in summary["classes"].items():
            print(f"  {name:<{width}}  {counts['images']:>7}  {counts['boxes']:>7}")
    sizes = ", ".join(f"{size} ({count})" for size, count in summary["image_sizes"].items())
    print(f"image sizes: {sizes or 'none'}")
    print(f"problems: {len(summary['problems'])}")
    for problem in summary["problems"]:
        print(f"  {problem['path']}: {problem['message']}")


def _inspect(args: argparse.Namespace) -> int:
    from core.data.class_map import ClassMapError, load_class_map, merge
    from core.data.common import DatasetError
    from core.data.detect import read_dataset

    try:
        class_map = load_class_map(args.class_map) if args.class_map else None
        datasets = [read_dataset(root, args.kind) for root in args.roots]
    except (DatasetError, ClassMapError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    dataset = merge(datasets, class_map) if class_map or len(datasets) > 1 else datasets[0]
    summary = summarize(dataset)
    if len(datasets) > 1:
        summary["parts"] = [{"root": str(d.root), "kind": d.kind, "samples": len(d.samples)} for d in datasets]
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        _print_summary(summary)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _build_parser().parse_args(argv)
    if args.command == "procedural":
        return _procedural(args)
    return _inspect(args)


if __name__ == "__main__":
    sys.exit(main())
