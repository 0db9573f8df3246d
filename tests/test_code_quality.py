"""House rules checked on every run: ruff lint and format, and the layer contracts (core never imports Qt, app or
training; training never imports app or Qt; app never imports training; the app's Qt-free modules stay so;
training's modules import one another without a circle), via import-linter configured in pyproject.toml, and no
file past 600 lines."""

import ast
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


# Privates of other libraries a test may still touch, each with why: argparse lists a parser's flags only there.
THIRD_PARTY_PRIVATES = {
    "_actions": "argparse.ArgumentParser: the only list of a parser's flags",
    "_SubParsersAction": "argparse: the type of a sub-command action, to walk into sub-commands",
}


PROJECT_PACKAGES = ("app", "core", "training")  # a test's own helpers (tests.*) may stay private


def _private_attribute_uses(source: str) -> list[tuple[int, str]]:
    """`obj._name` anywhere (read, write or delete) and getattr(obj, "_name"), except dunders and a class's own
    `self._name` / `cls._name` (a test double's state)."""

    def private(name: str) -> bool:
        return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))

    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and private(node.attr) and node.attr not in THIRD_PARTY_PRIVATES:
            if not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
                found.append((node.lineno, ast.unparse(node)))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "getattr"
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
            and private(node.args[1].value)
        ):
            found.append((node.lineno, ast.unparse(node)))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in PROJECT_PACKAGES:
            found += [(node.lineno, f"from {node.module} import {a.name}") for a in node.names if private(a.name)]
    return sorted(found)


def test_private_attribute_check_sees_reads_writes_and_getattr_but_not_a_doubles_own_state():
    source = "a = obj._hidden\nobj._hidden = 1\nb = getattr(obj, '_x')\nc = self._gate\nd = obj.__class__\n"
    source += "from app.synth import _images\nfrom tests.helpers import _fixture\n"
    assert [line for line, _ in _private_attribute_uses(source)] == [1, 2, 3, 6]


def test_tests_use_public_api_not_private_attributes():
    """A test that reads `obj._name` breaks on a rename that changes no behaviour, and tests what the user never
    sees: where a test needs the state, the class offers a read-only property (e.g. Canvas.brush_position)."""
    found = {
        f"{path.relative_to(ROOT)}:{line}": text
        for path in sorted((ROOT / "tests").rglob("*.py"))
        for line, text in _private_attribute_uses(path.read_text(encoding="utf-8"))
    }
    assert found == {}
