"""`defectforge train maskgit` after a kill, and under torch.distributed: the run goes on exactly where it stopped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from core.bundle import load_bundle
from tests.training_fixtures import ddp_maskgit_worker, free_port, make_token_cache, maskgit_config, read_log
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


def test_two_processes_train_in_step_under_torch_distributed(cache, tmp_path):
    """world_size 2 with the gloo backend, as torchrun would start it: DDP keeps both replicas identical."""
    import torch.multiprocessing as mp

    out, results = tmp_path / "ddp", tmp_path / "results"
    results.mkdir()
    mp.start_processes(ddp_maskgit_worker, args=(2, free_port(), str(cache), str(out), str(results)), nprocs=2,
                       join=True, start_method="spawn")
    a, b = load_file(str(results / "rank0.safetensors")), load_file(str(results / "rank1.safetensors"))
    for key in a:
        assert torch.equal(a[key], b[key]), key
    bundle = load_bundle(out / "bundle")
    assert bundle.info.provenance["world_size"] == 2
    state = json.loads((out / "checkpoints/step_00000003/state.json").read_text())
    assert state["world_size"] == 2 and len(state["rng"]) == 2

    # A 2-process checkpoint resumes single-process too (random streams restart, with a warning).
    train_maskgit(_config(cache, out, steps=4, batch_size=4, checkpoint_every=2, eval_every=3, log_every=1,
                          warmup_steps=1))
    assert json.loads((out / "checkpoints/latest.json").read_text())["step"] == 4
