"""The app's share of the bad-input table (docs/reliability.md): a broken settings file, a pickle model, an image
given on the command line. The rest of the table is tests/test_bad_input.py."""

from __future__ import annotations

import logging

import pytest

from app.settings import Settings


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000 + "]" * 100_000,
        "{not json",
        "[1, 2, 3]",
        '{"recent_files": 5, "sampler": {"cfg_weight": NaN, "steps": Infinity}}',
        "\udcff",
    ],
)
def test_an_unreadable_settings_file_gives_defaults_is_kept_aside_and_reported_once(tmp_path, caplog, text):
    path = tmp_path / "settings.json"
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    with caplog.at_level(logging.WARNING):
        settings = Settings.load(path)
    assert settings.sampler.cfg_weight is None and settings.sampler.steps is None
    if text.startswith('{"recent'):  # readable JSON with wrong values: each wrong value falls back
        assert settings.recent_files == []
        return
    assert settings == Settings()
    assert (tmp_path / "settings.json.bad").read_bytes() == text.encode("utf-8", "surrogateescape")
    assert not path.exists() and caplog.text.count("could not be read") == 1
    caplog.clear()
    assert Settings.load(path) == Settings() and "could not be read" not in caplog.text


def test_a_pickle_model_in_the_worker_is_one_line_not_a_traceback(caplog):
    from app.controller import is_user_error
    from app.worker import Worker
    from core.bundle import BundleError

    def load():
        raise BundleError("transformer.safetensors is a pickle/PyTorch file, which can run code when loaded")

    worker = Worker(load, is_expected=is_user_error)
    errors = []
    worker.errored.connect(errors.append)
    with caplog.at_level(logging.INFO):
        worker.run()
    assert len(errors) == 1 and isinstance(errors[0], BundleError)
    assert "Traceback" not in caplog.text and "ERROR" not in [r.levelname for r in caplog.records]
    assert "is a pickle/PyTorch file" in caplog.text


def test_an_unexpected_worker_failure_still_logs_its_traceback(caplog):
    from app.controller import is_user_error
    from app.worker import Worker

    def broken():
        raise ZeroDivisionError("bug")

    worker = Worker(broken, is_expected=is_user_error)
    with caplog.at_level(logging.INFO):
        worker.run()
    assert "Traceback" in caplog.text


def test_defectforge_image_opens_the_image_in_the_app(monkeypatch, tmp_path):
    import app.gui
    from app.cli import main

    opened = []
    monkeypatch.setattr(app.gui, "main", lambda image=None, model=None: opened.append((image, model)) or 0)
    image = tmp_path / "plate.png"
    assert main([str(image)]) == 0
    assert main(["--model", "bundle", str(image)]) == 0
    assert opened == [(str(image), None), (str(image), "bundle")]


def test_the_help_still_lists_every_subcommand(capsys):
    from app.cli import COMMANDS, main

    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert all(name in out for name in COMMANDS)
