"""Job configs on the command line: dataclass defaults < YAML file (`--config`) < command-line flags.

The dataclass is the only place a default lives. Flags are generated from its fields (`disc_start` ->
`--disc-start`), so the parser never becomes a second, drifting copy of the config. Options several jobs share
live on one options base the configs inherit (MachineOptions, DatasetOptions and BundleDataOptions here,
training.run.RunOptions, training.eval_bundle.BundleEvalOptions), so each one's name, default and help is written
once; a job that means something else by one restates only that (`restate`).
"""

from __future__ import annotations

import argparse
import dataclasses
import shlex
import sys
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, TypeVar

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


_KEEP: Any = object()  # restate(): the base's default stands


def restate(base: type, name: str, default: Any = _KEEP, help: str | None = None) -> Any:
    """`base`'s option `name` as this config has it: another default, or another help text where the job means
    something else by it; what is not given (choices, resume-safety, the rest) stays written once, on the base
    (`steps: int = restate(RunOptions, "steps", 2000)`). Flags list it with the base's options."""
    field = base.__dataclass_fields__[name]
    if default is _KEEP:
        default = field.default_factory() if field.default is dataclasses.MISSING else field.default
    text = field.metadata["help"] if help is None else help
    return option(default, text, field.metadata["choices"], field.metadata["resume_safe"])


@dataclass(frozen=True)
class MachineOptions:
    """--device and --threads, which every job shares: where a job computes is not part of what it computes, so
    a run may resume with them changed."""

    FLAGS_TITLE: ClassVar[str] = "where it computes"

    device: str = option("auto", "auto, cpu, cuda or mps (DEFECTFORGE_DEVICE wins)", resume_safe=True)
    threads: int = option(
        0,
        "CPU threads for torch (0 = its default, one per core); 1 is often much faster on "
        "a machine whose cores other jobs keep busy",
        resume_safe=True,
    )


@dataclass(frozen=True)
class DatasetOptions:
    """The dataset a training job reads and the images it holds out: `train vq` and `train tokenize` must hold out
    the same ones (and eval after them), so the split's defaults live here once."""

    FLAGS_TITLE: ClassVar[str] = "the data and its held-out split"

    data: str = option("", "dataset folder (any layout core.data reads), or a YAML dataset spec merging several")
    val_fraction: float = option(0.1, "share of images held out for metrics (same split as tokenize and eval)")
    split_seed: int = option(0, "seed of the held-out split")

    def validate(self) -> None:
        if not self.data:
            raise ConfigError("--data is required (the dataset folder)")
        if not 0 <= self.val_fraction < 1:
            raise ConfigError("--val-fraction must be in [0, 1)")
        require_path(self.data, "--data", "dataset")


@dataclass(frozen=True)
class BundleDataOptions:
    """A model bundle and the data it was trained on: what every job that measures or extends a bundle reads
    (`eval`, `eval downstream`, `train classifier`). Each job checks the bundle itself: a positional argument in
    one, a flag in another."""

    FLAGS_TITLE: ClassVar[str] = "the bundle and its data"

    bundle: str = option("", "model bundle folder")
    data: str = option("", "dataset folder or YAML dataset spec (the one the bundle was trained on)")

    def validate(self) -> None:
        if not self.data:
            raise ConfigError("--data is required (the dataset the bundle was trained on)")
        require_path(self.data, "--data", "dataset")


def add_job_flags(parser: argparse.ArgumentParser, cls: type, skip: tuple[str, ...] = ()) -> None:
    """One flag per field of the job config `cls` (core.flags.add_config_flags): the job's own first, then those
    of each shared options base it inherits, under the base's FLAGS_TITLE, so a job's --help leads with what is
    its own. A field a job restates (`restate`) stays with the base that declares it."""
    names = [f.name for f in dataclasses.fields(cls) if f.name not in skip]
    classes = [klass for klass in cls.__mro__ if dataclasses.is_dataclass(klass)]
    home = {name: next(k for k in reversed(classes) if name in k.__dataclass_fields__) for name in names}
    for klass in classes:
        group = [name for name in names if home[name] is klass]
        if not group:
            continue
        target = parser if klass is cls else parser.add_argument_group(getattr(klass, "FLAGS_TITLE", klass.__name__))
        add_config_flags(target, cls, skip=tuple(name for name in names if name not in group) + skip)


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
