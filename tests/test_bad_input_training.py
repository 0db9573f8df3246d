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


# ---- issue 20: the classifier part and judges ---------------------------------------------------------------


def _bundle_with_classifier(test_bundle_path: Path, tmp_path: Path, write) -> Path:
    from core.bundle import CLASSIFIER_FILE, add_part

    bundle = tmp_path / "bundle"
    shutil.copytree(test_bundle_path, bundle)
    add_part(bundle, CLASSIFIER_FILE, write)
    return bundle


def _critic_writer(classes, width=8, features_width=32, meta_width=None):
    import numpy as np

    from core.scoring import SmallCNN, save_critic

    def write(tmp):
        model = SmallCNN(len(classes), width=width)
        if meta_width is not None:
            model.width = meta_width
        features = {"patches": np.random.default_rng(0).normal(0, 1, (8, features_width)).astype(np.float32)}
        save_critic(tmp, model, classes, {}, features)

    return write


def _best_of(tmp_path: Path, bundle: Path, capsys) -> tuple[int, str]:
    from app.synth import main
    from tests.test_bad_input import _mask

    image, mask = _surface(tmp_path / "plate.png"), _mask(tmp_path / "m.png")
    argv = ["--image", str(image), "--mask", str(mask), "--class", "patches", "--best-of", "2", "--seed", "1"]
    code = main([*argv, "--steps", "2", "--model", str(bundle), "--out", str(tmp_path / "out")])
    return code, capsys.readouterr().err


@pytest.mark.parametrize("damage", ["truncated", "features", "width"])
def test_a_damaged_bundle_classifier_is_one_line_in_synth_best_of(tmp_path, test_bundle_path, capsys, damage):
    from core.bundle import CLASSIFIER_FILE, read_bundle_info

    classes = read_bundle_info(test_bundle_path).class_names
    if damage == "truncated":

        def write(tmp):
            _critic_writer(classes)(tmp)
            tmp.write_bytes(tmp.read_bytes()[:-100])

    elif damage == "features":  # real-crop features of another width than the network's (32)
        write = _critic_writer(classes, features_width=12)
    else:  # metadata width 1500: would take gigabytes before failing
        write = _critic_writer(classes, meta_width=1500)
    bundle = _bundle_with_classifier(test_bundle_path, tmp_path, write)
    code, err = _best_of(tmp_path, bundle, capsys)
    assert code != 0
    lines = [line for line in err.splitlines() if "error" in line]
    assert len(lines) == 1 and CLASSIFIER_FILE in lines[0] and "Traceback" not in err


def test_a_pickle_judge_is_one_line_for_eval_and_train_classifier(tmp_path, test_bundle_path, capsys):
    import pickle

    from app.cli import main as defectforge
    from tests.training_fixtures import make_neu_dataset

    marker = tmp_path / "pwned"
    judge = tmp_path / "judge.safetensors"
    judge.write_bytes(pickle.dumps(Path(marker)))
    data = make_neu_dataset(tmp_path / "data", per_class=2)
    bundle = tmp_path / "bundle"
    shutil.copytree(test_bundle_path, bundle)
    for argv in (
        ["train", "classifier", "--bundle", str(bundle), "--data", str(data), "--judge", str(judge)],
        ["eval", str(bundle), "--data", str(data), "--judge", str(judge), "--out", str(tmp_path / "eval")],
    ):
        assert defectforge(argv) != 0
        err = capsys.readouterr().err
        assert "Traceback" not in err and str(judge) in err.splitlines()[-1]
    assert not marker.exists()


def test_a_classifier_width_that_disagrees_with_its_weights_is_refused_before_building_it(
    tmp_path, test_bundle_path, monkeypatch
):
    import torch

    import core.scoring
    from core.bundle import read_bundle_info
    from core.scoring import CriticError, load_critic

    classes = read_bundle_info(test_bundle_path).class_names
    path = tmp_path / "classifier.safetensors"
    built: list[tuple[int, str]] = []
    for meta_width in (1500, 400):
        _critic_writer(classes, meta_width=meta_width)(path)
        built.clear()
        original = core.scoring.SmallCNN

        class Spy(original):
            def __init__(self, num_classes, width=32):
                built.append((width, torch.empty(0).device.type))
                super().__init__(num_classes, width)

        monkeypatch.setattr(core.scoring, "SmallCNN", Spy)
        with pytest.raises(CriticError, match="width"):
            load_critic(path)
        assert all(device == "meta" for _, device in built)  # never allocated at the hand-edited width
        monkeypatch.undo()


def _train_classifier(tmp_path: Path, bundle: Path, capsys, *flags: str) -> tuple[int, str]:
    from app.cli import main as defectforge
    from tests.training_fixtures import make_neu_dataset

    data = make_neu_dataset(tmp_path / "data", per_class=2)
    code = defectforge(["train", "classifier", "--bundle", str(bundle), "--data", str(data), "--epochs", "1", *flags])
    return code, capsys.readouterr().err


def test_a_judge_below_the_stated_accuracy_or_box_count_is_not_added(tmp_path, test_bundle_path, capsys):
    from core.bundle import CLASSIFIER_FILE

    bundle = tmp_path / "bundle"
    shutil.copytree(test_bundle_path, bundle)
    code, err = _train_classifier(tmp_path, bundle, capsys)  # a handful of held-out boxes: below --min-heldout
    assert code != 0 and "not added" in err.strip().splitlines()[-1] and "--min-heldout" in err
    assert not (bundle / CLASSIFIER_FILE).exists()
    code, err = _train_classifier(tmp_path, bundle, capsys, "--min-heldout", "1", "--min-accuracy", "1")
    assert code != 0 or "accuracy 1.000" in err  # a perfect judge on these boxes would pass; any other is refused
    if code != 0:
        assert not (bundle / CLASSIFIER_FILE).exists()


def test_a_judge_is_not_added_to_a_tokenizer_only_bundle(tmp_path, test_bundle_path, capsys):
    import yaml

    from core.bundle import CLASSIFIER_FILE

    bundle = tmp_path / "bundle"
    shutil.copytree(test_bundle_path, bundle)
    meta = yaml.safe_load((bundle / "model.yaml").read_text())
    meta["tokenizer_only"] = True
    (bundle / "model.yaml").write_text(yaml.safe_dump(meta, sort_keys=False))
    code, err = _train_classifier(tmp_path, bundle, capsys, "--min-heldout", "1", "--min-accuracy", "0")
    assert code != 0 and "tokenizer-only" in err.strip().splitlines()[-1]
    assert not (bundle / CLASSIFIER_FILE).exists()


def test_train_classifier_into_a_read_only_bundle_is_one_line(tmp_path, test_bundle_path, capsys, monkeypatch):
    import errno

    import training.classifier

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", str(tmp_path / "bundle" / "model.yaml"))

    monkeypatch.setattr(training.classifier, "add_part", read_only)  # as root, chmod cannot make it read-only
    bundle = tmp_path / "bundle"
    shutil.copytree(test_bundle_path, bundle)
    code, err = _train_classifier(tmp_path, bundle, capsys, "--min-heldout", "1", "--min-accuracy", "0")
    assert code != 0 and "Traceback" not in err
    assert "read-only file system" in err.strip().splitlines()[-1]


@pytest.mark.parametrize("command", [["eval"], ["eval", "downstream"]])
def test_eval_out_naming_an_existing_file_is_one_line(tmp_path, test_bundle_path, capsys, command):
    from app.cli import main as defectforge
    from tests.training_fixtures import make_neu_dataset

    data = make_neu_dataset(tmp_path / "data", per_class=2)
    report = tmp_path / "report"
    report.write_text("mine")
    argv = [*command, str(test_bundle_path), "--data", str(data), "--out", str(report)]
    assert defectforge(argv) != 0
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "is a file" in err
    assert report.read_text() == "mine"
