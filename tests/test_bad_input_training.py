"""Issue 11, damaged training state: checkpoints, token caches, and what `data inspect` must find (the rest of
the bad-input regression tests are in test_bad_input.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.test_bad_input import _surface

# ---- 13-14. damaged checkpoints and token caches -------------------------------------------------------------


def _checkpoints(tmp_path: Path, steps=(1, 2), keep: int = 2):
    import torch

    from training.checkpoint import CheckpointDir

    store = CheckpointDir(tmp_path / "ckpt", keep=keep)
    model = torch.nn.Linear(3, 2)
    for step in steps:
        store.save(step, {"model": model}, {}, {"position": step})
    return store, model


def test_a_truncated_latest_checkpoint_falls_back_to_the_intact_one(tmp_path, caplog):
    store, _ = _checkpoints(tmp_path)
    damaged = store.root / "step_00000002" / "model.safetensors"
    damaged.write_bytes(damaged.read_bytes()[:-4])
    latest = store.latest()
    assert latest.step == 1
    assert "step_00000002" in caplog.text and "damaged" in caplog.text


def test_a_damaged_latest_json_is_named_and_the_newest_checkpoint_used(tmp_path, caplog):
    store, _ = _checkpoints(tmp_path)
    (store.root / "latest.json").write_text("")
    assert store.latest().step == 2
    assert "latest.json is damaged" in caplog.text


def test_a_deleted_latest_json_resumes_and_never_prunes_the_run(tmp_path, caplog):
    store, model = _checkpoints(tmp_path, steps=(40, 50))
    (store.root / "latest.json").unlink()
    assert store.latest().step == 50
    assert "latest.json is missing" in caplog.text
    store.save(3, {"model": model}, {}, {})  # even a save of an earlier step deletes no later checkpoint
    assert {p.name for p in store.root.glob("step_*")} >= {"step_00000040", "step_00000050"}


def test_every_checkpoint_damaged_is_one_error_naming_them(tmp_path):
    store, _ = _checkpoints(tmp_path)
    for path in store.root.glob("step_*/model.safetensors"):
        path.write_bytes(b"junk")
    with pytest.raises(ValueError, match="no intact checkpoint.*step_00000002"):
        store.latest()


@pytest.fixture(scope="module")
def token_cache(tmp_path_factory):
    from tests.training_fixtures import make_token_cache

    return make_token_cache(tmp_path_factory.mktemp("tokens"))


def _damaged_cache(token_cache: Path, tmp_path: Path, damage) -> Path:
    cache = tmp_path / "cache"
    shutil.copytree(token_cache, cache)
    index = json.loads((cache / "index.json").read_text())
    damage(cache, index)
    (cache / "index.json").write_text(json.dumps(index))
    return cache


def _truncate_shard(cache: Path, index: dict) -> None:
    shard = cache / index["shards"][0]["file"]
    shard.write_bytes(shard.read_bytes()[:-10])


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda cache, index: index["shards"][0].update(file="../../../../etc/passwd"), "not a file name inside"),
        (
            lambda cache, index: index["shards"][0].update(file=str(cache / "shard_00000.safetensors")),
            "not a file name inside",
        ),
        (_truncate_shard, "damaged"),
        (lambda cache, index: index["shards"][0].update(count=index["shards"][0]["count"] + 5), "samples the index"),
        (lambda cache, index: index.update(codebook_size=1), "outside the codebook"),
    ],
)
def test_a_damaged_token_cache_is_one_error_and_nothing_outside_it_is_opened(
    token_cache, tmp_path, damage, message, monkeypatch
):
    import training.tokenize as tokenize_module
    from training.jobs import JobError
    from training.tokenize import TokenCache

    cache = _damaged_cache(token_cache, tmp_path, damage)
    opened = []
    real_load = tokenize_module.load_file
    monkeypatch.setattr(tokenize_module, "load_file", lambda path: opened.append(path) or real_load(path))
    with pytest.raises(JobError, match=message):
        TokenCache(cache)
    assert all(Path(path).parent == cache for path in opened)


def test_tokenize_removes_the_temp_folder_a_killed_run_left(token_cache, tmp_path):
    from tests.training_fixtures import make_neu_dataset, make_vq_bundle
    from training.tokenize import TokenizeConfig, tokenize

    data = make_neu_dataset(tmp_path / "data", per_class=1, size=64)
    bundle = make_vq_bundle(tmp_path / "vq")
    leftover = tmp_path / ".tokk.ab12cd.tmp"
    leftover.mkdir()
    tokenize(TokenizeConfig(data=str(data), out=str(tmp_path / "tokk"), vq=str(bundle), augmentations=1))
    assert not leftover.exists() and (tmp_path / "tokk" / "index.json").exists()
    assert not list(tmp_path.glob(".tokk.*"))


# ---- 15. inspect finds what training would trip on ---------------------------------------------------------


def test_inspect_reports_a_truncated_image_that_training_cannot_read(tmp_path, capsys):
    from training.data_cli import main
    from training.datasets import prepare, read_dataset

    root = tmp_path / "data"
    for name in ("crazing", "scratches"):
        (root / name).mkdir(parents=True)
        for index in range(2):
            _surface(root / name / f"{name}_{index}.png", seed=index)
    broken = root / "crazing" / "crazing_1.png"
    broken.write_bytes(broken.read_bytes()[:200])  # header intact, pixels cut off
    dataset = read_dataset(root)
    from training.datasets import DataError

    with pytest.raises(DataError):  # what training hits
        prepare(next(s for s in dataset.samples if s.image == broken), 32)
    assert main(["inspect", str(root), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert [p["path"] for p in summary["problems"]] == [str(broken)]
