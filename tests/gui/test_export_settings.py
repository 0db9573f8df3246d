"""Session steps 6-8: export to a dataset folder (and failing safely), mask and class kept for the next image,
settings that persist, model picker and device fallback, closing during a run; help and About."""

from __future__ import annotations

import torch

from app.controller import Controller
from app.dialogs import AboutDialog, ShortcutsDialog
from app.settings import Settings
from core.device import DeviceError
from tests.conftest import build_test_bundle
from tests.gui.conftest import drag, make_window, type_dataset_folder, wait_for_model
from tests.gui.fakes import GatedPipeline


def _generate(qtbot, window, cls: str = "scratches") -> None:
    window.set_active_class(cls)
    window.set_tool("rectangle")
    drag(window.canvas, [(100, 80), (160, 120)])
    window.actions_.generate.trigger()
    qtbot.waitUntil(lambda: not window.controller.busy and window.generation.result is not None, timeout=60000)


def _exported_ids(root):
    return sorted(p.stem for p in (root / "images").rglob("*.png"))


def test_export_writes_the_accepted_variant_and_the_status_bar_confirms_its_id(
    window, qtbot, tmp_path, monkeypatch, messages
):
    _generate(qtbot, window)
    dataset = tmp_path / "dataset"
    dataset.mkdir()
    type_dataset_folder(monkeypatch, dataset)
    window.generation.accept_variant(0)
    window.actions_.export.trigger()
    qtbot.waitUntil(lambda: "Exported" in window.statusBar().currentMessage(), timeout=20000)
    ids = _exported_ids(dataset)
    assert len(ids) == 1 and ids[0] in window.statusBar().currentMessage()
    assert (dataset / "images" / "scratches" / f"{ids[0]}.png").is_file()
    assert (dataset / "masks" / "scratches" / f"{ids[0]}.png").is_file()
    assert window.settings.dataset_dir == str(dataset)
    tree = window.class_panel.tree
    qtbot.waitUntil(lambda: tree.topLevelItem(5).text(2) == "1", timeout=5000)  # exported count per class
    assert messages == []


def test_a_failed_export_shows_a_dialog_and_loses_nothing(window, qtbot, tmp_path, messages):
    _generate(qtbot, window)
    not_a_folder = tmp_path / "dataset-is-a-file"
    not_a_folder.write_text("in the way")
    window.settings.dataset_dir = str(not_a_folder)
    result = window.generation.result
    window.generation.accept_variant(0)
    window.generation.export_accepted()
    qtbot.waitUntil(lambda: len(messages) == 1, timeout=20000)
    assert messages[0][1] == "Export failed" and "Nothing was lost" in messages[0][2]
    assert window.generation.result is result and window.gallery.list.count() == len(result.variants)
    assert window.document.has_mask()
    good = tmp_path / "dataset"
    window.settings.dataset_dir = str(good)
    window.generation.export_accepted()
    qtbot.waitUntil(lambda: "Exported" in window.statusBar().currentMessage(), timeout=20000)
    assert len(_exported_ids(good)) == 1


def test_mask_and_class_stay_for_the_next_image(window, qtbot, image_folder):
    _generate(qtbot, window, cls="inclusion")
    labels = window.document.labels.copy()
    window.session.open_folder(image_folder)
    assert window.document.active_class == "inclusion"
    assert window.document.pixel_counts() == {"inclusion": int((labels > 0).sum())}
    assert window.generation.result is None and window.gallery.list.count() == 0
    assert window.actions_.generate.isEnabled()


def test_settings_persist_across_restarts(qtbot, config_dir, messages, image_path, gui_bundle_path):
    window = make_window(qtbot)
    window.start(image=image_path, model=gui_bundle_path)
    wait_for_model(qtbot, window)
    window.brush_spin.setValue(37)
    window.set_tool("ellipse")
    window.opacity_slider.setValue(70)
    panel = window.sampler_panel
    panel.steps.setValue(6)
    panel.cfg.setValue(2.25)
    panel.temp_min.setValue(0.9)
    panel.random_seed.setChecked(False)
    panel.seed.setValue(4242)
    panel.variants.setValue(3)
    window.settings.dataset_dir = "/somewhere/dataset"
    window.close()
    saved = Settings.load()
    assert saved.brush_size == 37 and saved.tool == "ellipse" and saved.overlay_opacity == 0.7
    assert saved.sampler.seed == 4242 and saved.sampler.steps == 6 and saved.sampler.cfg_weight == 2.25
    assert saved.model_path == str(gui_bundle_path) and saved.recent_files == [str(image_path)]

    again = make_window(qtbot, settings=Settings.load())
    again.start()
    wait_for_model(qtbot, again)
    assert again.brush_spin.value() == 37 and again.canvas.tool.name == "ellipse"
    assert again.opacity_slider.value() == 70
    panel = again.sampler_panel
    assert (panel.steps.value(), panel.cfg.value(), panel.temp_min.value()) == (6, 2.25, 0.9)
    assert not panel.random_seed.isChecked() and panel.seed.value() == 4242 and panel.variants.value() == 3
    assert again.controller.model.info.path == gui_bundle_path
    again.close()


def test_model_picker_lists_user_bundles_with_classes_and_provenance(window, qtbot, config_dir):
    user_bundle = build_test_bundle(config_dir / "models" / "steel-v2", classes=["dent", "rust", "scratches"])
    entries = window.model_device.refresh_models()
    assert user_bundle in [entry.path for entry in entries]
    combo = window.model_panel.combo
    index = next(i for i in range(combo.count()) if combo.itemData(i) == str(user_bundle))
    combo.setCurrentIndex(index)
    combo.activated.emit(index)
    qtbot.waitUntil(lambda: window.controller.model.info.path == user_bundle, timeout=20000)
    details = window.model_panel.details.text()
    assert "dent, rust, scratches" in details and "random weights for tests" in details
    assert window.settings.model_path == str(user_bundle)


class _OutOfMemoryPipeline:
    def __init__(self, bundle):
        self.bundle = bundle

    def validate(self, request):
        pass

    def run(self, request):
        raise DeviceError(
            "The CUDA: test device ran out of memory. Generate fewer variants at once, or switch the device to CPU."
        )
        yield  # pragma: no cover - makes this a generator


def test_out_of_memory_says_so_and_offers_the_cpu(qtbot, config_dir, messages, image_path, gui_bundle_path):
    window = make_window(qtbot, controller=Controller(pipeline_factory=_OutOfMemoryPipeline))
    window.start(image=image_path, model=gui_bundle_path)
    wait_for_model(qtbot, window)
    window.controller.model.device = torch.device("cuda")  # pretend: the fake pipeline never touches it
    _generate_start(window)
    qtbot.waitUntil(lambda: len(messages) == 1, timeout=10000)
    assert "ran out of memory" in messages[0][2] and "Switch to the CPU" in messages[0][2]
    assert window.settings.device == "cpu"
    qtbot.waitUntil(
        lambda: window.controller.model.device.type == "cpu" and not window.controller.loading, timeout=20000
    )
    window.close()


def _generate_start(window) -> None:
    window.set_active_class("scratches")
    window.set_tool("rectangle")
    drag(window.canvas, [(100, 80), (160, 120)])
    window.actions_.generate.trigger()


def test_closing_the_window_during_a_run_cancels_cleanly(
    qtbot, config_dir, messages, image_path, gui_bundle_path, monkeypatch
):
    pipelines: list[GatedPipeline] = []

    def factory(bundle):
        pipelines.append(GatedPipeline(bundle, steps=50))
        return pipelines[-1]

    window = make_window(qtbot, controller=Controller(pipeline_factory=factory))
    window.start(image=image_path, model=gui_bundle_path)
    wait_for_model(qtbot, window)
    _generate_start(window)
    pipelines[-1].allow(2)
    qtbot.waitUntil(lambda: pipelines[-1].steps_started == 3, timeout=10000)  # step 3 is running
    cancel = window.controller.cancel

    def cancel_then_let_the_running_step_end() -> None:
        cancel()
        pipelines[-1].allow(1)

    monkeypatch.setattr(window.controller, "cancel", cancel_then_let_the_running_step_end)
    assert window.close()
    assert pipelines[-1].closed.is_set()
    assert pipelines[-1].steps_done == pipelines[-1].steps_started == 3  # the running step ended, none began
    assert not window.controller.working
    assert messages == []


def test_help_lists_the_shortcuts_and_about_names_versions_and_device(window, qtbot):
    dialog = ShortcutsDialog(
        list(window.actions_.tools.values()) + [window.actions_.undo, window.actions_.generate], window
    )
    qtbot.addWidget(dialog)
    rows = {dialog.table.item(r, 1).text(): dialog.table.item(r, 0).text() for r in range(dialog.table.rowCount())}
    assert rows["Brush"] == "B" and rows["Undo"] == "Ctrl+Z" and "Ctrl+G" in rows["Generate"]
    assert rows["Show the original (before)"] == "Hold C"
    about = AboutDialog("CPU (2 threads)", "test-bundle", window)
    qtbot.addWidget(about)
    for text in ("PySide6", "PyTorch", "CPU (2 threads)", "test-bundle", "Python"):
        assert text in about.text
    # the model's training data is credited (NEU-DET asks for its authors' names)
    credited = AboutDialog("CPU", "neu-model", window, data_credit="NEU surface defect database, K. Song and Y. Yan")
    qtbot.addWidget(credited)
    assert "K. Song and Y. Yan" in credited.text and "Trained on" in credited.text
    assert "Trained on" not in about.text
