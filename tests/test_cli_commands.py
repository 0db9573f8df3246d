"""`defectforge COMMAND ...`: subcommands are entry points, found without importing them; the built-in table
stands in where the package metadata is missing."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

import app.cli
from app.cli import COMMANDS, GROUP, commands, main

ROOT = Path(__file__).resolve().parent.parent
heard: list[list[str]] = []


def echo(argv: list[str]) -> int:
    heard.append(argv)
    return 7


@pytest.fixture(autouse=True)
def _clear_heard():
    heard.clear()


def _installed(monkeypatch, *eps: EntryPoint) -> None:
    monkeypatch.setattr(app.cli, "entry_points", lambda group: [ep for ep in eps if ep.group == group])


def test_pyproject_registers_each_built_in_command_as_its_entry_point():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["entry-points"][GROUP] == {name: target for name, (target, _) in COMMANDS.items()}


def test_without_package_metadata_the_built_in_table_runs_the_commands(monkeypatch):
    _installed(monkeypatch)
    monkeypatch.setitem(COMMANDS, "echo", ("tests.test_cli_commands:echo", "say it back"))
    assert [ep.value for ep, _ in commands().values()] == [target for target, _ in COMMANDS.values()]
    assert main(["echo", "a", "--b"]) == 7 and heard == [["a", "--b"]]


def test_installed_entry_points_win_and_another_packages_command_is_listed_and_runs(monkeypatch, capsys):
    _installed(
        monkeypatch,
        EntryPoint("train", "tests.test_cli_commands:echo", GROUP),
        EntryPoint("zap", "tests.test_cli_commands:echo", GROUP),
        EntryPoint("other", "tests.test_cli_commands:echo", "another.group"),
    )
    assert main(["train", "vq"]) == 7 and main(["zap"]) == 7 and heard == [["vq"], []]
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert all(f"  {name} " in out for name in COMMANDS) and "zap" in out and "other" not in out
    assert list(commands()) == [*COMMANDS, "zap"]  # built-ins in their own order, then the others


def _run(code: str, pythonpath: list[Path]) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(map(str, pythonpath))}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)


def test_help_lists_every_command_at_once_without_importing_training_torch_or_qt():
    result = _run(
        "import sys\nfrom app.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'training', 'torch', 'PySide6'}))",
        [ROOT],
    )
    assert result.returncode == 0, result.stderr
    assert all(f"  {name} " in result.stdout for name in COMMANDS)
    assert result.stdout.strip().endswith("[]")


def test_a_command_another_installed_package_registers_is_found_through_its_metadata(tmp_path):
    (tmp_path / "toy_plugin.py").write_text("def main(argv):\n    print('toy', argv)\n    return 3\n")
    info = tmp_path / "toy_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: toy-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[{GROUP}]\ntoy = toy_plugin:main\n")
    ran = _run("import sys\nfrom app.cli import main\nsys.exit(main(['toy', 'x']))", [tmp_path, ROOT])
    assert ran.returncode == 3 and "toy ['x']" in ran.stdout, ran.stderr
    listed = _run("from app.cli import main\nmain(['--help'])", [tmp_path, ROOT])
    assert "toy" in listed.stdout and "from toy-plugin" in listed.stdout
