"""Sampler settings live in SamplerConfig alone: synth's and bench's flags, and the training jobs' defaults, come
from it, so a new sampler field is one edit and no front end restates a default."""

from __future__ import annotations

import argparse
import dataclasses
import types

import pytest

from core.config import ConfigError, SamplerConfig, sampler_preset
from core.request import InpaintRequest

SAMPLER_FIELDS = {f.name for f in dataclasses.fields(SamplerConfig)}


def _dests(parser: argparse.ArgumentParser) -> set[str]:
    """Where every flag of `parser` and its sub-commands stores its value."""
    found = set()
    for action in parser._actions:
        found.add(action.dest)
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found |= _dests(sub)
    return found


def test_synth_and_bench_offer_a_flag_for_every_sampler_field():
    from app.synth import build_parser
    from training.bench import build_parser as bench_parser

    assert _dests(build_parser()) >= SAMPLER_FIELDS
    assert _dests(bench_parser()) >= SAMPLER_FIELDS


def test_synth_flags_override_only_what_was_typed_on_the_model_s_sampler():
    from app.synth import _sampler, build_parser

    model_sampler = SamplerConfig(steps=20, cfg_weight=0.7, top_k=3)
    bundle = types.SimpleNamespace(info=types.SimpleNamespace(sampler=model_sampler))
    base = ["--image", "a.png", "--auto-mask", "--class", "x", "--out", "o"]
    assert _sampler(bundle, build_parser().parse_args(base)) == model_sampler
    args = build_parser().parse_args([*base, "--top-k", "9", "--no-randomize", "--cfg", "2", "--temperature", "1:2"])
    assert _sampler(bundle, args) == dataclasses.replace(
        model_sampler, top_k=9, randomize=False, cfg_weight=2.0, temp_min=1.0, temp_max=2.0
    )


def test_bench_starts_from_the_preset_s_sampler_and_its_bounds_are_the_config_s():
    from training.bench import build_parser, sampler_config

    assert sampler_config(build_parser().parse_args(["sampler"])) == sampler_preset("tiny")
    assert sampler_config(build_parser().parse_args(["sampler", "--preset", "base"])).cfg_weight == 0.7
    assert sampler_config(build_parser().parse_args(["sampler", "--steps", "8"])).steps == 8
    with pytest.raises(ConfigError, match="CFG weight"):
        sampler_config(build_parser().parse_args(["sampler", "--cfg", "nan"]))


def test_training_jobs_take_sampler_and_feather_defaults_from_their_homes():
    from training.downstream import DownstreamConfig
    from training.evaluate import EvalConfig
    from training.train_maskgit import MaskGITConfig

    maskgit = MaskGITConfig()
    assert maskgit.sampler_steps is None and maskgit.cfg_weight is None  # the preset's sampler, not a copy
    request = InpaintRequest(image=None, layers=[], seed=0)
    assert EvalConfig.__dataclass_fields__["feather_px"].default == request.feather_px
    assert DownstreamConfig.__dataclass_fields__["feather_px"].default == request.feather_px
