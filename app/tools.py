"""Mask tools: each turns pointer events (already in image pixels) into document edits. Qt-free.

The canvas maps mouse events to image coordinates and calls press/move/release/finish; a call that completes
an edit returns it so the caller can push it on the undo stack. `erase` (right button) subtracts instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from app.document import Edit, MaskDocument

Point = tuple[float, float]

MIN_BRUSH, MAX_BRUSH = 1, 512


@dataclass
class ToolSettings:
    """Shared by every tool: brush diameter in image pixels."""

    brush_size: float = 24.0

    def bigger(self) -> None:
        self.brush_size = min(MAX_BRUSH, max(self.brush_size + 1, round(self.brush_size * 1.25)))

    def smaller(self) -> None:
        self.brush_size = max(MIN_BRUSH, min(self.brush_size - 1, round(self.brush_size / 1.25)))


@dataclass
class Guide:
    """What the canvas draws while a tool is busy: a shape outline in image pixels."""

    kind: str  # "rect", "ellipse", "polyline"
    points: list[Point] = field(default_factory=list)
    closed: bool = False


class Tool:
    """Base tool: does nothing. `name` is the stable id used for settings and shortcuts."""

    name = "none"
    uses_brush = False  # the canvas shows the round brush outline
    # Built one click at a time (a polygon): a double-click or a right-click finishes the shape, and the guide
    # follows the pointer between clicks.
    click_by_click = False
    # Shift held makes a square or a circle: the canvas sets `square` while the gesture goes on.
    shift_makes_square = False
    square = False

    def __init__(self, settings: ToolSettings) -> None:
        self.settings = settings

    @property
    def busy(self) -> bool:
        return False

    def press(self, doc: MaskDocument, pos: Point, erase: bool = False) -> Edit | None:
        return None

    def move(self, doc: MaskDocument, pos: Point) -> Edit | None:
        return None

    def release(self, doc: MaskDocument, pos: Point) -> Edit | None:
        return None

    def finish(self, doc: MaskDocument) -> Edit | None:
        """Double-click or Enter: complete a multi-click shape."""
        return None

    def cancel(self, doc: MaskDocument) -> None:
        """Escape: drop what is in progress."""

    def guide(self) -> Guide | None:
        return None


class BrushTool(Tool):
    name = "brush"
    uses_brush = True
    erases = False

    def __init__(self, settings: ToolSettings) -> None:
        super().__init__(settings)
        self._last: Point | None = None
        self._erase = False

    @property
    def busy(self) -> bool:
        return self._last is not None

    def press(self, doc: MaskDocument, pos: Point, erase: bool = False) -> Edit | None:
        self._erase = erase != self.erases
        self._last = pos
        doc.begin_edit()
        doc.stamp_segment(pos, pos, self.settings.brush_size, self._erase)
        return None

    def move(self, doc: MaskDocument, pos: Point) -> Edit | None:
        if self._last is None:
            return None
        # Sub-pixel jitter adds nothing but work; a fast drag still lands as one long segment.
        if math.dist(pos, self._last) < 0.5:
            return None
        doc.stamp_segment(self._last, pos, self.settings.brush_size, self._erase)
        self._last = pos
        return None

    def release(self, doc: MaskDocument, pos: Point) -> Edit | None:
        if self._last is None:
            return None
        self.move(doc, pos)
        self._last = None
        return doc.end_edit("Eraser stroke" if self._erase else "Brush stroke")

    def cancel(self, doc: MaskDocument) -> None:
        if self._last is not None:
            doc.cancel_edit()
        self._last = None


class EraserTool(BrushTool):
    name = "eraser"
    erases = True


class _DragShapeTool(Tool):
    """Press, drag, release: a rectangle or ellipse from corner to corner (Shift: square/circle)."""

    kind = "rect"
    shift_makes_square = True

    def __init__(self, settings: ToolSettings) -> None:
        super().__init__(settings)
        self._start: Point | None = None
        self._end: Point | None = None
        self._erase = False

    @property
    def busy(self) -> bool:
        return self._start is not None

    def press(self, doc: MaskDocument, pos: Point, erase: bool = False) -> Edit | None:
        self._start, self._end, self._erase = pos, pos, erase
        return None

    def move(self, doc: MaskDocument, pos: Point) -> Edit | None:
        if self._start is not None:
            self._end = pos
        return None

    def _corners(self) -> tuple[int, int, int, int]:
        assert self._start is not None and self._end is not None
        (ax, ay), (bx, by) = self._start, self._end
        if self.square:
            side = max(abs(bx - ax), abs(by - ay))
            bx = ax + math.copysign(side, bx - ax)
            by = ay + math.copysign(side, by - ay)
        x0, x1 = sorted((ax, bx))
        y0, y1 = sorted((ay, by))
        # Corners snap to the nearest pixel edge, so a drag from (10, 10) to (60, 40) covers exactly 50 x 30.
        return round(x0), round(y0), round(x1), round(y1)

    def release(self, doc: MaskDocument, pos: Point) -> Edit | None:
        if self._start is None:
            return None
        self._end = pos
        rect = self._corners()
        self._start = self._end = None
        if rect[2] - rect[0] < 1 or rect[3] - rect[1] < 1:
            return None
        with doc.edit(self._label()) as out:
            self._fill(doc, rect)
        return out[0] if out else None

    def _label(self) -> str:
        return "Rectangle"

    def _fill(self, doc: MaskDocument, rect: tuple[int, int, int, int]) -> None:
        doc.fill_rect(rect, self._erase)

    def cancel(self, doc: MaskDocument) -> None:
        self._start = self._end = None

    def guide(self) -> Guide | None:
        if self._start is None:
            return None
        x0, y0, x1, y1 = self._corners()
        return Guide(self.kind, [(x0, y0), (x1, y1)])


class RectangleTool(_DragShapeTool):
    name = "rectangle"


class EllipseTool(_DragShapeTool):
    name = "ellipse"
    kind = "ellipse"

    def _label(self) -> str:
        return "Ellipse"

    def _fill(self, doc: MaskDocument, rect: tuple[int, int, int, int]) -> None:
        doc.fill_ellipse(rect, self._erase)


class PolygonTool(Tool):
    """Click to add corners; double-click, Enter or a click on the first corner closes and fills."""

    name = "polygon"
    click_by_click = True
    close_distance = 6.0  # image pixels; the canvas scales it to stay a few screen pixels

    def __init__(self, settings: ToolSettings) -> None:
        super().__init__(settings)
        self.points: list[Point] = []
        self._hover: Point | None = None
        self._erase = False

    @property
    def busy(self) -> bool:
        return bool(self.points)

    def press(self, doc: MaskDocument, pos: Point, erase: bool = False) -> Edit | None:
        if not self.points:
            self._erase = erase
        elif len(self.points) >= 3 and math.dist(pos, self.points[0]) <= self.close_distance:
            return self.finish(doc)
        self.points.append(pos)
        return None

    def move(self, doc: MaskDocument, pos: Point) -> Edit | None:
        self._hover = pos
        return None

    def finish(self, doc: MaskDocument) -> Edit | None:
        points, self.points, self._hover = self.points, [], None
        # A double-click also lands as a press: drop the duplicate corner it adds.
        while len(points) >= 2 and math.dist(points[-1], points[-2]) < 1.0:
            points.pop()
        if len(points) < 3:
            return None
        with doc.edit("Polygon") as out:
            doc.fill_polygon(points, self._erase)
        return out[0] if out else None

    def cancel(self, doc: MaskDocument) -> None:
        self.points, self._hover = [], None

    def guide(self) -> Guide | None:
        if not self.points:
            return None
        points = list(self.points) + ([self._hover] if self._hover else [])
        return Guide("polyline", points)


class LassoTool(Tool):
    """Press and draw a closed freehand outline; release fills it."""

    name = "lasso"

    def __init__(self, settings: ToolSettings) -> None:
        super().__init__(settings)
        self.points: list[Point] = []
        self._erase = False

    @property
    def busy(self) -> bool:
        return bool(self.points)

    def press(self, doc: MaskDocument, pos: Point, erase: bool = False) -> Edit | None:
        self.points, self._erase = [pos], erase
        return None

    def move(self, doc: MaskDocument, pos: Point) -> Edit | None:
        if self.points and math.dist(pos, self.points[-1]) >= 1.0:
            self.points.append(pos)
        return None

    def release(self, doc: MaskDocument, pos: Point) -> Edit | None:
        if not self.points:
            return None
        self.move(doc, pos)
        points, self.points = self.points, []
        if len(points) < 3:
            return None
        with doc.edit("Lasso") as out:
            doc.fill_polygon(points, self._erase)
        return out[0] if out else None

    def cancel(self, doc: MaskDocument) -> None:
        self.points = []

    def guide(self) -> Guide | None:
        return Guide("polyline", list(self.points), closed=True) if self.points else None


class BucketTool(Tool):
    """Click to fill the connected region under the cursor (the inside of an outline, or an island to erase)."""

    name = "bucket"

    def press(self, doc: MaskDocument, pos: Point, erase: bool = False) -> Edit | None:
        with doc.edit("Bucket fill") as out:
            doc.bucket_fill(pos, erase)
        return out[0] if out else None


TOOL_CLASSES: tuple[type[Tool], ...] = (
    BrushTool,
    EraserTool,
    RectangleTool,
    EllipseTool,
    PolygonTool,
    LassoTool,
    BucketTool,
)


def make_tools(settings: ToolSettings) -> dict[str, Tool]:
    return {cls.name: cls(settings) for cls in TOOL_CLASSES}
