"""`defectforge train state`: a run packed into one bf16 file resumes elsewhere, where it stopped."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from app.cli import main as defectforge
from tests.training_fixtures import make_neu_dataset, read_log

pytestmark = pytest.mark.usefixtures("restore_logging")


def _vq(data: Path, out: Path, steps: int) -> int:
    args = ["train", "vq", "--data", str(data), "--out", str(out), "--preset", "vq16-test", "--image-size", "64"]
    args += ["--steps", str(steps), "--batch-size", "2", "--checkpoint-every", "2", "--eval-every", "100"]
    return defectforge(args + ["--disc-ndf", "8", "--disc-start", "2", "--val-fraction", "0.2", "--log-every", "1"])


def test_a_packed_run_resumes_on_another_machine_from_its_step(tmp_path, capsys):
    data = make_neu_dataset(tmp_path / "data", per_class=1)
    first, packed, second = tmp_path / "first", tmp_path / "state.safetensors", tmp_path / "second"
    assert _vq(data, first, 4) == 0
    state = ["train", "state", "--file", str(packed)]
    assert defectforge([*state, "--run", str(first)]) == 0
    latest = first / "checkpoints" / "step_00000004"
    size = sum(f.stat().st_size for f in latest.glob("*"))
    assert packed.stat().st_size < 0.7 * size  # bf16: about half
    assert all(v.dtype != torch.float32 for v in load_file(packed).values())

    assert defectforge([*state, "--action", "unpack", "--run", str(second)]) == 0
    weights = load_file(second / "checkpoints" / "step_00000004" / "vq.safetensors")
    original = load_file(latest / "vq.safetensors")
    assert weights.keys() == original.keys() and all(weights[k].dtype == original[k].dtype for k in weights)
    assert all(torch.allclose(weights[k], original[k], rtol=1e-2, atol=1e-3) for k in weights)
    assert _vq(data, second, 6) == 0  # resumes at step 4, does steps 5 and 6
    steps = [int(row["step"]) for row in read_log(second)]
    assert steps[-1] == 6 and steps == [int(row["step"]) for row in read_log(first)] + [5, 6]
    # unpacking again over a run that is already further is refused in one line, nothing changed
    assert defectforge([*state, "--action", "unpack", "--run", str(second)]) != 0
    assert "already holds step 6" in capsys.readouterr().err


def test_unpacking_a_file_that_is_no_packed_state_is_one_line(tmp_path, capsys):
    from safetensors.torch import save_file

    save_file({"x": torch.zeros(2)}, str(tmp_path / "other.safetensors"))
    args = ["train", "state", "--action", "unpack", "--run", str(tmp_path / "run"), "--file"]
    assert defectforge([*args, str(tmp_path / "other.safetensors")]) != 0
    (tmp_path / "cut.safetensors").write_bytes(b"\x10\x00\x00")
    assert defectforge([*args, str(tmp_path / "cut.safetensors")]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "not a packed campaign state" in err[0] and "cannot read" in err[1]
    assert not (tmp_path / "run").exists()


def test_a_weights_only_pack_is_a_third_the_size_and_resumes_with_fresh_moments(tmp_path):
    data = make_neu_dataset(tmp_path / "data", per_class=1)
    first, second = tmp_path / "first", tmp_path / "second"
    full, lean = tmp_path / "full.safetensors", tmp_path / "lean.safetensors"
    assert _vq(data, first, 4) == 0
    state = ["train", "state", "--run", str(first), "--file"]
    assert defectforge([*state, str(full)]) == 0
    assert defectforge([*state, str(lean), "--keep", "weights"]) == 0
    assert lean.stat().st_size < 0.45 * full.stat().st_size
    assert not any(key.startswith("opt_") for key in load_file(lean))

    assert defectforge(["train", "state", "--action", "unpack", "--run", str(second), "--file", str(lean)]) == 0
    latest = second / "checkpoints" / "step_00000004"
    assert load_file(latest / "opt_g.safetensors") == {}  # moments start afresh; the weights are all there
    assert (
        load_file(latest / "vq.safetensors").keys()
        == load_file(first / "checkpoints/step_00000004/vq.safetensors").keys()
    )
    assert _vq(data, second, 6) == 0
    rows = read_log(second)
    assert [int(row["step"]) for row in rows][-2:] == [5, 6]
    assert all(torch.isfinite(torch.tensor(float(row["loss"]))) for row in rows[-2:])


def test_a_maskgit_packed_as_model_only_resumes_with_its_ema_restarted_from_the_weights(tmp_path):
    from tests.training_fixtures import make_token_cache, maskgit_config
    from training.train_maskgit import train_maskgit

    cache = make_token_cache(tmp_path / "cache")
    first, second = tmp_path / "first", tmp_path / "second"
    train_maskgit(maskgit_config(cache, first, steps=3))
    state = ["train", "state", "--run", str(first), "--file"]
    assert defectforge([*state, str(tmp_path / "weights.safetensors"), "--keep", "weights"]) == 0
    assert defectforge([*state, str(tmp_path / "model.safetensors"), "--keep", "model"]) == 0
    packed = load_file(tmp_path / "model.safetensors")
    assert not any(key.startswith(("ema/", "optimizer/")) for key in packed)
    assert (tmp_path / "model.safetensors").stat().st_size < 0.6 * (tmp_path / "weights.safetensors").stat().st_size

    unpack = [
        "train",
        "state",
        "--action",
        "unpack",
        "--run",
        str(second),
        "--file",
        str(tmp_path / "model.safetensors"),
    ]
    assert defectforge(unpack) == 0
    latest = second / "checkpoints" / "step_00000003"
    model, ema = load_file(latest / "model.safetensors"), load_file(latest / "ema.safetensors")
    assert model.keys() == ema.keys() and all(torch.equal(model[k], ema[k]) for k in model)
    train_maskgit(maskgit_config(cache, second, steps=5))
    assert [int(row["step"]) for row in read_log(second)][-1] == 5  # went on from step 3 to the end
