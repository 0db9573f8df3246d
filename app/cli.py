"""The `defectforge` command: the desktop app by default, plus headless and training subcommands.

Nothing heavy is imported here, so `defectforge --help` answers at once; each subcommand's module is
imported only when it runs, and parses its own arguments (`defectforge synth --help`).
"""

from __future__ import annotations

import argparse
import importlib
import sys

from core.resources import app_version

# subcommand -> (module with a main(argv) -> int, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "synth": ("app.synth", "inpaint defects headlessly and export a labeled dataset"),
    "dataset": ("app.dataset_cli", "rebuild a labeled folder's split lists, COCO file and data.yaml"),
    "data": ("training.data_cli", "make procedural data, inspect datasets"),
    "train": ("training.train_cli", "train the VQ tokenizer or the MaskGIT transformer"),
    "eval": (
        "training.evaluate",
        "write a quality report for a model bundle ('eval downstream': does the synthetic data help a few-shot model?)",
    ),
    "bench": ("training.bench", "measure sampler and pipeline speed"),
}


def build_parser() -> argparse.ArgumentParser:
    # Subcommands are dispatched by main() before parsing, so they are listed here as text: an argparse
    # subparser group would claim the first positional, and `defectforge IMAGE` would be an "invalid choice".
    width = max(len(name) for name in COMMANDS)
    commands = "\n".join(f"  {name:<{width}}  {text}" for name, (_, text) in COMMANDS.items())
    parser = argparse.ArgumentParser(
        prog="defectforge",
        usage="defectforge [-h] [--version] [--self-test] [--model MODEL] [IMAGE | COMMAND ...]",
        description="Synthesize realistic surface defects on clean metal images. "
        "Without a subcommand the desktop app opens.",
        epilog=f"commands (each has its own --help):\n{commands}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"DefectForge {app_version()}")
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="load the default model, inpaint a sample, export and verify; exit 0 or 1",
    )
    parser.add_argument("--model", help="model bundle folder for the app (default: the bundled model)")
    parser.add_argument("image", nargs="?", metavar="IMAGE", help="image to open in the app")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in COMMANDS:
        module = importlib.import_module(COMMANDS[argv[0]][0])
        return int(module.main(argv[1:]) or 0)
    args = build_parser().parse_args(argv)
    if args.self_test:
        from app.selftest import main as self_test

        return self_test(model=args.model)
    from app.gui import main as gui_main

    return gui_main(image=args.image, model=args.model)


if __name__ == "__main__":
    sys.exit(main())
