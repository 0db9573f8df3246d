"""The canvas's view transform: zoom and pan between widget and image coordinates.

Qt-free floats, so the arithmetic is tested without a widget; the canvas wraps it in QPointF and repaints.
"""

from __future__ import annotations

from dataclasses import dataclass

MIN_SCALE, MAX_SCALE = 0.02, 32.0
FIT_MARGIN = 0.97  # a fitted image keeps a thin border of background around it

Point = tuple[float, float]


@dataclass
class ViewTransform:
    """widget = image * scale + offset. `fit_mode`: keep fitting the image on resize until the user zooms or pans."""

    scale: float = 1.0
    offset_x: float = 0.0
    offset_y: float = 0.0
    fit_mode: bool = True

    def to_image(self, x: float, y: float) -> Point:
        return ((x - self.offset_x) / self.scale, (y - self.offset_y) / self.scale)

    def to_widget(self, x: float, y: float) -> Point:
        return (x * self.scale + self.offset_x, y * self.scale + self.offset_y)

    def fit(self, image_size: tuple[int, int], view_size: tuple[int, int]) -> None:
        """Whole image in view, centred (an empty image leaves the view as it is, still fitting)."""
        self.fit_mode = True
        width, height = image_size
        view_width, view_height = view_size
        if not width or not height:
            return
        self.scale = min(view_width / width, view_height / height) * FIT_MARGIN
        self.offset_x = (view_width - width * self.scale) / 2
        self.offset_y = (view_height - height * self.scale) / 2

    def zoom_to(self, scale: float, anchor: Point) -> None:
        """Zoom (clamped to MIN_SCALE..MAX_SCALE) keeping the image point under `anchor` (widget) in place."""
        self.fit_mode = False
        scale = min(MAX_SCALE, max(MIN_SCALE, scale))
        x, y = self.to_image(*anchor)
        self.scale = scale
        self.offset_x, self.offset_y = anchor[0] - x * scale, anchor[1] - y * scale

    def pan_by(self, dx: float, dy: float) -> None:
        self.fit_mode = False
        self.offset_x += dx
        self.offset_y += dy
