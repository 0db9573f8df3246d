"""Command-line flags generated from config dataclasses: one flag per field (`cfg_weight` -> `--cfg-weight`), with
the help (and choices, and any extra spellings) its field's metadata gives.

The dataclass is the only place a default lives: flags default to "not given", so only what the user typed
overrides the config they fill. The training jobs, `defectforge synth` and `defectforge bench` all build their
flags here, so a new config field is one edit.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import types
import typing
from collections.abc import Callable
from typing import Any


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


def add_config_flags(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup,
    cls: type,
    skip: tuple[str, ...] = (),
    floats: Callable[[str], float] = finite_float,
    show_defaults: bool = True,
) -> None:
    """One flag per dataclass field of `cls`, its value stored under the field's name.

    `floats` parses float fields: `finite_float` by default; plain `float` for a config whose `validate` owns its
    bounds (SamplerConfig), so the user reads that message. `show_defaults=False` where the value that applies
    comes from elsewhere (a model bundle's sampler), not from the dataclass.
    """
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if f.name in skip:
            continue
        kind, optional = _base_type(hints[f.name])
        default = f.default if f.default is not dataclasses.MISSING else None
        help_text = f.metadata.get("help", "")
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
            base = {int: int, float: floats}.get(kind, str)
            parser.add_argument(*names, type=_none_or(base) if optional else base, **kwargs)


def given(args: argparse.Namespace, cls: type) -> dict[str, Any]:
    """The fields of `cls` the user typed a flag for (add_config_flags leaves the others out of `args`)."""
    names = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in vars(args).items() if k in names}
