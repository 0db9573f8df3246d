"""The GPU campaign script, rehearsed at toy sizes on the CPU: a lent GPU's 15 minutes must not be spent on a
typo. It resumes the packed tokenizer state, trains, tokenizes, trains MaskGIT (from scratch, then from given
weights), evaluates and leaves the files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.training_fixtures import make_neu_dataset

ROOT = Path(__file__).resolve().parents[1]


def test_the_gpu_campaign_script_runs_its_whole_recipe_at_toy_size(tmp_path):
    data = make_neu_dataset(tmp_path / "data", per_class=2, size=64)
    out = tmp_path / "out"
    env = {
        **os.environ,
        "TINY": "1",
        "DATA": str(data),
        "WORK": str(tmp_path / "work"),
        "OUT": str(out),
        "STATE": str(tmp_path / "no-state-yet.safetensors"),  # a first campaign: warm start from the default
        "PYTHON": sys.executable,
    }
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "gpu_campaign.sh"), "run"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert sorted(p.name for p in out.iterdir()) == [
        "maskgit-log.csv",
        "model.yaml",
        "report.json",
        "report.md",
        "shapes_sheet.png",
        "transformer.safetensors",
        "vq-log.csv",
        "vq.safetensors",
    ]
    assert "in_channels: 1" in (out / "model.yaml").read_text()  # the gray campaign tokenizer

    # the next lent GPU continues the committed MaskGIT (here: the toy run's own weights) instead of a fresh one
    again = subprocess.run(
        ["bash", str(ROOT / "scripts" / "gpu_campaign.sh"), "run"],
        env={
            **env,
            "WORK": str(tmp_path / "work2"),
            "OUT": str(tmp_path / "out2"),
            "MG_INIT": str(out / "transformer.safetensors"),
        },
        capture_output=True,
        text=True,
    )
    assert again.returncode == 0, again.stderr[-2000:]
    assert f"transformer initialised from {out / 'transformer.safetensors'}" in again.stdout + again.stderr


def test_prepare_sets_the_default_weights_aside_when_the_travel_would_pass_the_cap_and_restore_puts_them_back(
    tmp_path,
):
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    script = repo / "scripts" / "gpu_campaign.sh"
    script.write_bytes((ROOT / "scripts" / "gpu_campaign.sh").read_bytes())
    default = repo / "resources" / "models" / "default"
    default.mkdir(parents=True)
    for name, size in (("vq.safetensors", 20), ("transformer.safetensors", 20), ("model.yaml", 0)):
        with open(default / name, "wb") as f:  # sparse: tens of MB on paper, nothing on disk
            f.truncate(size * 1024 * 1024)
    data = make_neu_dataset(tmp_path / "data", per_class=1, size=32)
    with open(data / "IMAGES" / "padding.bin", "wb") as f:
        f.truncate(30 * 1024 * 1024)
    git = ["git", "-C", str(repo), "-c", "user.email=t@t", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "fixture"], check=True)

    prepared = subprocess.run(["bash", str(script), "prepare", str(data)], capture_output=True, text=True)
    assert prepared.returncode == 0, prepared.stderr
    assert "set aside" in prepared.stdout
    assert not (default / "vq.safetensors").exists() and (default / "model.yaml").exists()
    assert (repo / ".campaign-data" / "NEU-DET" / "IMAGES").is_dir()

    restored = subprocess.run(["bash", str(script), "restore"], capture_output=True, text=True)
    assert restored.returncode == 0, restored.stderr
    assert (default / "vq.safetensors").stat().st_size == 20 * 1024 * 1024
    assert (default / "transformer.safetensors").is_file() and not (repo / ".campaign-hold").exists()
