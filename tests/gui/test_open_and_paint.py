"""Session steps 1-3: open images, paint masks with every tool on the canvas, undo/redo, pick classes."""

from __future__ import annotations

import numpy as np
from PIL import Image
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent, QWheelEvent
from PySide6.QtWidgets import QApplication, QFileDialog

from tests.gui.conftest import click, double_click, drag, make_window, wait_for_model


def _press_keys(qtbot, window, key, modifier=Qt.KeyboardModifier.NoModifier):
    window.activateWindow()
    window.canvas.setFocus()
    qtbot.keyClick(window.canvas, key, modifier)


# --- step 1: open -------------------------------------------------------------------------------------------
def test_window_opens_on_an_image_with_model_name_device_and_classes_visible(window):
    assert window.document.size == (320, 240)
    assert "test-bundle" in window.model_label.text() and "CPU" in window.model_label.text()
    tree = window.class_panel.tree
    names = [tree.topLevelItem(i).text(0) for i in range(tree.topLevelItemCount())]
    assert names[:6] == ["crazing", "inclusion", "patches", "pitted_surface", "rolled-in_scale", "scratches"]
    assert "test-bundle" in window.model_panel.details.text()
    assert window.actions_.generate.isEnabled()


def test_without_a_model_the_app_opens_and_says_to_choose_one(qtbot, config_dir, messages, tmp_path, image_path):
    window = make_window(qtbot)
    window.start(image=image_path, model=tmp_path / "missing-model")
    assert "No model" in window.model_panel.status.text()
    assert "No model" in window.model_label.text()
    assert not window.actions_.generate.isEnabled()
    drag(window.canvas, [(10, 10), (40, 40)])  # painting still works
    assert window.document.has_mask()
    assert messages == []
    window.close()


def test_open_image_by_dialog_drop_and_recent_files(window, tmp_path, monkeypatch, messages):
    other = tmp_path / "other.png"
    Image.fromarray(np.full((100, 150, 3), 90, np.uint8)).save(other)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(other), ""))
    window.actions_.open_image.trigger()
    assert window.document.size == (150, 100) and window.document.path == other

    third = tmp_path / "third.png"
    Image.fromarray(np.full((80, 80, 3), 60, np.uint8)).save(third)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(third))])
    drop = QDropEvent(
        QPointF(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier
    )
    window.dropEvent(drop)
    assert window.document.path == third

    window.recent_menu.aboutToShow.emit()
    recent = [a.data() for a in window.recent_menu.actions()]
    assert recent[:2] == [str(third), str(other)]
    window.recent_menu.actions()[1].trigger()
    assert window.document.path == other

    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image")
    assert not window.session.open_image(broken)
    assert "Cannot open image" in messages.texts() and window.document.path == other


def test_open_folder_steps_through_its_images_with_a_file_list(window, image_folder, monkeypatch):
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(image_folder))
    window.actions_.open_folder.trigger()
    assert window.files_dock.isVisible() and window.files_panel.list.count() == 3
    assert window.document.path.name == "plate_0.png"
    window.actions_.next_image.trigger()
    assert window.document.path.name == "plate_1.png"
    window.actions_.next_image.trigger()
    window.actions_.next_image.trigger()  # past the end: stays
    assert window.document.path.name == "plate_2.png" and window.document.size == (200, 200)
    window.actions_.previous_image.trigger()
    assert window.document.path.name == "plate_1.png"
    window.files_panel.fileChosen.emit(str(image_folder / "plate_0.png"))
    assert window.document.path.name == "plate_0.png"


# --- step 2: paint ------------------------------------------------------------------------------------------
def test_brush_on_the_canvas_paints_with_a_size_changed_by_brackets(window, qtbot):
    window.set_tool("brush")
    window.brush_spin.setValue(10)
    drag(window.canvas, [(40, 60), (80, 60), (120, 60)])
    mask = window.document.mask_of(window.document.active_class)
    assert mask[60, 40] and mask[60, 120] and not mask[75, 80]
    assert window.undo_stack.count() == 1
    _press_keys(qtbot, window, Qt.Key.Key_BracketRight)
    assert window.brush_spin.value() > 10 and window.tool_settings.brush_size == window.brush_spin.value()
    _press_keys(qtbot, window, Qt.Key.Key_BracketLeft)
    _press_keys(qtbot, window, Qt.Key.Key_BracketLeft)
    assert window.brush_spin.value() < 10


def test_every_tool_edits_through_mouse_events_and_undo_redo_keys_walk_the_history(window, qtbot):
    canvas, doc = window.canvas, window.document
    window.set_tool("rectangle")
    drag(canvas, [(10, 10), (30, 20), (40, 30)])
    assert doc.labels[10:30, 10:40].all()
    window.set_tool("ellipse")
    drag(canvas, [(100, 100), (140, 140)])
    assert doc.labels[120, 120]
    window.set_tool("polygon")
    for x, y in [(200, 20), (260, 20), (260, 80)]:
        click(canvas, x, y)
    double_click(canvas, 260, 80)
    assert doc.labels[30, 250]
    window.set_tool("lasso")
    drag(canvas, [(200, 150), (260, 150), (260, 200), (200, 200), (200, 150)])
    assert doc.labels[175, 230]
    window.set_tool("eraser")
    window.brush_spin.setValue(6)
    drag(canvas, [(120, 120), (121, 120)])
    assert not doc.labels[120, 120]
    window.set_tool("brush")
    drag(canvas, [(60, 150), (100, 150)], button=Qt.MouseButton.RightButton)  # right-drag erases: nothing here
    window.set_tool("brush")
    window.brush_spin.setValue(3)
    for a, b in [((20, 100), (80, 100)), ((80, 100), (80, 220)), ((80, 220), (20, 220)), ((20, 220), (20, 100))]:
        drag(canvas, [a, b])
    window.set_tool("bucket")
    click(canvas, 50, 160)
    assert doc.labels[160, 50]
    edits = window.undo_stack.count()
    assert edits == 10
    painted = doc.labels.copy()
    _press_keys(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert not doc.labels[160, 50]
    _press_keys(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert np.array_equal(doc.labels, painted)
    for _ in range(edits):
        window.actions_.undo.trigger()
    assert not doc.has_mask()


def test_shift_drags_a_square_and_a_right_click_finishes_a_polygon(window):
    canvas, doc = window.canvas, window.document
    window.set_tool("rectangle")
    drag(canvas, [(10, 10), (70, 30)], modifiers=Qt.KeyboardModifier.ShiftModifier)
    assert doc.labels[10:70, 10:70].all() and not doc.labels[75, 40]  # 60 x 60, not 60 x 20
    window.set_tool("polygon")
    for x, y in [(200, 20), (260, 20), (260, 80)]:
        click(canvas, x, y)
    click(canvas, 100, 200, button=Qt.MouseButton.RightButton)  # finishes: no corner there, nothing erased
    assert doc.labels[30, 250] and not doc.labels[200, 100]
    assert doc.labels[10:70, 10:70].all()


def test_mask_operations_grow_shrink_invert_clear_and_import(window, tmp_path):
    doc, a = window.document, window.actions_
    window.set_tool("rectangle")
    drag(window.canvas, [(100, 100), (120, 120)])
    before = doc.pixel_counts()[doc.active_class]
    a.grow.trigger()
    assert doc.pixel_counts()[doc.active_class] > before
    a.shrink.trigger()
    assert doc.pixel_counts()[doc.active_class] == before
    a.invert.trigger()
    assert doc.pixel_counts()[doc.active_class] == 320 * 240 - before
    a.clear_class.trigger()
    assert not doc.has_mask()
    mask = np.zeros((240, 320), np.uint8)
    mask[10:20, 10:50] = 255
    Image.fromarray(mask).save(tmp_path / "mask.png")
    assert window.session.import_mask(tmp_path / "mask.png")
    assert doc.pixel_counts() == {doc.active_class: 400}
    for _ in range(5):  # import, clear, invert, shrink, grow
        a.undo.trigger()
    assert doc.pixel_counts() == {doc.active_class: before}


def test_wheel_zooms_to_the_cursor_middle_drag_pans_and_fit_or_100_percent(window):
    canvas = window.canvas
    canvas.fit()
    anchor = canvas.to_widget(200, 100)
    before = canvas.to_image(anchor)
    wheel = QWheelEvent(
        anchor,
        canvas.mapToGlobal(anchor),
        QPoint(0, 0),
        QPoint(0, 240),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(canvas, wheel)
    assert canvas.scale > 1.0
    after = canvas.to_image(anchor)
    assert abs(after[0] - before[0]) < 1e-6 and abs(after[1] - before[1]) < 1e-6
    start = canvas.to_image(QPointF(300, 300))
    drag(
        canvas,
        [canvas.to_image(QPointF(300, 300)), canvas.to_image(QPointF(350, 330))],
        button=Qt.MouseButton.MiddleButton,
    )
    moved = canvas.to_image(QPointF(350, 330))
    assert abs(moved[0] - start[0]) < 1e-6 and abs(moved[1] - start[1]) < 1e-6  # the image followed the drag
    assert not window.document.has_mask()  # panning never paints
    window.actions_.actual_size.trigger()
    assert canvas.scale == 1.0
    window.actions_.fit.trigger()
    assert canvas.scale > 1.0 and canvas.to_widget(320, 240).x() <= canvas.width()


def test_space_drag_pans_instead_of_painting(window, qtbot):
    canvas = window.canvas
    canvas.setFocus()
    qtbot.keyPress(canvas, Qt.Key.Key_Space)
    start = canvas.to_widget(0, 0)
    drag(canvas, [(100, 100), (130, 100)])
    qtbot.keyRelease(canvas, Qt.Key.Key_Space)
    assert not window.document.has_mask()
    assert canvas.to_widget(0, 0).x() > start.x()


def test_overlay_opacity_and_visibility_change_what_the_canvas_draws(window):
    window.set_tool("rectangle")
    drag(window.canvas, [(0, 0), (320, 240)])
    window.canvas.rebuild_outlines()
    window.opacity_slider.setValue(100)
    full = window.canvas.grab().toImage()
    window.opacity_slider.setValue(0)
    window.actions_.show_overlay.setChecked(False)
    none = window.canvas.grab().toImage()
    centre = window.canvas.to_widget(160, 120).toPoint()
    assert full.pixelColor(centre) != none.pixelColor(centre)
    assert window.canvas.overlay_opacity == 0.0 and not window.canvas.overlay_visible


# --- step 3: classes ----------------------------------------------------------------------------------------
def test_several_masks_of_different_classes_in_one_image(window, qtbot):
    tree = window.class_panel.tree
    tree.setCurrentItem(tree.topLevelItem(5))
    assert window.document.active_class == "scratches"
    window.set_tool("rectangle")
    drag(window.canvas, [(10, 10), (60, 40)])
    _press_keys(qtbot, window, Qt.Key.Key_2)
    assert window.document.active_class == "inclusion"
    drag(window.canvas, [(100, 100), (140, 150)])
    layers = window.document.layers()
    assert [layer.defect_class for layer in layers] == ["inclusion", "scratches"]
    painted = {tree.topLevelItem(i).text(0): tree.topLevelItem(i).text(1) for i in range(tree.topLevelItemCount())}
    assert painted["scratches"] == str(50 * 30) and painted["inclusion"] == str(40 * 50)
    colours = {tree.topLevelItem(i).icon(0).pixmap(8, 8).toImage().pixelColor(4, 4).name() for i in range(6)}
    assert len(colours) == 6  # a colour per class


def test_a_model_switch_keeps_painted_classes_it_does_not_know_flagged(
    qtbot, config_dir, messages, tmp_path, image_path, gui_bundle_path
):
    from tests.conftest import build_test_bundle

    other = build_test_bundle(tmp_path / "other-bundle", classes=["dent", "rust"])
    window = make_window(qtbot)
    window.start(image=image_path, model=gui_bundle_path)
    wait_for_model(qtbot, window)
    window.set_active_class("scratches")
    drag(window.canvas, [(10, 10), (50, 50)])
    window.model_device.load_model(other)
    qtbot.waitUntil(lambda: window.controller.model.info.path == other, timeout=20000)
    tree = window.class_panel.tree
    names = [tree.topLevelItem(i).data(0, Qt.ItemDataRole.UserRole) for i in range(tree.topLevelItemCount())]
    assert names[:2] == ["dent", "rust"] and "scratches" in names
    window.generation.generate()
    assert "has no class scratches" in messages.texts()
    window.close()


def test_without_the_default_model_the_app_falls_back_to_a_bundle_in_the_user_folder(
    qtbot, config_dir, messages, image_path, monkeypatch, tmp_path
):
    from tests.conftest import build_test_bundle

    for where in ("app.models", "app.model_device"):  # a build that ships no models folder
        monkeypatch.setattr(f"{where}.bundled_models_dir", lambda: tmp_path / "no-bundled-models")
    user_bundle = build_test_bundle(config_dir / "models" / "steel-v1")
    window = make_window(qtbot)
    window.start(image=image_path)
    wait_for_model(qtbot, window)
    assert window.controller.model.info.path == user_bundle
    window.close()
