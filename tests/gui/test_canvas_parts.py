"""The canvas's Qt-free parts (issue 19 item 4): the view transform and the split-compare geometry, tested
without a widget."""

from __future__ import annotations

import pytest

from app.canvas_split import GRAB_PX, SplitCompare
from app.canvas_view import MAX_SCALE, MIN_SCALE, ViewTransform


def _close(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return all(abs(p - q) < 1e-9 for p, q in zip(a, b, strict=True))


@pytest.mark.parametrize("scale", [0.05, 0.5, 1.0, 3.7, 32.0])
def test_widget_and_image_coordinates_round_trip(scale):
    view = ViewTransform(scale=scale, offset_x=-123.5, offset_y=47.25)
    for point in [(0.0, 0.0), (10.5, 7.25), (2047.0, 1999.0)]:
        assert _close(view.to_image(*view.to_widget(*point)), point)
        assert _close(view.to_widget(*view.to_image(*point)), point)


def test_zooming_about_a_point_keeps_that_point_under_it():
    view = ViewTransform(scale=0.8, offset_x=30, offset_y=-12)
    anchor = (211.0, 143.0)
    under = view.to_image(*anchor)
    for scale in (2.5, 0.1, 1.0, 16.0):
        view.zoom_to(scale, anchor)
        assert view.scale == scale
        assert _close(view.to_image(*anchor), under)
        assert _close(view.to_widget(*under), anchor)


def test_zoom_is_clamped_and_still_keeps_the_anchor():
    view = ViewTransform()
    view.zoom_to(1000.0, (50.0, 60.0))
    assert view.scale == MAX_SCALE and _close(view.to_image(50.0, 60.0), (50.0, 60.0))
    view.zoom_to(1e-6, (50.0, 60.0))
    assert view.scale == MIN_SCALE


def test_fit_centres_the_whole_image_and_zoom_or_pan_leave_fit_mode():
    view = ViewTransform()
    view.fit((400, 200), (1000, 800))
    left, top = view.to_widget(0, 0)
    right, bottom = view.to_widget(400, 200)
    assert right - left <= 1000 and bottom - top <= 800  # all of it in view...
    assert abs(left - (1000 - right)) < 1e-9 and abs(top - (800 - bottom)) < 1e-9  # ...centred
    assert round(right - left) == round(0.97 * 1000)  # the wide side nearly fills the view
    assert view.fit_mode
    view.pan_by(5, -3)
    assert not view.fit_mode and _close(view.to_widget(0, 0), (left + 5, top - 3))
    view.fit((400, 200), (1000, 800))
    view.zoom_to(2.0, (0, 0))
    assert not view.fit_mode


def test_fitting_an_empty_image_changes_nothing_but_keeps_fitting():
    view = ViewTransform(scale=2.0, offset_x=7, offset_y=9, fit_mode=False)
    view.fit((0, 0), (640, 480))
    assert (view.scale, view.offset_x, view.offset_y, view.fit_mode) == (2.0, 7, 9, True)


def test_the_split_line_sits_at_its_share_of_the_image_and_can_be_grabbed_near_it():
    split = SplitCompare()
    assert split.line_x(100, 500) is None and not split.near_line(100, 100, 500)
    split.set_share(0.25)
    assert split.line_x(100, 500) == 200
    assert split.near_line(200 + GRAB_PX, 100, 500) and not split.near_line(200 + GRAB_PX + 1, 100, 500)
    split.set_share(0.0)
    assert split.line_x(100, 500) is None  # a zero share shows no line
    split.set_share(1.7)
    assert split.share == 1.0
    split.set_share(None)
    assert split.share is None


def test_dragging_the_split_line_maps_the_pointer_to_a_share_that_keeps_a_sliver():
    split = SplitCompare()
    assert split.share_at(300, 100, 500) == 0.5
    assert split.share_at(-50, 100, 500) == 0.01  # dragged past the left edge: still grabbable
    assert split.share_at(900, 100, 500) == 1.0
