"""The `defectforge` command: the desktop app by default, plus headless and training subcommands.

Nothing heavy is imported here, so `defectforge --help` answers at once. Subcommands are entry points in the
group `defectforge.commands` (pyproject.toml; another installed package may add its own): a name and a
"module:function" string, so the app finds the training commands without importing training. Each module
is imported only when its command runs, and parses its own arguments (`defectforge synth --help`).
"""

from __future__ import annotations

import argparse
import sys
from importlib.metadata import EntryPoint, entry_points

from core.resources import app_version

GROUP = "defectforge.commands"

# Built-in subcommands: entry point (a main(argv) -> exit status) and one-line help. pyproject.toml registers
# the same entry points (a test keeps the two alike); this table stands in where the package metadata is
# missing (a frozen build may lack its dist-info) and gives the help text either way.
COMMANDS: dict[str, tuple[str, str]] = {
    "synth": ("app.synth:main", "inpaint defects headlessly and export a labeled dataset"),
    "dataset": ("app.dataset_cli:main", "rebuild a labeled folder's split lists, COCO file and data.yaml"),
    "data": ("training.data_cli:main", "make procedural data, inspect datasets"),
    "train": ("training.train_cli:main", "train the VQ tokenizer or the MaskGIT transformer"),
    "eval": (
        "training.evaluate:main",
        "write a quality report for a model bundle ('eval downstream': does the synthetic data help a few-shot model?)",
    ),
    "bench": ("training.bench:main", "measure sampler and pipeline speed"),
}


def commands() -> dict[str, tuple[EntryPoint, str]]:
    """Subcommand -> (entry point, one-line help): the installed entry points, and the built-in table for any
    built-in command the metadata lacks (none there, or an install older than the command)."""
    built_in = {name: EntryPoint(name, target, GROUP) for name, (target, _) in COMMANDS.items()}
    found = built_in | {ep.name: ep for ep in entry_points(group=GROUP)}
    order = [name for name in COMMANDS if name in found] + sorted(set(found) - set(COMMANDS))  # metadata sorts
    return {name: (found[name], _help(found[name])) for name in order}


def _help(ep: EntryPoint) -> str:
    """A built-in command's line from the table; another package's command says where it comes from."""
    if ep.name in COMMANDS:
        return COMMANDS[ep.name][1]
    dist = getattr(ep, "dist", None)
    return f"from {dist.name}" if dist is not None else ep.value


def build_parser(available: dict[str, tuple[EntryPoint, str]] | None = None) -> argparse.ArgumentParser:
    # Subcommands are dispatched by main() before parsing, so they are listed here as text: an argparse
    # subparser group would claim the first positional, and `defectforge IMAGE` would be an "invalid choice".
    available = commands() if available is None else available
    width = max(len(name) for name in available)
    listed = "\n".join(f"  {name:<{width}}  {text}" for name, (_, text) in available.items())
    parser = argparse.ArgumentParser(
        prog="defectforge",
        usage="defectforge [-h] [--version] [--self-test] [--model MODEL] [IMAGE | COMMAND ...]",
        description="Synthesize realistic surface defects on clean metal images. "
        "Without a subcommand the desktop app opens.",
        epilog=f"commands (each has its own --help):\n{listed}",
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
    available = commands()
    if argv and argv[0] in available:
        run = available[argv[0]][0].load()
        return int(run(argv[1:]) or 0)
    args = build_parser(available).parse_args(argv)
    if args.self_test:
        from app.selftest import main as self_test

        return self_test(model=args.model)
    from app.gui import main as gui_main

    return gui_main(image=args.image, model=args.model)


if __name__ == "__main__":
    sys.exit(main())
