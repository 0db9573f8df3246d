"""Issue 12, gap 6: a mask carried to the next image is an undoable edit there, and a hidden mask says so on
the canvas (the class panel counts it; the image alone would show nothing)."""

from __future__ import annotations

import numpy as np
from PIL import Image
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


def test_a_mask_is_never_stretched_onto_an_image_of_another_size(window, messages, image_folder, tmp_path):
    """Issue 18 item 8: one rule for a carried mask and an imported one: it must have the image's size. A mask
    painted on a 320x240 plate stays behind when a 200x200 one opens (the status says why), as a 320x240 mask
    file is refused there; on an image of its own size it comes along unchanged."""
    files = sorted(image_folder.glob("*.png"))  # 320x240, 320x240, 200x200
    assert window.session.open_image(files[0])
    _paint(window)
    painted = window.document.labels.copy()
    assert window.session.open_image(files[2])
    assert window.document.size == (200, 200) and not window.document.has_mask()
    assert window.undo_stack.count() == 0
    status = window.statusBar().currentMessage()
    assert "stayed behind" in status and "320x240 but the image is 200x200" in status
    Image.fromarray(painted.astype(np.uint8) * 255).save(tmp_path / "mask_320x240.png")
    assert not window.session.import_mask(tmp_path / "mask_320x240.png")
    assert "320x240 but the image is 200x200" in messages.texts()
    assert not window.document.has_mask()
    assert window.session.open_image(files[1])  # back to a 320x240 plate: a mask of its size comes along
    window.actions_.undo.trigger()
    _paint(window)
    assert window.session.open_image(files[0])
    assert (window.document.labels == painted).all()
