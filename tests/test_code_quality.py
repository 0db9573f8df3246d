"""House rules checked on every run: ruff lint and format, and the layer contracts (core never imports Qt, app or
training; training never imports app or Qt; app never imports training; the app's Qt-free modules stay so;
training's modules import one another without a circle), via import-linter configured in pyproject.toml, and no
file past 600 lines."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    found = BIN / name
    return str(found) if found.exists() else (shutil.which(name) or name)


def test_ruff_finds_nothing():
    result = subprocess.run([_tool("ruff"), "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_leaves_every_file_as_it_is():
    result = subprocess.run([_tool("ruff"), "format", "--check", "."], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_layer_contracts_hold():
    result = subprocess.run([_tool("lint-imports")], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


MAX_LINES = 600  # past this a file holds more than one job: split it by job, as main_window and export were


def test_every_python_file_stays_at_most_600_lines():
    too_long = {
        str(path.relative_to(ROOT)): lines
        for folder in ("app", "core", "training", "tests", "scripts")
        for path in (ROOT / folder).rglob("*.py")
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert too_long == {}
