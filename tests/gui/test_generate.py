"""Session steps 4-5: generate on a worker thread with live previews and progress, cancel between steps,
seeds, compare before/after, and the variants gallery (accept, regenerate, re-run exactly)."""

from __future__ import annotations

import threading

import numpy as np
from PySide6.QtCore import Qt

from app.controller import Controller
from tests.gui.conftest import drag, make_window, wait_for_model
from tests.gui.fakes import GatedPipeline


def _paint_scratch(window, cls: str = "scratches") -> None:
    window.set_active_class(cls)
    window.set_tool("brush")
    window.brush_spin.setValue(12)
    drag(window.canvas, [(60, 60), (120, 90), (200, 120)])


def _run(qtbot, window, timeout: int = 60000) -> None:
    qtbot.waitUntil(lambda: window.controller.busy, timeout=5000)
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=timeout)


def test_generate_runs_off_the_ui_thread_with_previews_and_progress_in_step_order(window, qtbot, messages):
    _paint_scratch(window)
    pipeline = window.controller.model.pipeline
    threads: list[threading.Thread] = []
    original_run = pipeline.run

    def recording_run(request):
        threads.append(threading.current_thread())
        yield from original_run(request)

    pipeline.run = recording_run
    steps_seen: list[tuple[int, int]] = []
    window.controller.step.connect(lambda update: steps_seen.append((update.event.step, update.event.total_steps)))
    window.actions_.generate.trigger()
    assert window.controller.busy and not window.actions_.generate.isEnabled() and window.actions_.cancel.isEnabled()
    _run(qtbot, window)
    assert messages == []
    assert threads and threads[0] is not threading.main_thread()
    assert window.generation.previews_shown >= 1
    total = steps_seen[-1][1]
    assert steps_seen == [(step, total) for step in range(1, total + 1)]  # every step, in order, to "n of n"
    result = window.generation.result
    assert result is not None and len(result.variants) == window.sampler_panel.variants.value()
    assert window.canvas.showing_result
    assert window.sampler_panel.progress.text().startswith("Done")
    assert window.actions_.generate.isEnabled() and not window.actions_.cancel.isEnabled()


def test_progress_bar_reads_step_k_of_n(window):
    window.sampler_panel.show_step(3, 12)
    assert window.sampler_panel.progress.text() == "Step 3 of 12"
    assert window.sampler_panel.progress.value() == 3 and window.sampler_panel.progress.maximum() == 12


def test_cancel_stops_the_run_between_steps_and_keeps_the_mask(
    qtbot, config_dir, messages, image_path, gui_bundle_path
):
    pipelines: list[GatedPipeline] = []

    def factory(bundle):
        pipelines.append(GatedPipeline(bundle, steps=40))
        return pipelines[-1]

    window = make_window(qtbot, controller=Controller(pipeline_factory=factory))
    window.start(image=image_path, model=gui_bundle_path)
    wait_for_model(qtbot, window)
    _paint_scratch(window)
    mask = window.document.labels.copy()
    cancelled: list[bool] = []
    window.controller.runCancelled.connect(lambda: cancelled.append(True))
    window.actions_.generate.trigger()
    pipelines[-1].allow(3)
    qtbot.waitUntil(lambda: pipelines[-1].steps_started == 4, timeout=10000)  # step 4 is running
    qtbot.keyClick(window.canvas, Qt.Key.Key_Escape)  # the Cancel shortcut, handled while the step runs
    assert window.controller.busy and pipelines[-1].steps_done == 3
    pipelines[-1].allow(1)  # the running step ends...
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=10000)
    assert cancelled and pipelines[-1].closed.is_set()
    assert pipelines[-1].steps_done == pipelines[-1].steps_started == 4  # ...and no other begins
    assert window.generation.result is None and not window.canvas.showing_result
    assert np.array_equal(window.document.labels, mask)
    assert window.sampler_panel.progress.text() == "Cancelled" and messages == []
    window.close()


def test_seed_is_random_or_fixed_and_shown_after_each_run(window, qtbot):
    _paint_scratch(window)
    panel = window.sampler_panel
    panel.random_seed.setChecked(True)
    window.actions_.generate.trigger()
    _run(qtbot, window)
    first = window.generation.result.request.seed
    assert panel.last_seed.text().startswith(str(first))
    panel.random_seed.setChecked(False)
    panel.seed.setValue(77)
    panel.variants.setValue(2)
    window.actions_.generate.trigger()
    _run(qtbot, window)
    result = window.generation.result
    assert result.request.seed == 77 and [v.seed for v in result.variants] == [77, 78]
    assert panel.last_seed.text() == "77 … 78"


def test_compare_before_and_after_by_holding_c_or_with_the_split_slider(window, qtbot):
    _paint_scratch(window)
    window.actions_.generate.trigger()
    _run(qtbot, window)
    canvas = window.canvas
    after = window.generation.result.variants[window.generation.shown_variant].image  # the best, shown first
    assert canvas.showing_result and not canvas.comparing
    canvas.setFocus()
    qtbot.keyPress(canvas, Qt.Key.Key_C)
    assert canvas.comparing
    qtbot.keyRelease(canvas, Qt.Key.Key_C)
    assert not canvas.comparing
    window.gallery.split.setValue(50)
    assert canvas.split_share == 0.5
    canvas.actual_size()
    image = canvas.grab().toImage()
    left = canvas.to_widget(100, 75).toPoint()
    right = canvas.to_widget(210, 116).toPoint()
    original = window.document.image
    assert image.pixelColor(left).red() == original[75, 100, 0]  # left of the split: before
    assert image.pixelColor(right).red() == after[116, 210, 0]  # right of the split: after
    window.gallery.split.setValue(0)
    assert canvas.split_share is None


def test_gallery_accepts_a_variant_regenerates_and_reruns_exactly(window, qtbot):
    _paint_scratch(window)
    window.sampler_panel.variants.setValue(2)
    window.sampler_panel.random_seed.setChecked(False)
    window.sampler_panel.seed.setValue(5)
    window.actions_.generate.trigger()
    _run(qtbot, window)
    gallery = window.gallery
    texts = [gallery.list.item(row).text() for row in range(2)]
    assert gallery.list.count() == 2 and {"seed 5", "seed 6"} == {t.split("\n")[0].split(" · ")[1] for t in texts}
    first = window.generation.result
    gallery.list.setCurrentRow(1)  # rows are sorted best first: row 1 is whichever variant scored lower
    second = gallery.current_variant()
    assert window.generation.shown_variant == second and f"seed {5 + second}" in texts[1]
    gallery.accept_button.click()
    assert window.generation.accepted == second and gallery.export_button.isEnabled()

    gallery.rerun_button.click()
    _run(qtbot, window)
    again = window.generation.result
    assert again is not first and again.request.seed == 5
    for a, b in zip(first.variants, again.variants, strict=True):
        assert np.array_equal(a.image, b.image)  # same request, same pixels
    assert window.generation.accepted is None  # a new run needs a new decision

    gallery.regenerate_button.click()
    _run(qtbot, window)
    assert window.generation.result.request.seed != 5


def test_painting_after_a_result_shows_the_original_again(window, qtbot):
    _paint_scratch(window)
    window.actions_.generate.trigger()
    _run(qtbot, window)
    assert window.canvas.showing_result
    drag(window.canvas, [(250, 200), (260, 205)])
    assert not window.canvas.showing_result
    assert window.gallery.list.count() >= 1  # the variants are still there to go back to
