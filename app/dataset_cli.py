"""`defectforge dataset build`: rewrite a labeled folder's split lists, COCO instances and data.yaml from its
manifest, e.g. after a run was interrupted, after deleting samples, or to choose another split."""

from __future__ import annotations

import argparse
import logging
import sys

from app.synth import UserError, _path, add_export_arguments, export_options
from core.export import CLASSES_FILE, DatasetExporter, ExportError

PROG = "defectforge dataset"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser(
        "build", help="rebuild train.txt/val.txt, annotations/instances*.json, data.yaml", description=__doc__
    )
    build.add_argument("out", type=_path, metavar="DIR", help="a folder written by the app or synth")
    add_export_arguments(build)
    build.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    return parser


def _build(args: argparse.Namespace) -> int:
    classes_file = args.out / CLASSES_FILE
    if not classes_file.is_file():
        raise UserError(f"{args.out} has no {CLASSES_FILE}: not a DefectForge dataset folder")
    class_names = [line.strip() for line in classes_file.read_text(encoding="utf-8").splitlines() if line.strip()]
    ids = DatasetExporter(args.out, class_names, export_options(args)).build()
    print(f"built {args.out}: {len(ids['train'])} train, {len(ids['val'])} val image(s)")
    return 0


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format=f"{PROG}: %(message)s", stream=sys.stderr
    )
    try:
        return _build(args)
    except (UserError, ExportError, OSError, UnicodeDecodeError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
