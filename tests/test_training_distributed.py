"""Training under torch.distributed (world size 2, gloo, as torchrun starts it) on one CPU machine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp
from safetensors.torch import load_file

from core.bundle import load_bundle, read_bundle_info
from tests.training_fixtures import (
    ddp_maskgit_worker,
    ddp_vq_worker,
    free_port,
    make_neu_dataset,
    make_token_cache,
    maskgit_config,
)
from training.train_maskgit import train_maskgit


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return make_token_cache(tmp_path_factory.mktemp("maskgit-ddp"))


def _config(cache: Path, out: Path, **overrides):
    return maskgit_config(cache, out, **overrides)


def test_two_processes_train_in_step_under_torch_distributed(cache, tmp_path):
    """world_size 2 with the gloo backend, as torchrun would start it: DDP keeps both replicas identical."""
    out, results = tmp_path / "ddp", tmp_path / "results"
    results.mkdir()
    mp.start_processes(
        ddp_maskgit_worker,
        args=(2, free_port(), str(cache), str(out), str(results)),
        nprocs=2,
        join=True,
        start_method="spawn",
    )
    a, b = load_file(str(results / "rank0.safetensors")), load_file(str(results / "rank1.safetensors"))
    for key in a:
        assert torch.equal(a[key], b[key]), key
    bundle = load_bundle(out / "bundle")
    assert bundle.info.provenance["world_size"] == 2
    state = json.loads((out / "checkpoints/step_00000003/state.json").read_text())
    assert state["world_size"] == 2 and len(state["rng"]) == 2

    # A 2-process checkpoint resumes single-process too (random streams restart, with a warning).
    train_maskgit(
        _config(cache, out, steps=4, batch_size=4, checkpoint_every=2, eval_every=3, log_every=1, warmup_steps=1)
    )
    assert json.loads((out / "checkpoints/latest.json").read_text())["step"] == 4


def test_vq_trains_in_step_under_torch_distributed(tmp_path):
    """DDP keeps the VQ replicas identical; the discriminator's hand-averaged gradients keep its replicas equal."""
    data = make_neu_dataset(tmp_path / "data", per_class=2)
    out, results = tmp_path / "ddp", tmp_path / "results"
    results.mkdir()
    mp.start_processes(
        ddp_vq_worker,
        args=(2, free_port(), str(data), str(out), str(results)),
        nprocs=2,
        join=True,
        start_method="spawn",
    )
    a, b = load_file(str(results / "rank0.safetensors")), load_file(str(results / "rank1.safetensors"))
    for key in a:
        if key != "quantize.codebook_used":  # each rank's own recent codes, for the usage statistic
            assert torch.equal(a[key], b[key]), key
    disc = load_file(str(out / "checkpoints/step_00000003/disc.safetensors"))
    assert disc and read_bundle_info(out / "bundle").provenance["world_size"] == 2
