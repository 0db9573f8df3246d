"""Job configs on the command line: dataclass defaults < YAML file (`--config`) < command-line flags.

The dataclass is the only place a default lives. Flags are generated from its fields (`disc_start` ->
`--disc-start`), so the parser never becomes a second, drifting copy of the config.
"""

from __future__ import annotations

import argparse
import dataclasses
import shlex
import sys
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml

from core.config import ConfigError, from_dict, safe_yaml, to_dict
from core.flags import add_config_flags
from core.names import ClassNameError, check_class_names

T = TypeVar("T")


class CliError(Exception):
    """A command-line mistake; printed as one line, exit status 2."""


class OneLineParser(argparse.ArgumentParser):
    """argparse that raises instead of printing usage + error on two lines and exiting."""

    def error(self, message: str) -> typing.NoReturn:
        raise CliError(f"{self.prog}: error: {message}")


def option(
    default: Any, help: str, choices: tuple[str, ...] | None = None, resume_safe: bool = False, **kwargs: Any
) -> Any:
    """A config field with the help text (and choices) its command-line flag shows. `resume_safe`: a run may
    resume with it changed and still be the same run (where it writes, on what device, how often it logs or
    checkpoints, how long it goes on), so no warning; a resume that changes any other option is warned about."""
    metadata = {"help": help, "choices": choices, "resume_safe": resume_safe}
    if isinstance(default, list | dict):
        return dataclasses.field(default_factory=lambda: type(default)(default), metadata=metadata, **kwargs)
    return dataclasses.field(default=default, metadata=metadata, **kwargs)


def device_option() -> Any:
    """The --device option every job shares; where a run computes is not part of what it computes."""
    return option("auto", "auto, cpu, cuda or mps (DEFECTFORGE_DEVICE wins)", resume_safe=True)


def threads_option() -> Any:
    """The --threads option every job shares."""
    return option(
        0,
        "CPU threads for torch (0 = its default, one per core); 1 is often much faster on "
        "a machine whose cores other jobs keep busy",
        resume_safe=True,
    )


def resume_safe_options(cls: type) -> set[str]:
    """Names of the config's fields marked `resume_safe` (see `option`)."""
    return {f.name for f in dataclasses.fields(cls) if f.metadata.get("resume_safe")}


def require_path(value: str | None, flag: str, kind: str = "file") -> None:
    """Fail before any work starts when a path option points nowhere (ConfigError, one line)."""
    from pathlib import Path

    if not value:
        return
    path = Path(value)
    if kind == "dataset":  # a dataset folder, or a YAML dataset spec merging several
        ok = path.is_dir() or (path.is_file() and path.suffix.lower() in (".yaml", ".yml"))
    else:
        ok = path.is_dir() if kind == "folder" else path.exists()
    if not ok:
        if kind == "dataset":
            raise ConfigError(f"{flag} {value}: folder not found (nor a .yaml dataset spec)")
        raise ConfigError(f"{flag} {value}: {kind} not found")


def require_class_names(names: typing.Iterable[str], where: str) -> None:
    """Class names (from --classes or read from a dataset) become folder names when samples are exported: refuse
    one that cannot be, before any work starts (ConfigError, one line)."""
    try:
        check_class_names(names, where)
    except ClassNameError as exc:
        hint = "" if where.startswith("--") else "; rename it with a class map (docs/class_map.example.yaml)"
        raise ConfigError(f"{exc}{hint}") from exc


def build_config(cls: type[T], args: argparse.Namespace, config_file: str | None = None) -> T:
    """Defaults, then the YAML file, then flags; unknown YAML keys and invalid values are errors."""
    values: dict[str, Any] = {}
    if config_file:
        path = Path(config_file)
        if not path.is_file():
            raise ConfigError(f"config file {path} not found")
        loaded = safe_yaml(path.read_text(encoding="utf-8"), path) or {}
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path}: expected a mapping of option names to values")
        values.update({k.replace("-", "_"): v for k, v in loaded.items()})
    names = {f.name for f in dataclasses.fields(cls)}
    values.update({k: v for k, v in vars(args).items() if k in names})
    try:
        return from_dict(cls, values)
    except TypeError as exc:
        raise ConfigError(f"{cls.__name__}: {exc}") from exc


def dump_config(config: Any) -> str:
    return yaml.safe_dump(to_dict(config), sort_keys=False)


def command_line(prog: str, argv: list[str]) -> str:
    """The exact command a user can paste to repeat a job."""
    return " ".join([prog, shlex.join(argv)]) if argv else prog


def report_error(prog: str, exc: BaseException) -> int:
    """Print a user error as a single line on stderr; return the exit status."""
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if not isinstance(exc, CliError):
        message = f"{prog}: error: {message}"
    print(message, file=sys.stderr)
    return 2


def run_bundle_command(
    prog: str, description: str | None, cls: type[T], run, argv: list[str], user_errors: tuple[type[BaseException], ...]
) -> tuple[int, Any]:
    """The shared front of `eval` and `eval downstream`: BUNDLE plus the config's flags (or --config FILE),
    then `run(cfg, command)`. Returns (0, what run returned), or (2, None) after a one-line error."""
    parser = OneLineParser(prog=prog, description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bundle", help="model bundle folder")
    parser.add_argument("--config", help="YAML file with option values (flags override it)")
    add_config_flags(parser, cls, skip=("bundle",))
    try:
        args = parser.parse_args(argv)
        cfg = build_config(cls, args, args.config)
        out = getattr(cfg, "out", "")
        if out and Path(out).exists() and not Path(out).is_dir():
            raise CliError(f"--out {out} is a file; give a folder for the report")
        return 0, run(cfg, command_line(prog, argv))
    except (CliError, *user_errors) as exc:
        return report_error(prog, exc), None
