"""The mask document and the tools, without any widget: what the inspector's edits do to the label map."""

from __future__ import annotations

import numpy as np
import pytest

from app.document import MaskDocument
from app.tools import ToolSettings, make_tools

CLASSES = ["crazing", "inclusion", "scratches"]


@pytest.fixture()
def doc() -> MaskDocument:
    document = MaskDocument(np.full((100, 120, 3), 128, np.uint8), CLASSES)
    document.set_active_class("scratches")
    return document


@pytest.fixture()
def tools():
    return make_tools(ToolSettings(brush_size=10))


def test_brush_stroke_paints_the_active_class_and_records_only_the_changed_rectangle(doc, tools):
    brush = tools["brush"]
    brush.press(doc, (20, 50))
    brush.move(doc, (60, 50))
    edit = brush.release(doc, (80, 50))
    mask = doc.mask_of("scratches")
    assert mask[50, 20] and mask[50, 50] and mask[50, 80]
    assert not mask[10, 50]
    x0, y0, x1, y1 = edit.rect
    assert (x0, y0) == (15, 45) and (x1, y1) == (86, 56)  # round caps, 10 px brush
    assert edit.before.shape == edit.after.shape == (y1 - y0, x1 - x0)
    assert not edit.before.any() and edit.after.any()
    assert edit.text == "Brush stroke"


def test_eraser_and_right_button_remove_the_mask(doc, tools):
    doc.fill_rect((10, 10, 90, 90))
    doc.end_edit("Rectangle")
    eraser = tools["eraser"]
    eraser.press(doc, (50, 50))
    assert eraser.release(doc, (50, 50)).text == "Eraser stroke"
    assert not doc.labels[50, 50]
    brush = tools["brush"]
    brush.press(doc, (30, 30), erase=True)
    brush.release(doc, (30, 30))
    assert not doc.labels[30, 30] and doc.labels[15, 15]


def test_shapes_fill_rectangle_ellipse_polygon_and_lasso(doc, tools):
    rect = tools["rectangle"]
    rect.press(doc, (10, 10))
    rect.move(doc, (30, 20))
    assert rect.guide().kind == "rect"
    assert rect.release(doc, (30, 20)) is not None
    assert doc.labels[10:20, 10:30].all() and not doc.labels[21, 15]

    ellipse = tools["ellipse"]
    ellipse.press(doc, (40, 40))
    ellipse.release(doc, (80, 60))
    assert doc.labels[50, 60] and not doc.labels[41, 41]  # corner of the box stays empty

    polygon = tools["polygon"]
    for point in [(90, 10), (110, 10), (110, 30)]:
        polygon.press(doc, point)
    edit = polygon.finish(doc)
    assert edit.text == "Polygon" and doc.labels[12, 108] and not doc.labels[28, 92]

    doc.set_active_class("crazing")
    lasso = tools["lasso"]
    lasso.press(doc, (10, 70))
    for point in [(30, 70), (30, 95), (10, 95)]:
        lasso.move(doc, point)
    assert lasso.release(doc, (10, 70)).text == "Lasso"
    assert doc.mask_of("crazing")[80, 20]


def test_polygon_closes_on_a_click_near_its_first_corner(doc, tools):
    polygon = tools["polygon"]
    for point in [(10, 10), (50, 10), (50, 50)]:
        assert polygon.press(doc, point) is None
    assert polygon.press(doc, (11, 11)) is not None  # back on the first corner
    assert doc.labels[15, 40]


def test_bucket_fill_fills_inside_a_painted_outline_only(doc, tools):
    doc.begin_edit()
    for a, b in [((20, 20), (80, 20)), ((80, 20), (80, 80)), ((80, 80), (20, 80)), ((20, 80), (20, 20))]:
        doc.stamp_segment(a, b, 3)
    doc.end_edit("Brush stroke")
    edit = tools["bucket"].press(doc, (50, 50))
    assert edit is not None and doc.labels[50, 50] and not doc.labels[5, 5]


def test_grow_shrink_invert_and_clear_touch_only_the_active_class(doc):
    doc.set_active_class("inclusion")
    doc.fill_rect((10, 10, 20, 20))
    doc.end_edit("Rectangle")
    doc.set_active_class("scratches")
    doc.fill_rect((50, 50, 60, 60))
    doc.end_edit("Rectangle")
    grown = doc.grow(3)
    assert grown.text == "Grow mask" and doc.pixel_counts()["scratches"] > 100
    assert doc.pixel_counts()["inclusion"] == 100
    doc.shrink(3)
    assert doc.pixel_counts()["scratches"] == 100
    doc.invert()
    assert doc.pixel_counts()["scratches"] == 100 * 120 - 100 - 100
    assert doc.pixel_counts()["inclusion"] == 100
    doc.invert()
    doc.clear_class()
    assert set(doc.pixel_counts()) == {"inclusion"}
    doc.clear_all()
    assert not doc.has_mask()


def test_import_mask_adds_pixels_in_the_active_class(doc):
    mask = np.zeros((100, 120), bool)
    mask[5:15, 5:25] = True
    edit = doc.import_mask(mask)
    assert edit.rect == (5, 5, 25, 15) and doc.pixel_counts() == {"scratches": 200}
    with pytest.raises(ValueError, match="mask is"):
        doc.import_mask(np.zeros((10, 10), bool))


def test_masks_of_different_classes_never_overlap_and_become_request_layers(doc):
    doc.set_active_class("crazing")
    doc.fill_rect((0, 0, 50, 50))
    doc.end_edit("Rectangle")
    doc.set_active_class("scratches")
    doc.fill_rect((25, 25, 75, 75))
    doc.end_edit("Rectangle")
    layers = doc.layers()
    assert [layer.defect_class for layer in layers] == ["crazing", "scratches"]
    assert not (layers[0].mask & layers[1].mask).any()
    assert layers[1].mask[30, 30] and layers[0].mask.sum() == 2500 - 625


def test_an_edit_patch_restores_both_ways(doc):
    with doc.edit("Ellipse") as out:
        doc.fill_ellipse((10, 10, 60, 40))
    edit = out[0]
    after = doc.labels.copy()
    doc.apply_patch(edit.rect, edit.before)
    assert not doc.has_mask()
    doc.apply_patch(edit.rect, edit.after)
    assert np.array_equal(doc.labels, after)


def test_an_edit_that_changes_nothing_is_not_recorded(doc, tools):
    doc.fill_rect((10, 10, 20, 20))
    doc.end_edit("Rectangle")
    rect = tools["rectangle"]
    rect.press(doc, (10, 10))
    assert rect.release(doc, (20, 20)) is None


def test_escape_drops_a_stroke_in_progress(doc, tools):
    brush = tools["brush"]
    brush.press(doc, (20, 20))
    brush.move(doc, (60, 60))
    assert doc.has_mask()
    brush.cancel(doc)
    assert not doc.has_mask()


def test_the_class_stays_for_the_next_image_and_the_mask_only_at_its_own_size(doc):
    doc.fill_rect((0, 0, 60, 50))
    doc.end_edit("Rectangle")
    height, width = doc.labels.shape
    doc.set_image(np.zeros((height, width, 3), np.uint8))
    assert doc.pixel_counts() == {"scratches": 60 * 50} and doc.mask_left_behind is None
    doc.set_image(np.zeros((200, 240, 3), np.uint8))  # never stretched: a stroke would become another defect
    assert doc.labels.shape == (200, 240) and not doc.has_mask()
    assert doc.mask_left_behind == (
        f"the mask is {width}x{height} but the image is 240x200; a mask must have the image's size"
    )
    assert doc.active_class == "scratches"


def test_brush_size_steps_stay_within_bounds():
    settings = ToolSettings(brush_size=1)
    settings.smaller()
    assert settings.brush_size == 1
    for _ in range(50):
        settings.bigger()
    assert settings.brush_size == 512


def test_painting_before_any_model_uses_a_placeholder_class():
    doc = MaskDocument(np.zeros((10, 10, 3), np.uint8))
    doc.fill_rect((0, 0, 5, 5))
    doc.end_edit("Rectangle")
    assert doc.pixel_counts() == {"defect": 25}
