"""Issue 12: the inspector's session without surprises. Each test replays one step of a real session that
broke or confused: compare, accept and export once, edit after accepting, pan, device, close mid-run."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QFileDialog

from app.controller import Controller
from app.document import MaskDocument
from app.gallery import VARIANT_ROLE
from app.tools import ToolSettings, make_tools
from core.request import CLEANUP_CLASS
from tests.gui.conftest import _send, drag, make_window, wait_for_model
from tests.gui.fakes import GatedPipeline


def _generate(qtbot, window, variants: int = 1) -> None:
    window.set_active_class("scratches")
    window.set_tool("rectangle")
    drag(window.canvas, [(100, 80), (160, 120)])
    window.sampler_panel.variants.setValue(variants)
    window.actions_.generate.trigger()
    qtbot.waitUntil(lambda: not window.controller.busy and window.generation.result is not None, timeout=60000)


def _dataset(window, tmp_path, monkeypatch):
    dataset = tmp_path / "dataset"
    dataset.mkdir()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(dataset))
    window.settings.dataset_dir = str(dataset)
    return dataset


def _exported(root) -> list:
    return sorted((root / "images").rglob("*.png")) if (root / "images").is_dir() else []


def _wait_until_no_export_runs(qtbot, window) -> None:
    """An export writes its files on a worker thread: once no job runs, everything it would write is written, so
    a check that nothing (more) was written is not merely early."""
    qtbot.waitUntil(lambda: not window.controller.working, timeout=20000)


# --- bug 2 ---------------------------------------------------------------------------------------------------
def test_holding_c_compares_right_after_clicking_a_variant_thumbnail(window, qtbot):
    _generate(qtbot, window, variants=2)
    thumbs = window.gallery.list
    thumbs.setFocus()
    rect = thumbs.visualItemRect(thumbs.item(1))
    qtbot.mouseClick(thumbs.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    thumbs.setFocus()  # (the click gives it focus in a real window; offscreen, focus needs asking)
    assert window.generation.shown_variant == thumbs.item(1).data(VARIANT_ROLE) and not window.canvas.hasFocus()
    qtbot.keyPress(thumbs, Qt.Key.Key_C)
    assert window.canvas.comparing
    qtbot.keyRelease(thumbs, Qt.Key.Key_C)
    assert not window.canvas.comparing
    # Typing a C into a number field is typing, not comparing.
    window.sampler_panel.steps.setFocus()
    qtbot.keyPress(QApplication.focusWidget(), Qt.Key.Key_C)
    assert not window.canvas.comparing


# --- bugs 3 and 4 ----------------------------------------------------------------------------------------------
def test_export_needs_an_accepted_variant_everywhere(window, qtbot, tmp_path, monkeypatch):
    dataset = _dataset(window, tmp_path, monkeypatch)
    _generate(qtbot, window)
    a, gallery = window.actions_, window.gallery
    assert not a.export.isEnabled() and not gallery.export_button.isEnabled()
    window.generation.export_accepted()  # what Ctrl+E or the toolbar would reach
    _wait_until_no_export_runs(qtbot, window)
    assert _exported(dataset) == [] and "Accept" in window.statusBar().currentMessage()
    window.generation.accept_variant(0)
    assert a.export.isEnabled() and gallery.export_button.isEnabled()


def test_exporting_the_same_variant_twice_writes_it_once_and_says_so(window, qtbot, tmp_path, monkeypatch):
    dataset = _dataset(window, tmp_path, monkeypatch)
    _generate(qtbot, window)
    window.generation.accept_variant(0)
    window.actions_.export.trigger()
    window.actions_.export.trigger()  # a second Ctrl+E while the first export is being written
    qtbot.waitUntil(lambda: "Exported" in window.statusBar().currentMessage(), timeout=20000)
    assert not window.actions_.export.isEnabled() and not window.gallery.export_button.isEnabled()
    window.generation.export_accepted()  # and once more after it is written
    _wait_until_no_export_runs(qtbot, window)
    assert len(_exported(dataset)) == 1
    assert "already in the dataset" in window.statusBar().currentMessage()
    rows = (dataset / "manifest.jsonl").read_text().splitlines()
    assert len(rows) == 1


# --- bug 5 ---------------------------------------------------------------------------------------------------
def test_an_eraser_stroke_after_accepting_drops_the_acceptance_with_the_result_view(window, qtbot):
    _generate(qtbot, window)
    window.generation.accept_variant(0)
    assert window.canvas.showing_result and window.actions_.export.isEnabled()
    window.set_tool("eraser")
    drag(window.canvas, [(110, 90), (120, 95)])
    assert not window.canvas.showing_result
    assert window.generation.accepted is None
    assert not window.actions_.export.isEnabled() and not window.gallery.export_button.isEnabled()
    assert window.gallery.list.count() == 1  # the variant is still there: click it, accept it again
    window.gallery.list.setCurrentRow(0)
    window.generation.accept_variant(0)
    assert window.canvas.showing_result and window.actions_.export.isEnabled()


# --- bug 6 ---------------------------------------------------------------------------------------------------
def test_the_ellipse_tool_fills_a_symmetric_ellipse_without_spurs():
    for rect in [(10, 10, 31, 22), (5, 40, 45, 60), (60, 5, 67, 30)]:
        doc = MaskDocument(np.full((100, 120, 3), 128, np.uint8), ["scratches"])
        doc.set_active_class("scratches")
        ellipse = make_tools(ToolSettings())["ellipse"]
        ellipse.press(doc, rect[:2])
        ellipse.release(doc, rect[2:])
        x0, y0, x1, y1 = rect
        mask = doc.labels[y0:y1, x0:x1] > 0
        assert mask.sum() == (doc.labels > 0).sum()  # nothing outside the dragged box
        assert np.array_equal(mask, mask[:, ::-1]) and np.array_equal(mask, mask[::-1, :])
        # No single-pixel spur sticking out of a wide, tall ellipse's top, bottom, left or right.
        if x1 - x0 > 10 and y1 - y0 > 10:
            assert mask[0].sum() > 1 and mask[:, 0].sum() > 1


# --- bug 7 ---------------------------------------------------------------------------------------------------
def test_changing_the_device_keeps_the_chosen_class(window, qtbot):
    for name in ("patches", CLEANUP_CLASS):
        window.class_panel.choose_index(window.class_panel.names.index(name))
        assert window.document.active_class == name
        model = window.controller.model
        window.model_device.set_device("cpu")  # a reload, where there is one, starts at once
        wait_for_model(qtbot, window)
        assert window.document.active_class == name
        if not torch.cuda.is_available():
            assert window.controller.model is model  # already on the CPU: nothing to reload
        window.model_device.set_device("auto")
        wait_for_model(qtbot, window)
        assert window.document.active_class == name


# --- bug 8 ---------------------------------------------------------------------------------------------------
def test_after_a_middle_drag_pan_the_brush_outline_is_under_the_pointer(window):
    canvas = window.canvas
    window.set_tool("brush")
    start, end = QPointF(200, 200), QPointF(320, 260)
    _send(canvas, QMouseEvent.Type.MouseMove, start, Qt.MouseButton.NoButton)
    _send(canvas, QMouseEvent.Type.MouseButtonPress, start, Qt.MouseButton.MiddleButton)
    _send(canvas, QMouseEvent.Type.MouseMove, end, Qt.MouseButton.MiddleButton, buttons=Qt.MouseButton.MiddleButton)
    _send(canvas, QMouseEvent.Type.MouseButtonRelease, end, Qt.MouseButton.MiddleButton)
    assert canvas.brush_position == end


# --- bug 9 ---------------------------------------------------------------------------------------------------
def test_the_status_bar_says_erasing_while_erasing(window):
    window.set_active_class(CLEANUP_CLASS)
    assert "Painting: Clean-up" not in window.statusBar().currentMessage()
    window.set_tool("eraser")
    assert "Erasing" in window.statusBar().currentMessage()
    window.set_active_class("scratches")
    assert "Erasing" in window.statusBar().currentMessage()
    window.set_tool("brush")
    assert window.statusBar().currentMessage() == "Painting: scratches"


# --- bug 10 --------------------------------------------------------------------------------------------------
@pytest.mark.skipif(torch.cuda.is_available(), reason="the fallback only shows on a machine without CUDA")
def test_an_unavailable_device_is_named_as_the_menu_names_it_and_not_kept(window, qtbot):
    window.model_device.set_device("cuda")
    wait_for_model(qtbot, window)
    status = window.model_panel.status.text()
    assert "CUDA (NVIDIA GPU) is not available here" in status and "back to Auto" in status
    assert "'cpu'" not in status and "'auto'" not in status
    assert window.settings.device == "auto" and window.model_panel.device.currentData() == "auto"


# --- bug 11 --------------------------------------------------------------------------------------------------
def test_closing_mid_step_hides_the_window_without_waiting_for_the_step_to_end(
    qtbot, config_dir, messages, image_path, gui_bundle_path
):
    pipelines: list[GatedPipeline] = []

    def factory(bundle):  # a step that cannot be interrupted, as a full decode on a slow CPU
        pipelines.append(GatedPipeline(bundle, steps=2))
        return pipelines[-1]

    window = make_window(qtbot, controller=Controller(pipeline_factory=factory))
    window.start(image=image_path, model=gui_bundle_path)
    wait_for_model(qtbot, window)
    window.set_active_class("scratches")
    window.set_tool("rectangle")
    drag(window.canvas, [(100, 80), (160, 120)])
    window.actions_.generate.trigger()
    qtbot.waitUntil(lambda: pipelines[-1].steps_started == 1, timeout=5000)
    assert window.close()
    assert pipelines[-1].steps_done == 0  # closed while the step still runs: it was not waited for
    assert not window.isVisible()
    assert window.controller.working  # app.gui.main ends the process instead of waiting
    pipelines[-1].allow(2)
    assert window.controller.shutdown(15000)  # (the test waits, so the thread ends before the test does)
    assert messages == []


# --- gap 2 ---------------------------------------------------------------------------------------------------
def test_opening_the_next_image_or_closing_asks_before_dropping_unexported_variants(
    window, qtbot, image_folder, messages
):
    _generate(qtbot, window)
    from app import dialogs

    answers = iter([False])
    asked = []

    def answer(parent, title, text):
        asked.append(text)
        return next(answers, True)

    original = dialogs.ask_yes_no
    dialogs.ask_yes_no = answer
    try:
        assert not window.session.open_folder(image_folder)  # "No": the variants stay
        assert window.generation.result is not None and "not exported" in asked[0]
        assert window.session.open_folder(image_folder)  # "Yes": the next image opens
        assert window.generation.result is None and len(asked) == 2
    finally:
        dialogs.ask_yes_no = original


def test_split_line_drags_on_the_canvas_and_holding_c_labels_the_original(window, qtbot):
    _generate(qtbot, window)
    canvas = window.canvas
    window.gallery.split.setValue(50)
    x = canvas.split_x()
    y = canvas.height() / 2
    _send(canvas, QMouseEvent.Type.MouseButtonPress, QPointF(x, y))
    target = canvas.to_widget(window.document.width * 0.25, 10)
    _send(canvas, QMouseEvent.Type.MouseMove, QPointF(target.x(), y), buttons=Qt.MouseButton.LeftButton)
    _send(canvas, QMouseEvent.Type.MouseButtonRelease, QPointF(target.x(), y))
    assert abs(canvas.split_share - 0.25) < 0.02 and window.gallery.split.value() == 25
    assert window.document.pixel_counts() == {"scratches": 60 * 40}  # dragging the line painted nothing
    window.gallery.split.setValue(0)
    canvas.setFocus()
    qtbot.keyPress(canvas, Qt.Key.Key_C)
    image = canvas.grab().toImage()
    qtbot.keyRelease(canvas, Qt.Key.Key_C)
    plain = canvas.grab().toImage()
    tag = QPoint(12, 14)
    assert image.pixelColor(tag) != plain.pixelColor(tag)  # the "Original" tag in the corner
    QApplication.processEvents()


# --- gap 1 ---------------------------------------------------------------------------------------------------
def test_the_model_tab_is_a_card_with_data_figures_per_class_curves_and_a_warning(window, qtbot, tmp_path):
    import json

    from tests.conftest import build_test_bundle

    bundle = build_test_bundle(tmp_path / "carded", classes=["dent", "rust", "scratches"])
    (bundle / "eval").mkdir()
    (bundle / "eval" / "report.json").write_text(
        json.dumps({"class_fidelity": {"overall": 0.5, "per_class": {"dent": 0.9, "rust": 0.1}}, "vq": {"ssim": 0.7}})
    )
    (bundle / "train_log").mkdir()
    (bundle / "train_log" / "maskgit.csv").write_text("step,loss,val_ce\n1,6,\n50,5,5.5\n100,4,5.1\n")
    window.model_device.load_model(bundle)
    qtbot.waitUntil(
        lambda: window.controller.model.info.path == bundle and not window.controller.loading, timeout=20000
    )
    text = window.model_panel.details.text()
    assert "poorly" in text and "rust" in text and "Tokenizer SSIM" in text and "90%" in text
    assert "Trained on: random weights for tests" in text
    assert "{" not in text  # no Python dict dumped
    assert len(window.model_panel.card.plots) == 2  # training loss and held-out
    image = window.model_panel.card.plots[0].grab().toImage()
    assert image.width() > 0
    window.model_dock.raise_()
    # A bundle without a report or logs says so instead of inventing figures.
    plain = build_test_bundle(tmp_path / "plain")
    window.model_device.load_model(plain)
    qtbot.waitUntil(lambda: window.controller.model.info.path == plain and not window.controller.loading, timeout=20000)
    assert "not recorded" in window.model_panel.details.text()
    assert "not recorded" in window.model_panel.card.curves_title.text()


# --- gap 3 ---------------------------------------------------------------------------------------------------
def test_a_run_says_it_is_preparing_and_shows_its_real_step_count_beside_the_setting(window, qtbot):
    started = []
    window.controller.runStarted.connect(
        lambda _request: started.append((window.statusBar().currentMessage(), window.sampler_panel.progress.format()))
    )
    totals = []
    window.controller.step.connect(lambda update: totals.append(update.event.total_steps))
    _generate(qtbot, window)
    message, progress = started[0]
    assert "Preparing" in message and "Preparing" in progress
    total = totals[-1]  # what the progress bar counted to
    assert window.sampler_panel.run_steps.text() == f"→ {total} for this mask"
    assert total < window.sampler_panel.steps.value()  # a small mask takes fewer steps than the setting


# --- gaps 7 and 8 --------------------------------------------------------------------------------------------
def test_the_clean_up_overlay_stands_out_on_bright_steel():
    from app.palette import class_color

    r, g, b = class_color(CLEANUP_CLASS, 0)
    bright_steel = (205, 205, 210)
    assert max(r, g, b) - min(r, g, b) > 150  # saturated, not white-grey
    assert sum(abs(c - s) for c, s in zip((r, g, b), bright_steel, strict=True)) > 250


def test_the_file_list_counts_like_a_person(tmp_path):
    from app.session import image_files

    for name in ("crazing_10.bmp", "crazing_2.bmp", "crazing_100.bmp", "crazing_1.bmp", "Crazing_3.bmp"):
        (tmp_path / name).write_bytes(b"")
    assert [p.name for p in image_files(tmp_path)] == [
        "crazing_1.bmp",
        "crazing_2.bmp",
        "Crazing_3.bmp",
        "crazing_10.bmp",
        "crazing_100.bmp",
    ]


def test_an_exact_re_run_exports_nothing_new_and_names_the_sample_it_is(window, qtbot, tmp_path, monkeypatch, messages):
    """Issue 18 item 5: Re-run exactly gives the same pixels; exporting them again would write a byte-identical
    `...-1` with the same manifest key, which the split could put in val beside its twin in train."""
    dataset = _dataset(window, tmp_path, monkeypatch)
    window.sampler_panel.random_seed.setChecked(False)
    _generate(qtbot, window)
    window.generation.accept_variant(0)
    window.actions_.export.trigger()
    qtbot.waitUntil(lambda: "Exported" in window.statusBar().currentMessage(), timeout=20000)
    first_id = window.generation.exported[0]
    first = window.generation.result
    window.gallery.rerun_button.click()
    qtbot.waitUntil(lambda: window.generation.result is not first and not window.controller.busy, timeout=60000)
    window.generation.accept_variant(0)
    window.actions_.export.trigger()
    qtbot.waitUntil(lambda: "already in the dataset" in window.statusBar().currentMessage(), timeout=20000)
    assert first_id in window.statusBar().currentMessage() and messages == []
    assert len(_exported(dataset)) == 1 and len((dataset / "manifest.jsonl").read_text().splitlines()) == 1
    assert window.generation.exported == {0: first_id} and not window.actions_.export.isEnabled()


def test_the_file_list_and_the_gallery_mark_what_was_exported(
    window, qtbot, tmp_path, monkeypatch, image_folder, gui_bundle_path, messages
):
    """Issue 18 item 9: after an export the image is marked in the file list and the variant in the gallery; a new
    session on the same dataset folder marks the image again (read from the manifest)."""
    from app.gallery import EXPORTED_ROLE
    from app.panels import EXPORTED_ROLE as FILE_EXPORTED_ROLE

    dataset = _dataset(window, tmp_path, monkeypatch)
    assert window.session.open_folder(image_folder)
    files = window.files_panel.list
    marked = lambda: [files.item(row).data(FILE_EXPORTED_ROLE) for row in range(files.count())]  # noqa: E731
    assert files.count() == 3 and marked() == [False, False, False]
    _generate(qtbot, window, variants=2)
    thumbs = window.gallery.list
    assert all(thumbs.item(row).data(EXPORTED_ROLE) is None for row in range(2))
    window.generation.accept_variant(1)
    window.actions_.export.trigger()
    qtbot.waitUntil(lambda: marked() == [True, False, False], timeout=20000)
    sample_id = window.generation.exported[1]
    row = window.gallery.row_of(1)
    assert thumbs.item(row).data(EXPORTED_ROLE) == sample_id and sample_id in thumbs.item(row).toolTip()
    assert thumbs.item(1 - row).data(EXPORTED_ROLE) is None
    assert "Exported" in files.item(0).toolTip()

    again = make_window(qtbot, settings=window.settings)
    again.start(model=gui_bundle_path)
    wait_for_model(qtbot, again)
    assert again.session.open_folder(image_folder)
    files = again.files_panel.list
    qtbot.waitUntil(lambda: files.item(0).data(FILE_EXPORTED_ROLE) is True, timeout=10000)
    assert not files.item(1).data(FILE_EXPORTED_ROLE) and (dataset / "manifest.jsonl").is_file()
    again.controller.shutdown(10000)
