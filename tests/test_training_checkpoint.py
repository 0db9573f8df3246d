"""Training checkpoints are atomic and pickle-free; the batch plan is a pure function of seed and epoch."""

from __future__ import annotations

import json
import random
from collections import Counter

import numpy as np
import pytest
import torch

import training.checkpoint as ckpt_module
from core.config import transformer_preset
from core.transformer import MaskTransformer
from training.batches import EpochBatches, Position
from training.checkpoint import CheckpointDir, capture_rng, optimizer_from_files, optimizer_to_files, restore_rng
from training.schedules import LRSchedule


def _model():
    torch.manual_seed(0)
    return MaskTransformer(transformer_preset("test", input_size=4))


def test_checkpoint_round_trips_tied_weights_and_optimizer(tmp_path):
    model = _model()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model(torch.zeros(2, 16, dtype=torch.long), torch.zeros(2, dtype=torch.long)).sum().backward()
    opt.step()
    tensors, meta = optimizer_to_files(opt)
    store = CheckpointDir(tmp_path / "ckpt")
    store.save(3, {"model": model}, {"optimizer": tensors}, {"optimizer": meta, "position": {"epoch": 1, "batch": 2}})
    latest = store.latest()
    assert latest.step == 3 and latest.state["position"] == {"epoch": 1, "batch": 2}
    other = MaskTransformer(model.config)
    latest.load_model("model", other)
    assert other.head.weight is other.tok_emb.weight  # still tied
    for (k, a), b in zip(model.state_dict().items(), other.state_dict().values(), strict=True):
        assert torch.equal(a, b), k
    opt2 = torch.optim.AdamW(other.parameters(), lr=1e-3)
    optimizer_from_files(opt2, latest.tensors("optimizer"), latest.state["optimizer"])
    for p1, p2 in zip(model.parameters(), other.parameters(), strict=True):
        if p1 in opt.state:
            assert torch.equal(opt.state[p1]["exp_avg"], opt2.state[p2]["exp_avg"])
            assert torch.equal(opt.state[p1]["step"], opt2.state[p2]["step"])
    assert opt2.param_groups[0]["betas"] == opt.param_groups[0]["betas"]
    assert not any(p.suffix in (".pt", ".pth", ".pkl") for p in (tmp_path / "ckpt").rglob("*"))


def test_checkpoint_files_are_atomic_no_partial_file_on_failure(tmp_path, monkeypatch):
    model = _model()
    store = CheckpointDir(tmp_path / "ckpt", keep=5)
    store.save(1, {"model": model}, {}, {})

    def crash(tensors, path, *args, **kwargs):
        with open(path, "wb") as fh:
            fh.write(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(ckpt_module, "save_file", crash)
    with pytest.raises(OSError, match="disk full"):
        store.save(2, {"model": model}, {"rng": {"x": torch.zeros(3)}}, {})
    names = sorted(p.name for p in (tmp_path / "ckpt").iterdir())
    assert names == ["latest.json", "step_00000001"]
    assert store.latest().step == 1
    assert json.loads((tmp_path / "ckpt" / "latest.json").read_text())["checkpoint"] == "step_00000001"


def test_old_checkpoints_are_pruned_but_the_latest_kept(tmp_path):
    model = _model()
    store = CheckpointDir(tmp_path / "ckpt", keep=2)
    for step in (1, 2, 3):
        store.save(step, {"model": model}, {}, {})
    assert sorted(p.name for p in (tmp_path / "ckpt").glob("step_*")) == ["step_00000002", "step_00000003"]
    assert store.latest().step == 3


def test_rng_streams_come_back_exactly():
    gen = torch.Generator().manual_seed(5)
    torch.manual_seed(1)
    np.random.seed(2)
    random.seed(3)
    tensors, meta = capture_rng({"mask": gen})
    meta = json.loads(json.dumps(meta))  # what the state file stores
    first = (torch.rand(3), np.random.rand(3), random.random(), torch.rand(3, generator=gen))
    restore_rng(tensors, meta, {"mask": gen})
    again = (torch.rand(3), np.random.rand(3), random.random(), torch.rand(3, generator=gen))
    assert torch.equal(first[0], again[0]) and np.array_equal(first[1], again[1])
    assert first[2] == again[2] and torch.equal(first[3], again[3])


def test_batch_plan_is_repeatable_and_resumes_mid_epoch():
    plan = EpochBatches(10, 3, seed=4, n_augmentations=8)
    steps = [item for item, _ in zip(plan.iterate(Position()), range(7), strict=False)]
    full = [batch for _, batch in steps]
    after_four = steps[3][0]  # the position a checkpoint written after step 4 stores
    resumed = [batch for (_, batch), _ in zip(plan.iterate(after_four), range(3), strict=False)]
    assert resumed == full[4:7]
    assert all(0 <= a < 8 for batch in full for _, a, _ in batch)


def test_class_balanced_batches_draw_rare_classes_as_often_as_common_ones():
    labels = [0] * 90 + [1] * 9 + [2] * 1
    plan = EpochBatches(len(labels), 10, seed=0, labels=labels)
    counts = Counter(labels[i] for e in range(20) for batch in plan.epoch(e) for i, _, _ in batch)
    shares = np.array([counts[c] for c in range(3)]) / sum(counts.values())
    assert np.all(np.abs(shares - 1 / 3) < 0.05)


def test_ranks_get_different_shards_of_one_epoch():
    a = EpochBatches(20, 5, seed=1, rank=0, world_size=2).epoch(0)
    b = EpochBatches(20, 5, seed=1, rank=1, world_size=2).epoch(0)
    assert {i for batch in a for i, _, _ in batch}.isdisjoint({i for batch in b for i, _, _ in batch})


def test_learning_rate_warms_up_holds_then_decays_along_a_cosine():
    s = LRSchedule(1.0, total_steps=100, warmup_steps=10, cosine_fraction=0.2, min_lr_ratio=0.1)
    assert s.lr(0) == pytest.approx(0.1) and s.lr(9) == pytest.approx(1.0)
    assert s.lr(50) == 1.0 and s.lr(80) == pytest.approx(1.0)
    assert s.lr(90) == pytest.approx(0.55) and s.lr(100) == pytest.approx(0.1)
