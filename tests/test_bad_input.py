"""Bad input, as users and crashes hand it over: nothing is written outside the output folder, nothing crashes
with a traceback, no sample is lost or doubled. One test (or a parametrised set) per class of input; the whole
table, with what each case must do, is docs/reliability.md.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

import core.export as export_module
from core.bundle import BundleError, read_bundle_info
from core.config import ConfigError, SamplerConfig, from_dict
from core.data.class_map import ClassMapError, class_map_from_dict
from core.export import DatasetExporter, ExportError
from core.names import ClassNameError, check_class_name
from core.request import InpaintRequest, InpaintResult, MaskLayer, VariantResult
from tests.conftest import TEST_CLASSES

HOSTILE_CLASS_NAMES = ["..", "../../ESCAPE", "/abs/olute", "a/b", "", " ", "a\\b", "C:", "nul\0byte", "."]


# ---- helpers ---------------------------------------------------------------------------------------------------


def _surface(path: Path, size=(64, 64), seed=0) -> Path:
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(60, 200, (size[1], size[0]), dtype=np.uint8)).save(path)
    return path


def _mask(path: Path, box=(20, 20, 40, 36), size=(64, 64)) -> Path:
    mask = np.zeros((size[1], size[0]), np.uint8)
    mask[box[1] : box[3], box[0] : box[2]] = 255
    Image.fromarray(mask).save(path)
    return path


def _result(defect_class: str = "scratches", seed: int = 7, size=(48, 32)) -> InpaintResult:
    width, height = size
    image = np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8)
    mask = np.zeros((height, width), bool)
    mask[8:20, 10:30] = True
    request = InpaintRequest(image, [MaskLayer(mask, defect_class)], seed=seed)
    from core.annotations import mask_boxes

    variant = VariantResult(seed, image, {defect_class: mask}, mask_boxes(mask, defect_class))
    return InpaintResult(request, [variant], "test-bundle", "f" * 64, 0.1)


def _files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


def _bundle_copy(test_bundle_path: Path, tmp_path: Path, edit) -> Path:
    bundle = tmp_path / "bundle"
    shutil.copytree(test_bundle_path, bundle)
    meta = yaml.safe_load((bundle / "model.yaml").read_text())
    edit(meta)
    (bundle / "model.yaml").write_text(yaml.safe_dump(meta, sort_keys=False))
    return bundle


def _synth(argv: list[str], capsys) -> tuple[int, str]:
    from app.synth import main

    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.err


def _synth_plate(tmp_path: Path, bundle: Path, capsys, *flags: str, out: Path | str | None = None) -> tuple[int, str]:
    """synth on a fresh plate with a painted mask, class scratches, into `out` (default tmp_path/out)."""
    image, mask = _surface(tmp_path / "plate.png"), _mask(tmp_path / "m.png")
    out = tmp_path / "out" if out is None else out
    argv = ["--image", str(image), "--mask", str(mask), "--class", "scratches", "--out", str(out)]
    return _synth([*argv, "--model", str(bundle), *flags], capsys)


# ---- 1. class names never become paths ---------------------------------------------------------------------


@pytest.mark.parametrize("name", HOSTILE_CLASS_NAMES)
def test_a_hostile_class_name_is_refused_with_one_message(name):
    with pytest.raises(ClassNameError, match="bad class name"):
        check_class_name(name, "model.yaml")


@pytest.mark.parametrize("name", ["crazing", "rolled-in_scale", "pitted_surface", "1_chongkong", "Sc", "裂纹"])
def test_real_class_names_are_accepted(name):
    assert check_class_name(name) == name


@pytest.mark.parametrize("name", HOSTILE_CLASS_NAMES)
def test_a_bundle_with_a_hostile_class_name_is_refused_on_load(test_bundle_path, tmp_path, name):
    def edit(meta):
        meta["classes"][0] = name

    bundle = _bundle_copy(test_bundle_path, tmp_path, edit)
    with pytest.raises(BundleError, match="bad class name"):
        read_bundle_info(bundle)


@pytest.mark.parametrize("name", HOSTILE_CLASS_NAMES)
def test_the_exporter_refuses_hostile_class_names_before_writing_anything(tmp_path, name):
    out = tmp_path / "data" / "out"
    with pytest.raises(ExportError, match="bad class name"):
        DatasetExporter(out, ["crazing", name])
    assert not (tmp_path / "data").exists()


def test_an_export_path_outside_the_dataset_folder_is_never_written(tmp_path, monkeypatch):
    """Even a class that slipped past every check (here: forced in) cannot write outside its folder, and the
    exporter stops at once instead of retrying ids for minutes."""
    out = tmp_path / "data" / "out"
    exporter = DatasetExporter(out, TEST_CLASSES)
    exporter.class_names.append("../../ESCAPE")
    checked: list[Path] = []
    real_inside = export_module.inside
    monkeypatch.setattr(export_module, "inside", lambda folder, path: checked.append(path) or real_inside(folder, path))
    with pytest.raises(ExportError, match="not inside"):
        exporter.export(_result("../../ESCAPE"))
    assert len({path.stem for path in checked}) == 1  # refused at the first id, not retried with new ones
    assert not any(p for p in _files_under(tmp_path) if out not in p.parents)
    assert not list(out.rglob("*.png"))


def test_train_classes_option_refuses_a_path_as_a_class_name(tmp_path):
    from training.train_vq import VQTrainConfig

    (tmp_path / "data").mkdir()
    with pytest.raises(ConfigError, match="bad class name"):
        from_dict(
            VQTrainConfig,
            {"data": str(tmp_path / "data"), "out": str(tmp_path / "run"), "classes": ("crazing", "../../ESCAPE")},
        )


def test_train_vq_cli_reports_a_hostile_class_name_in_one_line(tmp_path, capsys):
    from training.train_cli import main

    (tmp_path / "data").mkdir()
    code = main(["vq", "--data", str(tmp_path / "data"), "--out", str(tmp_path / "run"), "--classes", "a/b"])
    err = capsys.readouterr().err
    assert code == 2 and "bad class name" in err and "Traceback" not in err
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_train_maskgit_refuses_a_non_finite_learning_rate_in_one_line(tmp_path, capsys, value):
    from training.train_cli import main

    code = main(["maskgit", "--tokens", str(tmp_path), "--out", str(tmp_path / "run"), "--lr", value])
    err = capsys.readouterr().err
    assert code == 2 and "--lr" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("data", [{"Sc": "../../ESCAPE"}, {"classes": ["ok", "a/b"], "map": {}}])
def test_a_class_map_cannot_name_a_path(data):
    with pytest.raises(ClassMapError, match="bad class name"):
        class_map_from_dict(data)


def test_synth_refuses_an_empty_out(tmp_path, test_bundle_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, err = _synth_plate(tmp_path, test_bundle_path, capsys, out="")
    assert code != 0 and "empty path" in err
    assert not (tmp_path / "manifest.jsonl").exists() and not (tmp_path / "images").exists()


# ---- 4-9. arguments and bundles that crashed or exhausted memory -------------------------------------------


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--temperature", "nan"], "temperatures"),
        (["--temperature", "1e30"], "temperatures"),
        (["--temperature", "2:0.5"], "low to high"),
        (["-n", "10000"], "at most|from 1 to 1000"),
        (["--seed", "9223372036854775808"], "--seed must be from 0 to 9223372036854775807"),
        (["--val-fraction", "nan"], "validation fraction"),
        (["--val-fraction", "1"], "validation fraction"),
    ],
)
def test_synth_refuses_absurd_settings_in_one_line(tmp_path, test_bundle_path, capsys, flags, message):
    import re

    out = tmp_path / "out"
    code, err = _synth_plate(tmp_path, test_bundle_path, capsys, *flags)
    assert code == 1 and re.search(message, err) and "Traceback" not in err
    assert not (out / "manifest.jsonl").exists()


@pytest.mark.parametrize("value", ["nan", "inf", "-5"])
def test_synth_s_cfg_flag_refuses_absurd_weights_as_a_usage_error(tmp_path, test_bundle_path, capsys, value):
    """The flag carries SamplerConfig's Bounds, so argparse refuses it (exit 2) in the config's words."""
    out = tmp_path / "out"
    code, err = _synth_plate(tmp_path, test_bundle_path, capsys, "--cfg", value)
    assert code == 2 and "CFG weight" in err and "Traceback" not in err
    assert not (out / "manifest.jsonl").exists()


@pytest.mark.parametrize(
    "changes",
    [
        dict(cfg_weight=float("nan")),
        dict(cfg_weight=float("inf")),
        dict(cfg_weight=-5.0),
        dict(temp_min=float("nan")),
        dict(temp_max=1e30),
        dict(temp_min=2.0, temp_max=0.5),
        dict(temp_max=float("inf")),
        dict(steps=10**9),
        dict(steps=0),
        dict(steps=3.5),
        dict(steps=True),
        dict(top_k=-1),
        dict(top_k=float("nan")),
        dict(min_steps=0),
        dict(min_steps=float("nan")),
        dict(randomize="no"),
        dict(scale_steps_to_mask=None),
    ],
)
def test_sampler_config_owns_its_bounds(changes):
    with pytest.raises(ConfigError):
        SamplerConfig(**changes).validate()


def test_the_largest_seed_is_accepted(tmp_path, test_bundle_path, capsys):
    out = tmp_path / "out"
    code, err = _synth_plate(tmp_path, test_bundle_path, capsys, "--seed", "9223372036854775807", "--steps", "4")
    assert code == 0, err
    [record] = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    assert record["seed"] == 2**63 - 1


def test_many_variants_run_in_memory_bounded_batches(tmp_path, test_bundle_path, capsys, monkeypatch):
    import core.synth as synth

    batches = []
    original = synth.InpaintRequest

    def recording(*args, **kwargs):
        batches.append((kwargs["seed"], kwargs["variants"]))
        return original(*args, **kwargs)

    monkeypatch.setattr(synth, "InpaintRequest", recording)
    monkeypatch.setattr(synth, "MAX_BATCH", 2)
    out = tmp_path / "out"
    code, err = _synth_plate(tmp_path, test_bundle_path, capsys, "-n", "5", "--seed", "10", "--steps", "4")
    assert code == 0, err
    assert batches == [(10, 2), (12, 2), (14, 1)]
    seeds = sorted(json.loads(line)["seed"] for line in (out / "manifest.jsonl").read_text().splitlines())
    assert seeds == [10, 11, 12, 13, 14]


@pytest.mark.parametrize("size", [(1, 1), (3, 3)])
def test_auto_mask_on_a_tiny_image_is_one_line(tmp_path, test_bundle_path, capsys, size):
    image = _surface(tmp_path / "tiny.png", size=size)
    code, err = _synth(
        [
            "--image",
            str(image),
            "--auto-mask",
            "--class",
            "scratches",
            "--out",
            str(tmp_path / "o"),
            "--model",
            str(test_bundle_path),
        ],
        capsys,
    )
    assert code == 1 and "too small" in err and "Traceback" not in err


def test_a_tiny_image_in_a_batch_is_reported_and_the_batch_goes_on(tmp_path, test_bundle_path, capsys):
    folder = tmp_path / "images"
    folder.mkdir()
    _surface(folder / "a_tiny.png", size=(3, 3))
    _surface(folder / "b_plate.png")
    out = tmp_path / "out"
    code, err = _synth(
        [
            "--images",
            str(folder),
            "--auto-mask",
            "--class",
            "scratches",
            "--out",
            str(out),
            "--model",
            str(test_bundle_path),
            "--seed",
            "1",
            "--steps",
            "4",
        ],
        capsys,
    )
    assert code == 1 and "skipped a_tiny.png" in err
    [record] = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    assert Path(record["source_path"]).name == "b_plate.png"


@pytest.mark.parametrize(
    "section, changes, message",
    [
        ("transformer", {"heads": 0}, "heads must be from 1"),
        ("transformer", {"hidden_dim": 10**12}, "hidden_dim must be from 1"),
        ("transformer", {"depth": "six"}, "depth must be a whole number"),
        ("vq", {"ch_mult": "abc"}, "ch_mult must be a list"),
        ("vq", {"norm_groups": 0}, "norm_groups must be from 1"),
        ("sampler", {"steps": "many"}, "steps must be a whole number"),
    ],
)
def test_a_model_yaml_with_bad_sizes_or_types_is_refused_before_building(
    test_bundle_path, tmp_path, section, changes, message
):
    bundle = _bundle_copy(test_bundle_path, tmp_path, lambda meta: meta[section].update(changes))
    with pytest.raises(BundleError, match=message):
        read_bundle_info(bundle)


def test_a_yaml_alias_bomb_is_refused_at_once(test_bundle_path, tmp_path):
    bundle = tmp_path / "bundle"
    shutil.copytree(test_bundle_path, bundle)
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for index in range(1, 9):
        previous = chr(ord("a") + index - 1)
        name = chr(ord("a") + index)
        lines.append(f"{name}: &{name} [{', '.join(['*' + previous] * 9)}]")
    (bundle / "model.yaml").write_text("\n".join(lines) + "\n")
    with pytest.raises(BundleError, match="expands to more than"):  # counted before anything is built
        read_bundle_info(bundle)


def test_the_pickle_refusal_names_commands_that_exist(test_bundle_path, tmp_path):
    import torch

    from app.cli import COMMANDS
    from core.bundle import load_bundle

    bundle = tmp_path / "bundle"
    shutil.copytree(test_bundle_path, bundle)
    torch.save({"w": torch.zeros(1)}, bundle / "transformer.safetensors")
    with pytest.raises(BundleError, match="pickle") as caught:
        load_bundle(bundle, verify=False)
    message = str(caught.value)
    assert "model import" not in message
    for command in ("train vq --init-llamagen", "train maskgit --init-upstream"):
        assert command in message and command.split()[0] in COMMANDS


# ---- 10-12. nothing lost, nothing doubled ------------------------------------------------------------------


def test_two_writers_of_the_same_sample_write_it_once(tmp_path):
    out = tmp_path / "out"
    first, second = DatasetExporter(out, TEST_CLASSES), DatasetExporter(out, TEST_CLASSES)
    result = _result()
    assert first.export(result, unless_exported=True) is not None
    assert second.export(result, unless_exported=True) is None
    lines = (out / "manifest.jsonl").read_text().splitlines()
    assert len(lines) == 1
    assert len(list((out / "images" / "scratches").iterdir())) == 1


def test_two_identical_synth_commands_at_once_write_each_sample_once(tmp_path, test_bundle_path):
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    image, mask = _surface(tmp_path / "plate.png"), _mask(tmp_path / "m.png")
    out = tmp_path / "out"
    argv = [
        sys.executable,
        "-m",
        "app.synth",
        "--image",
        str(image),
        "--mask",
        str(mask),
        "--class",
        "scratches",
        "-n",
        "3",
        "--seed",
        "5",
        "--steps",
        "4",
        "--out",
        str(out),
        "--model",
        str(test_bundle_path),
    ]
    env = {**__import__("os").environ, "PYTHONPATH": str(root), "OMP_NUM_THREADS": "1"}
    runs = [subprocess.Popen(argv, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    for run in runs:
        _, err = run.communicate(timeout=300)
        assert run.returncode == 0, err.decode()
    records = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    assert sorted(r["seed"] for r in records) == [5, 6, 7]
    assert len({r["key"] for r in records}) == 3
    assert len(list((out / "images" / "scratches").iterdir())) == 3


def test_temp_files_left_by_a_killed_export_are_cleaned_up(tmp_path):
    out = tmp_path / "out"
    DatasetExporter(out, TEST_CLASSES).export(_result(seed=1))
    leftovers = [
        out / "images" / "scratches" / ".x_s3.png.0123abcd.tmp",
        out / "masks" / "scratches" / ".x_s3.png.89abcdef.tmp",
        out / "annotations" / ".x_s3.xml.00000000.tmp",
        out / "labels" / ".x_s3.txt.ffffffff.tmp",
        out / ".classes.txt.12345678.tmp",
    ]
    for path in leftovers:
        path.write_bytes(b"partial")
    keep = out / "images" / "scratches" / ".notes"
    keep.write_text("not ours")
    DatasetExporter(out, TEST_CLASSES).export(_result(seed=2))
    assert not any(path.exists() for path in leftovers)
    assert keep.exists()


def test_a_manifest_cut_off_mid_line_does_not_swallow_the_next_record(tmp_path):
    out = tmp_path / "out"
    exporter = DatasetExporter(out, TEST_CLASSES)
    exporter.export(_result(seed=1))
    manifest = out / "manifest.jsonl"
    whole = manifest.read_text().splitlines()[0]
    manifest.write_text(whole + "\n" + whole.replace('"seed": 1', '"seed": 9')[:-1].replace("_s1", "_s9"))
    new_id = DatasetExporter(out, TEST_CLASSES).export(_result(seed=2))
    records = DatasetExporter(out, TEST_CLASSES).records()
    assert [r["id"] for r in records] == [json.loads(whole)["id"], new_id]
    assert manifest.read_text().endswith("\n")
