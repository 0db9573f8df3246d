"""`defectforge train maskgit` after a kill: the run goes on exactly where it stopped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from tests.training_fixtures import make_token_cache, maskgit_config, read_log
from training.train_maskgit import train_maskgit


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return make_token_cache(tmp_path_factory.mktemp("maskgit-resume"))


def _config(cache: Path, out: Path, **overrides):
    return maskgit_config(cache, out, **overrides)


class Killed(Exception):
    pass


def test_resume_after_a_kill_continues_exactly_where_it_stopped(cache, tmp_path):
    train_maskgit(_config(cache, tmp_path / "straight"))

    def kill_at_5(step, model):
        if step == 5:  # the last checkpoint was at step 3: steps 4-5 are lost and redone
            raise Killed

    with pytest.raises(Killed):
        train_maskgit(_config(cache, tmp_path / "killed"), on_step=kill_at_5)
    train_maskgit(_config(cache, tmp_path / "killed"))
    for name in ("model", "ema", "optimizer"):
        a = load_file(str(tmp_path / "straight/checkpoints/step_00000008" / f"{name}.safetensors"))
        b = load_file(str(tmp_path / "killed/checkpoints/step_00000008" / f"{name}.safetensors"))
        assert a.keys() == b.keys()
        for key in a:
            assert torch.equal(a[key], b[key]), (name, key)
    straight, resumed = read_log(tmp_path / "straight"), read_log(tmp_path / "killed")
    assert [r["step"] for r in straight] == [r["step"] for r in resumed]
    assert [r["loss"] for r in straight] == [r["loss"] for r in resumed]
    state = json.loads((tmp_path / "killed/checkpoints/step_00000008/state.json").read_text())
    assert state["step"] == 8 and set(state["position"]) == {"epoch", "batch"}
