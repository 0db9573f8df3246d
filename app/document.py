"""The mask document: the image being edited and its defect label map, both numpy arrays, with undoable edits.

Qt-free on purpose: tools and tests drive it directly, the canvas only listens and paints. Each pixel carries at
most one defect class (label 0 = no defect, k = class_names[k - 1]), so masks of different classes never overlap.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from core.masks import mask_size_problem
from core.request import MaskLayer

# x0, y0, x1, y1 in image pixels, x1/y1 exclusive.
Rect = tuple[int, int, int, int]
Listener = Callable[[Rect | None], None]  # None = everything changed (new image, new classes)

MAX_CLASSES = 255
PLACEHOLDER_CLASS = "defect"  # used for painting before any model (and so any class list) is loaded


@dataclass
class Edit:
    """One undoable change of the label map: the patch before and after, over the smallest changed rectangle."""

    text: str
    rect: Rect
    before: np.ndarray
    after: np.ndarray

    @property
    def nbytes(self) -> int:
        return int(self.before.nbytes + self.after.nbytes)


def union(a: Rect | None, b: Rect | None) -> Rect | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])


def _round_kernel(radius: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))


class MaskDocument:
    """An image plus a per-pixel defect-class label map; every change goes through an edit transaction."""

    def __init__(self, image: np.ndarray | None = None, class_names: Sequence[str] = ()) -> None:
        self.class_names: list[str] = []
        self.active_class: str = ""
        self.path: Path | None = None
        self.source: object | None = None  # core.imageio.LoadedImage when loaded from a file
        self._listeners: list[Listener] = []
        self._before: np.ndarray | None = None  # label snapshot while an edit is open
        self._dirty: Rect | None = None
        self.image = np.zeros((0, 0, 3), np.uint8)
        self.labels = np.zeros((0, 0), np.uint8)
        self.mask_left_behind: str | None = None  # why the last set_image did not carry the painted mask over
        self.set_classes(class_names)
        if image is not None:
            self.set_image(image)

    # --- shape and state -------------------------------------------------------------------------------------
    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    @property
    def height(self) -> int:
        return int(self.image.shape[0])

    @property
    def size(self) -> tuple[int, int]:
        return self.width, self.height

    @property
    def is_empty(self) -> bool:
        return self.image.size == 0

    @property
    def nbytes(self) -> int:
        """Memory held by the document (image, labels and any open edit snapshot)."""
        snapshot = self._before.nbytes if self._before is not None else 0
        return int(self.image.nbytes + self.labels.nbytes + snapshot)

    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def _notify(self, rect: Rect | None) -> None:
        for listener in list(self._listeners):
            listener(rect)

    # --- image and classes -----------------------------------------------------------------------------------
    def set_image(
        self, image: np.ndarray, path: Path | None = None, source: object | None = None, keep_mask: bool = True
    ) -> Edit | None:
        """Show a new image. With keep_mask the painted mask carries over as an edit of the new image: the
        returned Edit (None when nothing was painted) lets Undo take it off. A mask carries over by the rule an
        imported mask file follows (core.masks.mask_size_problem): only onto an image of its size, never
        stretched; otherwise it stays behind and `mask_left_behind` says why."""
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f"expected an (H, W, 3) uint8 RGB image, got {image.shape} {image.dtype}")
        height, width = image.shape[:2]
        old = self.labels
        self.mask_left_behind = None
        problem = mask_size_problem((old.shape[1], old.shape[0]), (width, height)) if old.size else None
        if keep_mask and old.any() and problem:
            self.mask_left_behind = f"the mask {problem}"
        carried = old.copy() if keep_mask and old.size and not problem else None
        self.image = np.ascontiguousarray(image)
        self.labels = np.zeros((height, width), np.uint8)
        self.path = Path(path) if path else None
        self.source = source
        self._before = None
        self._dirty = None
        self._notify(None)
        if carried is None or not carried.any():
            return None
        with self.edit("Mask carried over") as out:
            self.labels[:] = carried
            self._touched((0, 0, width, height))
        return out[0] if out else None

    def set_classes(self, class_names: Sequence[str]) -> None:
        """Adopt a model's class list. Classes already painted keep their pixels (and their label ids)."""
        for name in class_names:
            self.class_id(name)
        if class_names and self.active_class not in class_names:
            self.active_class = class_names[0]
        self._notify(None)

    def class_id(self, name: str) -> int:
        """The label value of a class, adding the class to the document if it is new."""
        if name not in self.class_names:
            if len(self.class_names) >= MAX_CLASSES:
                raise ValueError(f"at most {MAX_CLASSES} classes fit in one mask")
            self.class_names.append(name)
        return self.class_names.index(name) + 1

    def set_active_class(self, name: str) -> None:
        self.class_id(name)
        self.active_class = name

    def _active_id(self) -> int:
        if not self.active_class:
            self.active_class = PLACEHOLDER_CLASS
        return self.class_id(self.active_class)

    def mask_of(self, name: str) -> np.ndarray:
        if name not in self.class_names:
            return np.zeros(self.labels.shape, bool)
        return self.labels == self.class_names.index(name) + 1

    def pixel_counts(self) -> dict[str, int]:
        """Painted pixels per class (classes without pixels are left out)."""
        counts = np.bincount(self.labels.ravel(), minlength=len(self.class_names) + 1)
        return {name: int(counts[i + 1]) for i, name in enumerate(self.class_names) if counts[i + 1]}

    def has_mask(self) -> bool:
        return bool(self.labels.size) and bool(self.labels.any())

    def layers(self) -> list[MaskLayer]:
        """One MaskLayer per painted class, in class order: what an InpaintRequest carries."""
        return [MaskLayer(mask=self.mask_of(name), defect_class=name) for name in self.pixel_counts()]

    # --- edit transactions -----------------------------------------------------------------------------------
    def begin_edit(self) -> None:
        """Start an edit: snapshot the labels so the edit's patch can be cut out when it ends."""
        if self._before is None:
            self._before = self.labels.copy()
            self._dirty = None

    def end_edit(self, text: str) -> Edit | None:
        """Close the open edit; returns it as an Edit over the changed rectangle, or None if nothing changed."""
        before, dirty = self._before, self._dirty
        self._before, self._dirty = None, None
        if before is None or dirty is None:
            return None
        x0, y0, x1, y1 = dirty
        changed = before[y0:y1, x0:x1] != self.labels[y0:y1, x0:x1]
        rows, cols = np.flatnonzero(changed.any(axis=1)), np.flatnonzero(changed.any(axis=0))
        if rows.size == 0:
            return None
        rect = (x0 + int(cols[0]), y0 + int(rows[0]), x0 + int(cols[-1]) + 1, y0 + int(rows[-1]) + 1)
        sl = np.s_[rect[1] : rect[3], rect[0] : rect[2]]
        return Edit(text, rect, before[sl].copy(), self.labels[sl].copy())

    def cancel_edit(self) -> None:
        """Throw away an open edit, restoring the labels it touched."""
        if self._before is not None and self._dirty is not None:
            x0, y0, x1, y1 = self._dirty
            self.labels[y0:y1, x0:x1] = self._before[y0:y1, x0:x1]
            self._notify(self._dirty)
        self._before, self._dirty = None, None

    @contextlib.contextmanager
    def edit(self, text: str) -> Iterator[list[Edit]]:
        """`with doc.edit("Grow") as out:` runs one edit; out holds the resulting Edit (if anything changed)."""
        out: list[Edit] = []
        opened = self._before is None
        self.begin_edit()
        try:
            yield out
        except BaseException:
            if opened:
                self.cancel_edit()
            raise
        if opened:
            edit = self.end_edit(text)
            if edit is not None:
                out.append(edit)

    def _touched(self, rect: Rect) -> None:
        x0, y0, x1, y1 = rect
        rect = max(0, x0), max(0, y0), min(self.width, x1), min(self.height, y1)
        if rect[0] >= rect[2] or rect[1] >= rect[3]:
            return
        self._dirty = union(self._dirty, rect)
        self._notify(rect)

    def apply_patch(self, rect: Rect, patch: np.ndarray) -> None:
        """Write a stored patch back (undo/redo)."""
        x0, y0, x1, y1 = rect
        self.labels[y0:y1, x0:x1] = patch
        self._notify(rect)

    def _value(self, erase: bool) -> int:
        return 0 if erase else self._active_id()

    # --- painting primitives (call inside an edit) -----------------------------------------------------------
    def stamp_segment(
        self, p0: tuple[float, float], p1: tuple[float, float], diameter: float, erase: bool = False
    ) -> None:
        """A round-capped brush segment from p0 to p1 (image pixels, sub-pixel accurate)."""
        self.begin_edit()
        value = self._value(erase)
        shift = 2  # quarter-pixel fixed point so slow strokes stay smooth
        scale = 1 << shift
        a = (int(round(p0[0] * scale)), int(round(p0[1] * scale)))
        b = (int(round(p1[0] * scale)), int(round(p1[1] * scale)))
        thickness = max(1, int(round(diameter)))
        if thickness == 1:
            cv2.line(self.labels, a, b, value, 1, cv2.LINE_8, shift)
        else:
            # A thick cv2.line has round ends; a filled circle covers the single-click dab.
            cv2.line(self.labels, a, b, value, thickness, cv2.LINE_8, shift)
            cv2.circle(self.labels, b, int(round(diameter / 2 * scale)), value, -1, cv2.LINE_8, shift)
        radius = diameter / 2 + 2
        xs, ys = (p0[0], p1[0]), (p0[1], p1[1])
        self._touched(
            (int(min(xs) - radius), int(min(ys) - radius), int(max(xs) + radius) + 1, int(max(ys) + radius) + 1)
        )

    def fill_rect(self, rect: Rect, erase: bool = False) -> None:
        self.begin_edit()
        x0, y0, x1, y1 = rect
        x0, x1 = sorted((x0, x1))
        y0, y1 = sorted((y0, y1))
        x0, y0 = max(0, x0), max(0, y0)
        self.labels[y0:y1, x0:x1] = self._value(erase)
        self._touched((x0, y0, x1, y1))

    def fill_ellipse(self, rect: Rect, erase: bool = False) -> None:
        """The ellipse inscribed in rect."""
        self.begin_edit()
        x0, y0, x1, y1 = rect
        x0, x1 = sorted((x0, x1))
        y0, y1 = sorted((y0, y1))
        if x1 - x0 < 1 or y1 - y0 < 1:
            return
        # Pixel centres inside the inscribed ellipse: symmetric both ways, so no one-pixel spurs at the extremes
        # (cv2.ellipse rounds its outline's extreme points out to single pixels on the right and bottom).
        cx, cy, ax, ay = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2, (y1 - y0) / 2
        height, width = self.labels.shape
        left, top, right, bottom = max(0, x0), max(0, y0), min(width, x1), min(height, y1)
        if right <= left or bottom <= top:
            return
        xs = (np.arange(left, right) + 0.5 - cx) / ax
        ys = (np.arange(top, bottom) + 0.5 - cy) / ay
        inside = ys[:, None] ** 2 + xs[None, :] ** 2 <= 1.0
        self.labels[top:bottom, left:right][inside] = self._value(erase)
        self._touched((left, top, right, bottom))

    def fill_polygon(self, points: Sequence[tuple[float, float]], erase: bool = False) -> None:
        self.begin_edit()
        if len(points) < 3:
            return
        pts = np.round(np.asarray(points, np.float64) * 4).astype(np.int32).reshape(-1, 1, 2)
        cv2.fillPoly(self.labels, [pts], self._value(erase), cv2.LINE_8, 2)
        xs, ys = pts[:, 0, 0] / 4, pts[:, 0, 1] / 4
        self._touched((int(xs.min()) - 1, int(ys.min()) - 1, int(xs.max()) + 2, int(ys.max()) + 2))

    def bucket_fill(self, point: tuple[float, float], erase: bool = False) -> None:
        """Fill the 4-connected region of equal label under point (e.g. the inside of a painted outline)."""
        self.begin_edit()
        x, y = int(point[0]), int(point[1])
        if not (0 <= x < self.width and 0 <= y < self.height):
            return
        value = self._value(erase)
        if int(self.labels[y, x]) == value:
            return
        flood_mask = np.zeros((self.height + 2, self.width + 2), np.uint8)
        _, _, _, (rx, ry, rw, rh) = cv2.floodFill(self.labels, flood_mask, (x, y), value, 0, 0, 4)
        self._touched((rx, ry, rx + rw, ry + rh))

    # --- whole-mask operations (each is one edit) ------------------------------------------------------------
    def _active_bounds(self, margin: int) -> Rect | None:
        mask = self.mask_of(self.active_class).view(np.uint8)
        x, y, w, h = cv2.boundingRect(mask)
        if w == 0 or h == 0:
            return None
        return (
            max(0, x - margin),
            max(0, y - margin),
            min(self.width, x + w + margin),
            min(self.height, y + h + margin),
        )

    def grow(self, pixels: int) -> Edit | None:
        """Dilate the active class into unpainted pixels (other classes keep theirs)."""

        def dilate(window: np.ndarray, value: int) -> None:
            grown = cv2.dilate((window == value).view(np.uint8), _round_kernel(pixels)).astype(bool)
            window[grown & (window == 0)] = value

        return self._morph("Grow mask", pixels, dilate)

    def shrink(self, pixels: int) -> Edit | None:
        """Erode the active class."""

        def erode(window: np.ndarray, value: int) -> None:
            mine = window == value
            # Pad with "not mine" via BORDER_CONSTANT so the image edge does not keep pixels alive.
            kept = cv2.erode(
                mine.view(np.uint8), _round_kernel(pixels), borderType=cv2.BORDER_CONSTANT, borderValue=0
            ).astype(bool)
            window[mine & ~kept] = 0

        return self._morph("Shrink mask", pixels, erode)

    def _morph(self, name: str, pixels: int, change: Callable[[np.ndarray, int], None]) -> Edit | None:
        """One undoable edit that changes the active class inside its bounds grown by `pixels` + 1."""
        bounds = self._active_bounds(pixels + 1)
        if bounds is None or pixels < 1:
            return None
        with self.edit(name) as out:
            x0, y0, x1, y1 = bounds
            change(self.labels[y0:y1, x0:x1], self._active_id())
            self._touched(bounds)
        return out[0] if out else None

    def invert(self) -> Edit | None:
        """Active class becomes unpainted and unpainted pixels become the active class."""
        with self.edit("Invert mask") as out:
            value = self._active_id()
            mine = self.labels == value
            free = self.labels == 0
            self.labels[mine] = 0
            self.labels[free] = value
            self._touched((0, 0, self.width, self.height))
        return out[0] if out else None

    def clear_class(self) -> Edit | None:
        with self.edit("Clear class") as out:
            self.labels[self.labels == self._active_id()] = 0
            self._touched((0, 0, self.width, self.height))
        return out[0] if out else None

    def clear_all(self) -> Edit | None:
        with self.edit("Clear all masks") as out:
            self.labels[:] = 0
            self._touched((0, 0, self.width, self.height))
        return out[0] if out else None

    def import_mask(self, mask: np.ndarray) -> Edit | None:
        """Paint an (H, W) bool mask (e.g. from core.imageio.load_mask) in the active class."""
        if mask.shape != self.labels.shape:
            raise ValueError(f"mask is {mask.shape[1]}x{mask.shape[0]}, image is {self.width}x{self.height}")
        with self.edit("Import mask") as out:
            self.labels[mask.astype(bool)] = self._active_id()
            self._touched((0, 0, self.width, self.height))
        return out[0] if out else None
