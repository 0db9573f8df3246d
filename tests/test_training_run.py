"""The training run object on its own (a toy job), and which options a run may resume with changed."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from core.config import to_dict
from tests.training_fixtures import read_log
from training.batches import EpochBatches
from training.distributed import DistInfo
from training.options import option, restate
from training.run import LogWindow, RunOptions, StepValues, TrainingRun, changed_options
from training.train_maskgit import MaskGITConfig
from training.train_vq import VQTrainConfig

ONE_PROCESS = DistInfo(0, 1, 0, torch.device("cpu"))


@dataclass(frozen=True)
class ToyConfig(RunOptions):
    steps: int = restate(RunOptions, "steps", 9)
    log_every: int = restate(RunOptions, "log_every", 2)
    checkpoint_every: int = restate(RunOptions, "checkpoint_every", 4)
    eval_every: int = restate(RunOptions, "eval_every", 3)
    device: str = restate(RunOptions, "device", "cpu")
    lr: float = option(0.1, "learning rate")


class Killed(Exception):
    pass


def _toy_run(out: Path, kill_at: int | None = None, **overrides) -> tuple[TrainingRun, torch.nn.Module, list[int]]:
    """A linear model on random batches; a second stream draws noise; a count and a sometimes-value are logged."""
    cfg = ToyConfig(out=str(out), **overrides)
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    noise = torch.Generator().manual_seed(5)
    run = TrainingRun("toy", cfg, ONE_PROCESS, "toy", generators={"noise": noise})
    run.keep({"model": model}, {"optimizer": optimizer})
    measured: list[int] = []

    def step(index: int, batch) -> StepValues:
        x = torch.randn(len(batch), 3) + torch.randn(len(batch), 3, generator=noise)
        loss = model(x).square().mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        value = float(loss.detach())
        sometimes = {"odd_loss": value * 2} if index % 2 else {}
        return StepValues({"loss": value} | sometimes, latest={"lr": cfg.lr}, counts={"calls": 1})

    def evaluate() -> dict[str, float]:
        measured.append(run.step)
        return {"ce": float(model.weight.detach().sum())}

    def kill(step: int) -> None:
        if step == kill_at:
            raise Killed

    batches = EpochBatches(5, 2, seed=0).iterate(run.position)
    run.train(batches, step, ["loss", "odd_loss", "calls", "val_ce"], evaluate, on_step=kill)
    return run, model, measured


def test_the_run_keeps_its_cadence_and_a_killed_run_resumes_to_the_same_logs_and_weights(tmp_path):
    run, model, measured = _toy_run(tmp_path / "straight")
    assert measured == [3, 6, 9]
    assert [int(r["step"]) for r in read_log(tmp_path / "straight")] == [2, 3, 4, 6, 8, 9]
    assert sorted(p.name for p in (tmp_path / "straight/checkpoints").glob("step_*")) == [
        "step_00000008",
        "step_00000009",
    ]
    first = read_log(tmp_path / "straight")[0]
    assert first["calls"] == "2" and first["lr"] == "0.1" and first["odd_loss"] != ""

    with pytest.raises(Killed):
        _toy_run(tmp_path / "killed", kill_at=7)  # the last checkpoint was at step 4
    resumed, resumed_model, _ = _toy_run(tmp_path / "killed")
    assert resumed.step == 9 and resumed.clock.before > 0
    for a, b in zip(read_log(tmp_path / "straight"), read_log(tmp_path / "killed"), strict=True):
        assert {**a, "seconds": "", "peak_rss_mb": ""} == {**b, "seconds": "", "peak_rss_mb": ""}
    assert torch.equal(model.weight, resumed_model.weight)
    straight = load_file(str(tmp_path / "straight/checkpoints/step_00000009/rng.safetensors"))
    killed = load_file(str(tmp_path / "killed/checkpoints/step_00000009/rng.safetensors"))
    assert torch.equal(straight["rank0.gen.noise"], killed["rank0.gen.noise"])


def test_the_bundle_records_provenance_and_carries_the_run_log(tmp_path):
    run, _, _ = _toy_run(tmp_path / "run")
    written = {}

    def save(folder: Path) -> None:
        folder.mkdir(parents=True)
        written.update(run.provenance({"ce": run.last_eval["ce"]}, {"seed": 0}))

    assert run.write_bundle(save, {"loss.png": ["loss"]}) == tmp_path / "run/bundle"
    assert written["job"] == "train toy" and written["steps"] == 9 and written["config"]["lr"] == 0.1
    assert (tmp_path / "run/bundle/train_log/toy.csv").is_file() and (tmp_path / "run/loss.png").is_file()


def test_a_log_row_averages_each_value_over_the_steps_that_reported_it_and_survives_a_resume():
    window = LogWindow()
    window.add(StepValues({"loss": 1.0}, counts={"restarts": 3}))
    window.add(StepValues({"loss": 3.0, "gan_loss": 5.0}))
    resumed = LogWindow(window.state())
    assert resumed.take(ONE_PROCESS) == {"loss": 2.0, "gan_loss": 5.0, "restarts": 3}
    assert resumed.take(ONE_PROCESS) == {}
    # a window saved in the older flat layout starts empty rather than mixing layouts
    assert LogWindow({"loss": 2.0, "n": 2}).take(ONE_PROCESS) == {}


RESUME_SAFE = {
    VQTrainConfig: {
        "out",
        "name",
        "steps",
        "device",
        "threads",
        "workers",
        "checkpoint_every",
        "keep_checkpoints",
        "eval_every",
        "eval_images",
        "log_every",
        "resume",
        "time_limit",
    },
    MaskGITConfig: {
        "out",
        "vq",
        "name",
        "steps",
        "compile",
        "device",
        "threads",
        "checkpoint_every",
        "keep_checkpoints",
        "eval_every",
        "eval_samples",
        "log_every",
        "resume",
        "time_limit",
        "bundle_weights",
        "sampler_steps",
        "cfg_weight",
    },
}


@pytest.mark.parametrize("config_cls", list(RESUME_SAFE), ids=lambda cls: cls.__name__)
def test_a_resume_accepts_changed_resume_safe_options_and_warns_about_every_other(config_cls):
    """The marks on the options decide: a resume-safe option whose mark is removed, or another option marked
    safe, fails here."""
    config = config_cls()
    for field in dataclasses.fields(config_cls):
        before = to_dict(config) | {field.name: "<another value>"}
        changed = changed_options(before, config)
        if field.name in RESUME_SAFE[config_cls]:
            assert changed == [], field.name
        else:
            assert changed == [field.name], field.name


def test_resuming_with_a_changed_learning_rate_warns_and_with_more_steps_does_not(tmp_path, caplog):
    _toy_run(tmp_path / "run", steps=2)
    with caplog.at_level("WARNING"):
        _toy_run(tmp_path / "run", steps=4)
    assert "changed options" not in caplog.text
    with caplog.at_level("WARNING"):
        _toy_run(tmp_path / "run", steps=5, lr=0.2)
    assert "changed options lr 0.1 -> 0.2" in caplog.text and "steps" not in caplog.text.split("changed")[1]


def test_a_time_limit_ends_the_run_at_a_log_row_with_measures_and_a_checkpoint_and_it_resumes(tmp_path):
    run, _, measured = _toy_run(tmp_path / "timed", time_limit=1e-9)
    assert run.step == 2  # the first log row past the limit is the last step
    assert measured == [2]
    assert [int(r["step"]) for r in read_log(tmp_path / "timed")] == [2]
    assert [p.name for p in (tmp_path / "timed/checkpoints").glob("step_*")] == ["step_00000002"]

    resumed, _, measured = _toy_run(tmp_path / "timed")  # no limit now: on to --steps
    assert resumed.step == 9 and measured == [3, 6, 9]
