"""`defectforge train ...`: options come from the config dataclass, a YAML file and flags; mistakes are one line."""

from __future__ import annotations

import pytest

from app.cli import main as defectforge
from core.flags import add_config_flags
from tests.training_fixtures import make_neu_dataset
from training.options import OneLineParser, build_config
from training.train_maskgit import MaskGITConfig
from training.train_vq import VQTrainConfig


def _one_line_error(capsys, argv: list[str]) -> str:
    assert defectforge(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err and "\n" not in err, err
    assert "Traceback" not in err
    return err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train"], "required"),
        (["train", "nope"], "invalid choice"),
        (["train", "vq"], "--data is required"),
        (["train", "vq", "--data", "/no/such/folder", "--out", "x"], "--data /no/such/folder: folder not found"),
        (["train", "vq", "--data", "d", "--steps", "many"], "invalid int value"),
        (["train", "vq", "--data", "d", "--out", "o", "--perceptual", "vgg"], "invalid choice"),
        (["train", "maskgit", "--tokens", "t", "--out", "o", "--lr", "0"], "--lr must be > 0"),
        (["train", "maskgit", "--tokens", "/no/cache", "--out", "o"], "folder not found"),
        (["train", "maskgit", "--tokens", ".", "--out", "o"], "not a token cache"),
        (["train", "tokenize", "--data", "d", "--out", "o"], "--vq is required"),
        (["train", "tokenize", "--config", "/no/such.yaml"], "not found"),
        (["eval"], "required"),
        (["eval", "/no/bundle", "--data", "d"], "not found"),
    ],
)
def test_cli_mistakes_are_one_line_errors(capsys, tmp_path, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    assert message in _one_line_error(capsys, argv)


def test_bad_values_in_a_yaml_config_are_one_line_errors(capsys, tmp_path):
    (tmp_path / "typo.yaml").write_text("stepz: 5\n")
    assert "unknown keys ['stepz']" in _one_line_error(capsys, ["train", "vq", "--config", str(tmp_path / "typo.yaml")])
    (tmp_path / "broken.yaml").write_text("steps: [1\n")
    assert "not valid YAML" in _one_line_error(capsys, ["train", "vq", "--config", str(tmp_path / "broken.yaml")])


def test_checkpoints_that_do_not_exist_or_do_not_fit_are_one_line_errors(capsys, tmp_path):
    data = make_neu_dataset(tmp_path / "data", per_class=1)
    base = ["train", "vq", "--data", str(data), "--out", str(tmp_path / "o")]
    err = _one_line_error(capsys, [*base, "--init-llamagen", str(tmp_path / "missing.pt")])
    assert err.endswith("missing.pt: file not found")
    # Found but unusable: the job has started (its log lines come first); the error is still one line.
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    assert defectforge([*base, "--init-llamagen", str(tmp_path / "junk.pt")]) == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("defectforge train vq: error: --init-llamagen") and "not a loadable" in last


def test_flags_beat_the_yaml_file_which_beats_the_defaults(tmp_path):
    (tmp_path / "job.yaml").write_text("steps: 3\nlr: 0.5\nbalance-classes: false\n")
    parser = OneLineParser(prog="t")
    parser.add_argument("--config")
    add_config_flags(parser, MaskGITConfig)
    args = parser.parse_args(
        ["--config", str(tmp_path / "job.yaml"), "--lr", "0.01", "--tokens", str(tmp_path), "--out", "o"]
    )
    cfg = build_config(MaskGITConfig, args, args.config)
    assert (cfg.steps, cfg.lr, cfg.balance_classes, cfg.tokens) == (3, 0.01, False, str(tmp_path))
    assert cfg.weight_decay == MaskGITConfig.weight_decay  # untouched default


def test_every_config_field_has_a_flag_with_help():
    parser = OneLineParser(prog="t")
    add_config_flags(parser, VQTrainConfig)
    text = parser.format_help()
    for flag in (
        "--disc-start",
        "--init-llamagen",
        "--train {all,decoder}",
        "--perceptual {auto,lpips,ssim,critic,none}",
        "--disc-adaptive",
        "--no-augment",
    ):
        assert flag in text, flag


def _job_configs() -> dict[str, type]:
    from training import evaluate, train_cli

    tables = {"train": train_cli.jobs(), "eval": evaluate.jobs()}
    return {f"{command} {name}": job.config for command, jobs in tables.items() for name, job in jobs.items()}


def _home(cls: type, name: str) -> type:
    """The most basic class of `cls` that declares option `name`: where its help and default are written."""
    return next(k for k in reversed(cls.__mro__) if name in getattr(k, "__dataclass_fields__", {}))


# Each training recipe's own value (LlamaGen's for vq, Halton-MaskGIT's for maskgit), equal by coincidence: a change
# to one recipe is no change to the other.
RECIPE_VALUES = {"grad_clip"}


def test_an_option_two_jobs_share_is_written_once_on_a_base_both_inherit():
    import dataclasses

    seen: dict[tuple, tuple[str, type]] = {}
    for job, cls in _job_configs().items():
        for f in [f for f in dataclasses.fields(cls) if f.name not in RECIPE_VALUES]:
            key = (f.name, f.metadata["help"], f.default)
            first_job, home = seen.setdefault(key, (job, _home(cls, f.name)))
            assert _home(cls, f.name) is home, f"--{f.name} is written in {first_job} and again in {job}"


def test_eval_and_eval_downstream_are_jobs_of_one_table_and_answer_in_their_own_names(capsys, tmp_path, monkeypatch):
    from training.evaluate import jobs

    monkeypatch.chdir(tmp_path)
    assert set(jobs()) == {"", "downstream"}  # the report is `eval BUNDLE`
    assert "defectforge eval downstream: error:" in _one_line_error(capsys, ["eval", "downstream"])
    err = _one_line_error(capsys, ["eval", str(tmp_path / "no-bundle"), "--data", str(tmp_path)])
    assert err.startswith("defectforge eval: error: model bundle") and "not found" in err
    err = _one_line_error(capsys, ["eval", "downstream", str(tmp_path / "no-bundle"), "--data", str(tmp_path)])
    assert err.startswith("defectforge eval downstream: error: model bundle") and "not found" in err
    # Only `downstream` names a job: a bundle folder called anything else is the report's bundle.
    argv = ["eval", "report", "--data", str(tmp_path)]
    assert "error: model bundle report: folder not found" in _one_line_error(capsys, argv)
