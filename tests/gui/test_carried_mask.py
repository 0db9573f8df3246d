"""Issue 12, gap 6: a mask carried to the next image is an undoable edit there, and a hidden mask says so on
the canvas (the class panel counts it; the image alone would show nothing)."""

from __future__ import annotations

from PySide6.QtGui import QImage

from tests.gui.conftest import drag


def _paint(window) -> None:
    window.set_active_class("scratches")
    window.set_tool("rectangle")
    drag(window.canvas, [(100, 80), (160, 120)])


def test_a_mask_carried_to_the_next_image_can_be_undone_and_redone_there(window, qtbot, image_folder):
    files = sorted(image_folder.glob("*.png"))
    assert window.session.open_image(files[0])
    _paint(window)
    painted = window.document.labels.copy()
    assert window.session.open_image(files[1])
    assert (window.document.labels == painted).all()
    assert window.undo_stack.count() == 1 and window.undo_stack.undoText() == "Mask carried over"
    assert "the mask came along" in window.statusBar().currentMessage()
    window.actions_.undo.trigger()
    assert not window.document.has_mask()
    assert window.class_panel.tree.topLevelItem(5).text(1) == "–"  # scratches: no pixels left
    window.actions_.redo.trigger()
    assert (window.document.labels == painted).all()


def test_opening_an_image_without_a_mask_leaves_nothing_to_undo(window, image_folder):
    assert window.session.open_image(sorted(image_folder.glob("*.png"))[1])
    assert window.undo_stack.count() == 0 and not window.actions_.undo.isEnabled()


def _top_right(canvas) -> QImage:
    image = canvas.grab().toImage()
    return image.copy(image.width() - 260, 0, 260, 40)


def test_a_hidden_mask_is_named_on_the_canvas(window, qtbot, image_path, tmp_path):
    assert window.session.open_image(image_path)
    _paint(window)
    window.actions_.show_overlay.setChecked(False)
    with_hidden_mask = _top_right(window.canvas)
    window.canvas.grab().save(str(tmp_path / "hidden_mask.png"))
    window.document.clear_all()
    without_mask = _top_right(window.canvas)
    assert with_hidden_mask != without_mask  # the tag is drawn only while a hidden mask exists
    window.actions_.show_overlay.setChecked(True)
    window.actions_.undo.trigger()  # the mask back, now visible: no tag
    assert _top_right(window.canvas) == without_mask
