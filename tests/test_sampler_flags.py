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
    from app.synth import build_parser, synth_sampler

    model_sampler = SamplerConfig(steps=20, cfg_weight=0.7, top_k=3)
    bundle = types.SimpleNamespace(info=types.SimpleNamespace(sampler=model_sampler))
    base = ["--image", "a.png", "--auto-mask", "--class", "x", "--out", "o"]
    assert synth_sampler(bundle, build_parser().parse_args(base)) == model_sampler
    args = build_parser().parse_args([*base, "--top-k", "9", "--no-randomize", "--cfg", "2", "--temperature", "1:2"])
    assert synth_sampler(bundle, args) == dataclasses.replace(
        model_sampler, top_k=9, randomize=False, cfg_weight=2.0, temp_min=1.0, temp_max=2.0
    )


def test_bench_starts_from_the_preset_s_sampler_and_its_bounds_are_the_config_s():
    from training.bench import build_parser, sampler_config

    assert sampler_config(build_parser().parse_args(["sampler"])) == sampler_preset("tiny")
    assert sampler_config(build_parser().parse_args(["sampler", "--preset", "base"])).cfg_weight == 0.7
    assert sampler_config(build_parser().parse_args(["sampler", "--steps", "8"])).steps == 8
    with pytest.raises(SystemExit):  # the flag itself refuses it, in SamplerConfig's words
        build_parser().parse_args(["sampler", "--cfg", "nan"])
    with pytest.raises(ConfigError, match="low to high"):
        sampler_config(build_parser().parse_args(["sampler", "--temp-min", "2", "--temp-max", "1"]))


def test_training_jobs_take_sampler_and_feather_defaults_from_their_homes():
    from training.downstream import DownstreamConfig
    from training.evaluate import EvalConfig
    from training.train_maskgit import MaskGITConfig

    maskgit = MaskGITConfig()
    assert maskgit.sampler_steps is None and maskgit.cfg_weight is None  # the preset's sampler, not a copy
    request = InpaintRequest(image=None, layers=[], seed=0)
    assert EvalConfig.__dataclass_fields__["feather_px"].default == request.feather_px
    assert DownstreamConfig.__dataclass_fields__["feather_px"].default == request.feather_px


# ---- every command's sampler flags refuse at SamplerConfig's bounds ------------------------------------------


def _synth(flags: list[str], tmp_path) -> object:
    from app.synth import build_parser

    return build_parser().parse_args(["--image", "a.png", "--auto-mask", "--class", "x", "--out", "o", *flags])


def _bench(flags: list[str], tmp_path) -> object:
    from training.bench import build_parser

    return build_parser().parse_args(["sampler", *flags])


def _job_command(jobs: dict, name: str, argv: list[str]) -> object:
    """The real front of a command's job table (training.commands), with each job's run replaced by one that only
    hands back the config it was given."""
    from dataclasses import replace

    from training.commands import run_job_command

    seen: list[object] = []
    table = {key: replace(job, run=lambda cfg, command: seen.append(cfg), done=None) for key, job in jobs.items()}
    status = run_job_command("test", None, table, [name, *argv] if name else argv, default="" if "" in jobs else None)
    if status:
        raise SystemExit(status)
    return seen[0]


def _bundle_argv(flags: list[str], tmp_path) -> list[str]:
    for folder in ("bundle", "data"):
        (tmp_path / folder).mkdir(exist_ok=True)
    return [str(tmp_path / "bundle"), "--data", str(tmp_path / "data"), *flags]


def _eval(flags: list[str], tmp_path) -> object:
    from training.evaluate import jobs

    return _job_command(jobs(), "", _bundle_argv(flags, tmp_path))


def _downstream(flags: list[str], tmp_path) -> object:
    from training.evaluate import jobs

    return _job_command(jobs(), "downstream", _bundle_argv(flags, tmp_path))


def _train_maskgit(flags: list[str], tmp_path) -> object:
    from training.train_cli import jobs

    (tmp_path / "tokens").mkdir(exist_ok=True)
    return _job_command(jobs(), "maskgit", ["--tokens", str(tmp_path / "tokens"), "--out", str(tmp_path / "o"), *flags])


# command -> (how it parses, its flag for SamplerConfig.steps, its flag for SamplerConfig.cfg_weight)
COMMANDS = {
    "synth": (_synth, "--steps", "--cfg-weight"),
    "bench": (_bench, "--steps", "--cfg-weight"),
    "eval": (_eval, "--sampler-steps", "--cfg-weight"),
    "eval downstream": (_downstream, "--sampler-steps", "--cfg-weight"),
    "train maskgit": (_train_maskgit, "--sampler-steps", "--cfg-weight"),
}
STEPS, CFG = SamplerConfig.bounds("steps"), SamplerConfig.bounds("cfg_weight")
EDGES = [
    ("steps", STEPS.low, True),
    ("steps", STEPS.high, True),
    ("steps", STEPS.low - 1, False),
    ("steps", STEPS.high + 1, False),
    ("cfg_weight", CFG.low, True),
    ("cfg_weight", CFG.high, True),
    ("cfg_weight", CFG.low - 0.1, False),
    ("cfg_weight", CFG.high + 0.1, False),
    ("cfg_weight", float("nan"), False),
]


@pytest.mark.parametrize("field, value, allowed", EDGES)
@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_command_accepts_and_refuses_sampler_flags_at_the_config_s_bounds(
    command, field, value, allowed, tmp_path, capsys
):
    from training.options import CliError

    parse, steps_flag, cfg_flag = COMMANDS[command]
    flag = steps_flag if field == "steps" else cfg_flag
    assert SamplerConfig.bounds(field).contains(value) is allowed  # the edges are the config's own
    try:
        args = parse([flag, str(value)], tmp_path)
    except (SystemExit, CliError) as exc:
        assert not allowed, f"{command} {flag} {value} refused: {exc} {capsys.readouterr().err}"
        assert "must be" in str(exc) + capsys.readouterr().err  # in SamplerConfig's words, one line
    else:
        assert allowed, f"{command} accepted {flag} {value}"
        name = "sampler_steps" if flag == "--sampler-steps" else field
        assert getattr(args, name) == value


def test_a_training_job_s_yaml_sampler_override_is_held_to_the_same_bounds(tmp_path):
    from training.evaluate import EvalConfig

    config = tmp_path / "eval.yaml"
    config.write_text(f"cfg_weight: {CFG.high + 1}\n", encoding="utf-8")
    with pytest.raises(SystemExit):
        _eval(["--config", str(config)], tmp_path)
    assert EvalConfig.__dataclass_fields__["sampler_steps"].metadata["bounds"] == STEPS


def test_the_seed_is_drawn_in_one_place_with_room_for_the_variants(monkeypatch):
    """core.sampler.random_seed is the one draw (app Generate/Regenerate, synth without --seed, the sampler):
    no other module draws a seed of its own."""
    import re
    from pathlib import Path

    import core.sampler
    from core.request import MAX_SHORT_SEED

    root = Path(__file__).resolve().parent.parent
    draws = re.compile(r"\b(randbelow|randrange|randint)\(|\brandom\.random\(")
    found = {
        path.relative_to(root).as_posix()
        for package in ("app", "core", "training")
        for path in (root / package).rglob("*.py")
        for line in path.read_text(encoding="utf-8").splitlines()
        if draws.search(line) and "seed" in line.lower()
    }
    assert found == {"core/sampler.py"}, found
    monkeypatch.setattr(core.sampler.secrets, "randbelow", lambda n: n - 1)  # the highest seed it may draw
    for variants in (1, 8, 1000):
        seed = core.sampler.random_seed(variants)
        assert seed >= 0 and seed + variants - 1 <= MAX_SHORT_SEED  # every variant's seed fits the seed box


@pytest.mark.parametrize("name", ["steps", "cfg_weight", "temp_min", "temp_max", "top_k", "min_steps"])
def test_a_sampler_setting_is_never_left_unset(name):
    """None means "keep the bundle's" only in a job's override; in the sampler itself it is refused."""
    with pytest.raises(ConfigError):
        dataclasses.replace(SamplerConfig(), **{name: None}).validate()
