"""Undo history with its memory bound, and settings that survive a restart."""

from __future__ import annotations

import json

import numpy as np

from app.document import MaskDocument
from app.settings import Settings, config_dir
from app.undo import MaskUndoStack


def _paint(doc: MaskDocument, stack: MaskUndoStack, rect) -> None:
    with doc.edit("Rectangle") as out:
        doc.fill_rect(rect)
    stack.push_edit(out[0] if out else None)


def test_undo_and_redo_restore_every_edit_exactly(qapp):
    doc = MaskDocument(np.zeros((64, 64, 3), np.uint8), ["scratches"])
    stack = MaskUndoStack(doc)
    states = [doc.labels.copy()]
    for i in range(5):
        _paint(doc, stack, (i * 10, i * 5, i * 10 + 20, i * 5 + 20))
        states.append(doc.labels.copy())
    assert stack.undoText() == "Rectangle"
    for expected in reversed(states[:-1]):
        stack.undo()
        assert np.array_equal(doc.labels, expected)
    for expected in states[1:]:
        stack.redo()
        assert np.array_equal(doc.labels, expected)


def test_undo_history_drops_its_oldest_edits_past_the_memory_bound(qapp):
    doc = MaskDocument(np.zeros((512, 512, 3), np.uint8), ["scratches"])
    stack = MaskUndoStack(doc, max_steps=1000, max_mb=1.0)  # each full-size edit stores 2 x 256 KiB
    for i in range(10):
        doc.set_active_class("scratches")
        _paint(doc, stack, (0, 0, 512, 512)) if i % 2 == 0 else stack.push_edit(doc.clear_all())
    assert stack.nbytes() <= 1024 * 1024
    assert 1 <= stack.count() < 10
    while stack.canUndo():  # what is left still undoes cleanly
        stack.undo()
    assert stack.count() >= 1


def test_undo_history_keeps_at_most_max_steps(qapp):
    doc = MaskDocument(np.zeros((32, 32, 3), np.uint8), ["scratches"])
    stack = MaskUndoStack(doc, max_steps=3)
    for i in range(6):
        _paint(doc, stack, (i * 5, 0, i * 5 + 3, 3))
    assert stack.count() == 3
    for _ in range(3):
        stack.undo()
    assert doc.labels[:, :15].any() and not doc.labels[:, 15:].any()


def test_settings_round_trip_through_the_config_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("DEFECTFORGE_CONFIG_DIR", str(tmp_path / "cfg"))
    settings = Settings(
        brush_size=40, dataset_dir="/data/out", device="cpu", language="ko", tool="lasso", model_path="/models/steel"
    )
    settings.sampler.steps, settings.sampler.cfg_weight, settings.sampler.random_seed = 24, 2.5, False
    settings.sampler.seed, settings.sampler.variants = 1234, 4
    settings.add_recent("/images/a.png")
    settings.add_recent("/images/b.png")
    settings.add_recent("/images/a.png")
    path = settings.save()
    assert path == config_dir() / "settings.json" and path.parent == tmp_path / "cfg"
    loaded = Settings.load()
    assert loaded == settings
    assert loaded.recent_files == ["/images/a.png", "/images/b.png"]


def test_damaged_or_wrong_settings_fall_back_to_defaults_field_by_field(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text("{not json", encoding="utf-8")
    assert Settings.load(path) == Settings()
    path.write_text(
        json.dumps(
            {
                "brush_size": "big",
                "device": "tpu",
                "overlay_opacity": 7,
                "language": "fr",
                "sampler": {"steps": 12, "variants": 99, "random_seed": "yes"},
                "dataset_dir": "/ok",
            }
        ),
        encoding="utf-8",
    )
    loaded = Settings.load(path)
    assert loaded.brush_size == Settings().brush_size and loaded.device == "auto" and loaded.language == ""
    assert loaded.overlay_opacity == 1.0 and loaded.dataset_dir == "/ok"
    assert loaded.sampler.steps == 12 and loaded.sampler.variants == 8 and loaded.sampler.random_seed is True


def test_every_device_the_core_knows_is_kept_in_settings_and_offered_in_the_model_panel(tmp_path, qtbot):
    from app.panels import ModelPanel
    from core.choices import DEVICE_CHOICES as CHOICES

    panel = ModelPanel()
    qtbot.addWidget(panel)
    assert [panel.device.itemData(i) for i in range(panel.device.count())] == list(CHOICES)
    path = tmp_path / "settings.json"
    for device in CHOICES:  # "mps" used to reset to "auto" on the next start
        settings = Settings()
        settings.device = device
        settings.save(path)
        assert Settings.load(path).device == device


def test_saved_variants_never_exceed_what_the_sampler_panel_offers(tmp_path, qtbot):
    from app.panels import SamplerPanel

    panel = SamplerPanel()
    qtbot.addWidget(panel)
    path = tmp_path / "settings.json"
    settings = Settings()
    settings.sampler.variants = 1000
    settings.save(path)
    assert Settings.load(path).sampler.variants == panel.variants.maximum()


def test_the_sampler_panel_s_ranges_are_the_sampler_config_s_bounds(qtbot):
    from app.panels import SAMPLER_DECIMALS, SamplerPanel
    from core.config import SamplerConfig

    panel = SamplerPanel()
    qtbot.addWidget(panel)
    for box, name in (
        (panel.steps, "steps"),
        (panel.cfg, "cfg_weight"),
        (panel.temp_min, "temp_min"),
        (panel.temp_max, "temp_max"),
    ):
        bounds = SamplerConfig.bounds(name)
        assert box.maximum() == bounds.high and box.singleStep() == bounds.step, name
        assert box.minimum() == round(bounds.lowest(10**-SAMPLER_DECIMALS), SAMPLER_DECIMALS), name
        assert bounds.contains(box.minimum()) and bounds.contains(box.maximum()), name


def test_a_model_default_beyond_the_old_panel_ranges_is_shown_unclamped(qtbot):
    from app.panels import SamplerPanel
    from core.config import SamplerConfig

    panel = SamplerPanel()
    qtbot.addWidget(panel)
    model = SamplerConfig(steps=500, cfg_weight=15.0, temp_min=0.02, temp_max=12.0)  # was clamped to 256/10/5
    model.validate()
    panel.set_defaults(model)
    panel.reset_to_defaults()
    assert panel.sampler_config() == model


def test_saved_sampler_values_are_kept_or_dropped_by_the_sampler_config_s_bounds(tmp_path):
    from core.config import SamplerConfig

    path = tmp_path / "settings.json"
    highest = {name: SamplerConfig.bounds(name).high for name in ("steps", "cfg_weight", "temp_min", "temp_max")}
    path.write_text(json.dumps({"sampler": highest}), encoding="utf-8")
    kept = Settings.load(path).sampler
    assert (kept.steps, kept.cfg_weight, kept.temp_min, kept.temp_max) == tuple(highest.values())
    beyond = {"steps": highest["steps"] + 1, "cfg_weight": -0.5, "temp_min": 0, "temp_max": 1e9}
    path.write_text(json.dumps({"sampler": beyond}), encoding="utf-8")
    dropped = Settings.load(path).sampler  # None: the model's default applies, not a clamped neighbour
    assert (dropped.steps, dropped.cfg_weight, dropped.temp_min, dropped.temp_max) == (None, None, None, None)
