"""The README cannot rot: its fresh-machine commands match CI, and every `defectforge …` line in its bash blocks
runs, in order, scaled down (fewer steps, images, repeats) on small fixture datasets in the README's layouts."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest
import torch
from PIL import Image

from app.cli import COMMANDS
from app.cli import main as defectforge
from core.config import transformer_preset, vq_preset
from core.transformer import MaskTransformer
from core.vq import VQModel
from tests.dataset_layouts import neu_det_flat, sd_saliency

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")

# option -> value that keeps a README command to seconds on a CPU
SCALE = {
    "--steps": "2",
    "--per-class": "2",
    "--repeats": "1",
    "-n": "1",
    "--batch-size": "2",
    "--crop-size": "64",
    "--warmup-steps": "1",
    "--device": "cpu",
    "--workers": "0",
}
# The upstream-sized presets become their tiny test twins (same code paths; the workspace's stand-in upstream
# checkpoints have their layouts). Strict loading of the real layouts is tested in test_vq / test_transformer.
PRESETS = {"vq16": "vq16-test", "tiny": "test", "small": "test"}
# extra options per subcommand, appended unless the line sets them
EXTRA = {
    ("train", "tokenize"): ["--augmentations", "1"],
    ("train", "vq"): ["--eval-images", "2"],
    ("train", "classifier"): ["--epochs", "1", "--min-accuracy", "0", "--min-heldout", "1"],
    ("eval", "downstream"): ["--shots", "1", "--seeds", "1", "--synthetic-per-real", "1", "--classifier-steps", "1"]
    + ["--yolo-epochs", "1", "--yolo-imgsz", "64", "--yolo-batch", "4"],
    ("eval",): [
        "--max-images",
        "4",
        "--fidelity-per-class",
        "1",
        "--classifier-epochs",
        "1",
        "--diversity-masks",
        "1",
        "--variants",
        "2",
        "--speed-runs",
        "1",
        "--shapes-per-kind",
        "1",
        "--classifier-images",
        "24",
    ],
}


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def readme_commands() -> list[list[str]]:
    commands = []
    for block in _blocks("bash"):
        for line in block.splitlines():
            line = line.strip()
            if line.startswith("defectforge "):
                commands.append(shlex.split(line)[1:])
    return commands


def _scaled(argv: list[str]) -> list[str]:
    out = list(argv)
    for i, arg in enumerate(out[:-1]):
        if arg in SCALE:
            out[i + 1] = SCALE[arg]
        if arg == "--preset":
            out[i + 1] = PRESETS.get(out[i + 1], out[i + 1])
    matching = [prefix for prefix in EXTRA if tuple(out[: len(prefix)]) == prefix]
    if matching:  # the most specific prefix only: `eval downstream` takes none of `eval`'s options
        extra = EXTRA[max(matching, key=len)]
        for flag, value in zip(extra[::2], extra[1::2], strict=True):
            if flag not in out:
                out += [flag, value]
    return out


def test_the_two_fresh_machine_commands_are_there_and_ci_runs_the_test_one():
    bash = [b.strip() for b in _blocks("bash")]
    assert "scripts/setup.sh && .venv/bin/defectforge" in bash
    test_command = "scripts/setup.sh --dev && .venv/bin/python -m pytest"
    assert test_command in bash
    assert test_command in (ROOT / ".ci" / "run").read_text()


def test_readme_python_api_names_exist():
    import importlib

    for block in _blocks("python"):
        for module, names in re.findall(r"^from (core\.[\w.]+) import ([\w, ]+)", block, flags=re.M):
            mod = importlib.import_module(module)
            for name in (n.strip() for n in names.split(",")):
                assert hasattr(mod, name), f"README imports {name} from {module}, which has none"


@pytest.fixture()
def workspace(tmp_path, monkeypatch, restore_logging):
    """The folders the README's commands name, in the layouts they expect."""
    neu_det_flat(tmp_path / "datasets" / "NEU-DET")
    sd_saliency(tmp_path / "datasets" / "SD-saliency-900")
    spec = next(b for b in _blocks("yaml") if b.startswith("# steel.yaml"))
    (tmp_path / "steel.yaml").write_text(spec)
    (tmp_path / "docs").mkdir()
    shutil.copy(ROOT / "docs" / "class_map.example.yaml", tmp_path / "docs")
    (tmp_path / "resources").symlink_to(ROOT / "resources")
    mask = Image.new("L", (200, 200), 0)
    mask.paste(255, (40, 90, 160, 104))
    mask.save(tmp_path / "my_mask.png")
    (tmp_path / "checkpoints").mkdir()
    vq = VQModel(vq_preset(PRESETS["vq16"]))
    torch.save({"model": vq.state_dict(), "ema": vq.state_dict()}, tmp_path / "checkpoints" / "vq_ds16_c2i.pt")
    halton = MaskTransformer(transformer_preset(PRESETS["tiny"], num_classes=1000, codebook_size=64))
    torch.save(
        {
            "iter": 1,
            "global_epoch": 0,
            "optimizer_state_dict": None,
            "model_state_dict": {f"module.{k}": v for k, v in halton.state_dict().items()},
        },
        tmp_path / "checkpoints" / "halton_tiny_current.pth",
    )
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_every_readme_command_runs(workspace, capsys):
    commands = readme_commands()
    assert len(commands) >= 15
    for argv in commands:
        assert argv and argv[0] in COMMANDS, f"README runs an unknown subcommand: defectforge {shlex.join(argv)}"
        scaled = _scaled(argv)
        status = defectforge(scaled)
        error = capsys.readouterr().err[-2000:]
        assert status == 0, f"README command failed: defectforge {shlex.join(scaled)}\n{error}"
    assert (workspace / "runs" / "maskgit" / "bundle" / "model.yaml").is_file()
    assert (workspace / "synthetic" / "manifest.jsonl").is_file()
