"""Command-line flags generated from config dataclasses: one flag per field (`cfg_weight` -> `--cfg-weight`), with
the help (and choices, and any extra spellings) its field's metadata gives.

The dataclass is the only place a default lives: flags default to "not given", so only what the user typed
overrides the config they fill. A field with Bounds (core.config, metadata "bounds") gets a flag that refuses a
value outside them with the config's own words. The training jobs, `defectforge synth` and `defectforge bench`
all build their flags here, so a new config field is one edit.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import types
import typing
from collections.abc import Callable
from typing import Any

from core.choices import device_setting


def flag_name(name: str) -> str:
    return "--" + name.replace("_", "-")


def _base_type(annotation: Any) -> tuple[Any, bool]:
    """(inner type, optional) for `X | None` annotations."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return args[0], True
    return annotation, False


def _none_or(kind: Callable[[str], Any]) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        return None if text.lower() in ("none", "null", "") else kind(text)

    parse.__name__ = kind.__name__  # argparse names the type in its error message
    return parse


def finite_float(text: str) -> float:
    """A float flag: NaN and infinities are refused by argparse with one line (for configs that do not check)."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


finite_float.__name__ = "float"  # argparse names the type in its error message


DEVICE_HELP = "where to run: auto, cpu, cuda, cuda:N or mps (default: auto; DEFECTFORGE_DEVICE wins)"


def device_flag(text: str) -> str:
    """A --device flag: core.choices.device_setting's rule (auto, cpu, mps, cuda, cuda:N), its message on refusal."""
    try:
        return device_setting(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def within(kind: Callable[[str], Any], bounds: Any, what: str) -> Callable[[str], Any]:
    """Parse a flag with `kind`, then refuse a value outside `bounds` (core.config.Bounds) in the words the
    config's own check uses (core.config.check_bounds)."""

    def parse(text: str) -> Any:
        value = kind(text)
        if not bounds.contains(value):
            raise argparse.ArgumentTypeError(f"{what} must be {bounds}, got {value!r}")
        return value

    parse.__name__ = kind.__name__  # argparse names the type when `kind` itself fails ("invalid int value")
    return parse


def add_config_flags(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup,
    cls: type,
    skip: tuple[str, ...] = (),
    show_defaults: bool = True,
) -> None:
    """One flag per dataclass field of `cls`, its value stored under the field's name. Float fields refuse NaN and
    infinities; a field with Bounds refuses what they exclude. `show_defaults=False` where the value that applies
    comes from elsewhere (a model bundle's sampler), not from the dataclass.
    """
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if f.name in skip:
            continue
        kind, optional = _base_type(hints[f.name])
        default = f.default if f.default is not dataclasses.MISSING else None
        help_text = f.metadata.get("help", "")
        if f.metadata.get("bounds") is not None:
            help_text = f"{help_text}; {f.metadata['bounds']}"
        if show_defaults and default is not None and default != "":
            help_text = f"{help_text} (default: {default})"
        kwargs: dict[str, Any] = {"default": argparse.SUPPRESS, "help": help_text, "dest": f.name}
        if f.metadata.get("choices"):
            kwargs["choices"] = f.metadata["choices"]
        names = [flag_name(f.name), *f.metadata.get("aliases", ())]
        if kind is bool:
            parser.add_argument(*names, action=argparse.BooleanOptionalAction, **kwargs)
        elif typing.get_origin(kind) is tuple:
            parser.add_argument(*names, nargs="+", type=typing.get_args(kind)[0], **kwargs)
        else:
            base = {int: int, float: finite_float}.get(kind, str)
            bounds = f.metadata.get("bounds")
            if bounds is not None:  # plain float: NaN reaches the bounds, whose message names the setting
                base = within(float if kind is float else base, bounds, f.metadata.get("what", f.name))
            parser.add_argument(*names, type=_none_or(base) if optional else base, **kwargs)


def given(args: argparse.Namespace, cls: type) -> dict[str, Any]:
    """The fields of `cls` the user typed a flag for (add_config_flags leaves the others out of `args`)."""
    names = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in vars(args).items() if k in names}
