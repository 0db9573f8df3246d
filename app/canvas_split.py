"""Split compare on the canvas: how much of the width shows the original ("before"), and holding C.

Qt-free state and geometry; the canvas paints the line and its tags (app/canvas_render.py) from it.
"""

from __future__ import annotations

from dataclasses import dataclass

GRAB_PX = 6  # how near (screen pixels) a press must be to the split line to drag it
MIN_DRAG_SHARE = 0.01  # a drag keeps a sliver of "before", so the line stays where it can be grabbed again


@dataclass
class SplitCompare:
    """`share`: the left share of the image showing the original while a result is shown (None or 0: no split).
    `comparing`: C is held, so the whole view shows the original. `dragging`: the line is being dragged."""

    share: float | None = None
    comparing: bool = False
    dragging: bool = False

    def set_share(self, share: float | None) -> None:
        self.share = None if share is None else min(1.0, max(0.0, share))

    def line_x(self, left: float, right: float) -> float | None:
        """The split line's widget x, given the image's left and right edges on screen; None without a split."""
        if self.share is None or self.share <= 0.0:
            return None
        return left + (right - left) * self.share

    def share_at(self, x: float, left: float, right: float) -> float:
        """The share a drag to widget `x` sets."""
        return min(1.0, max(MIN_DRAG_SHARE, (x - left) / max(1.0, right - left)))

    def near_line(self, x: float, left: float, right: float) -> bool:
        line = self.line_x(left, right)
        return line is not None and abs(x - line) <= GRAB_PX
