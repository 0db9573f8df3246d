"""Annotations, one home: Pascal VOC as NEU-DET writes it (tab-indented, 1-based inclusive pixel boxes).

Reading tolerates what public datasets do to the format (a <filename> without extension, float coordinates,
missing <size>); writing produces the exact NEU-DET shape, so tools made for NEU-DET read our files. Boxes come
from masks one way: a mask's instances are its 8-connected regions (`mask_instances`), boxed by `mask_boxes` for
the pipeline's labels and VOC/YOLO, and traced by core.export_formats for COCO and polygons, so all of them agree.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

import cv2
import numpy as np

from core.names import NEU_CODES
from core.request import Box

# A mask's instances are its 8-connected regions: a diagonal touch joins two strokes into one defect.
CONNECTIVITY = 8


class VocError(ValueError):
    """An annotation file that is not readable VOC XML."""


@dataclass
class VocObject:
    name: str
    # VOC pixel indices: 1-based, max inclusive. Box(x0, y0, x1, y1) is 0-based, max exclusive.
    xmin: int
    ymin: int
    xmax: int
    ymax: int
    pose: str = "Unspecified"
    truncated: int = 0
    difficult: int = 0

    def to_box(self, defect_class: str | None = None) -> Box:
        # Some tools write 0-based VOC; an xmin of 0 is taken as the first pixel rather than as off-image.
        return Box(defect_class or self.name, max(self.xmin - 1, 0), max(self.ymin - 1, 0), self.xmax, self.ymax)

    @classmethod
    def from_box(cls, box: Box, width: int, height: int) -> VocObject:
        touches_edge = box.x0 <= 0 or box.y0 <= 0 or box.x1 >= width or box.y1 >= height
        return cls(box.defect_class, box.x0 + 1, box.y0 + 1, box.x1, box.y1, truncated=int(touches_edge))


@dataclass
class VocAnnotation:
    filename: str
    width: int | None = None
    height: int | None = None
    depth: int | None = None
    objects: list[VocObject] = field(default_factory=list)
    folder: str = ""
    database: str = ""


def _text(node: ET.Element | None, tag: str, default: str = "") -> str:
    found = node.find(tag) if node is not None else None
    return (found.text or "").strip() if found is not None and found.text is not None else default


def _int(text: str) -> int:
    return int(round(float(text)))


def _flag(text: str) -> int:
    """A 0/1 flag; labelling tools sometimes leave words or nothing there, which mean 0."""
    try:
        return _int(text)
    except ValueError:
        return 0


def read_voc(path: Path) -> VocAnnotation:
    """Parse one VOC file. Raises VocError when the XML or a box's numbers can't be read."""
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError) as error:
        raise VocError(f"unreadable annotation: {error}") from error
    if root.tag != "annotation":
        raise VocError(f"not a VOC annotation (root element <{root.tag}>)")
    size = root.find("size")
    try:
        width = _int(_text(size, "width")) if _text(size, "width") else None
        height = _int(_text(size, "height")) if _text(size, "height") else None
        depth = _int(_text(size, "depth")) if _text(size, "depth") else None
    except ValueError as error:
        raise VocError(f"bad <size>: {error}") from error
    objects = []
    for node in root.findall("object"):
        box = node.find("bndbox")
        try:
            coords = [_int(_text(box, tag)) for tag in ("xmin", "ymin", "xmax", "ymax")]
        except ValueError as error:
            raise VocError(f"bad <bndbox> for object {_text(node, 'name')!r}: {error}") from error
        objects.append(
            VocObject(
                _text(node, "name"),
                *coords,
                pose=_text(node, "pose", "Unspecified"),
                truncated=_flag(_text(node, "truncated")),
                difficult=_flag(_text(node, "difficult")),
            )
        )
    return VocAnnotation(
        _text(root, "filename"),
        width,
        height,
        depth,
        objects,
        folder=_text(root, "folder"),
        database=_text(root.find("source"), "database"),
    )


def write_voc(annotation: VocAnnotation) -> str:
    """The XML text, laid out exactly like a NEU-DET annotation file."""
    lines = [
        "<annotation>",
        f"\t<folder>{escape(annotation.folder)}</folder>",
        f"\t<filename>{escape(annotation.filename)}</filename>",
        "\t<source>",
        f"\t\t<database>{escape(annotation.database)}</database>",
        "\t</source>",
        "\t<size>",
        f"\t\t<width>{annotation.width}</width>",
        f"\t\t<height>{annotation.height}</height>",
        f"\t\t<depth>{annotation.depth}</depth>",
        "\t</size>",
        "\t<segmented>0</segmented>",
    ]
    for obj in annotation.objects:
        lines += [
            "\t<object>",
            f"\t\t<name>{escape(obj.name)}</name>",
            f"\t\t<pose>{escape(obj.pose)}</pose>",
            f"\t\t<truncated>{obj.truncated}</truncated>",
            f"\t\t<difficult>{obj.difficult}</difficult>",
            "\t\t<bndbox>",
            f"\t\t\t<xmin>{obj.xmin}</xmin>",
            f"\t\t\t<ymin>{obj.ymin}</ymin>",
            f"\t\t\t<xmax>{obj.xmax}</xmax>",
            f"\t\t\t<ymax>{obj.ymax}</ymax>",
            "\t\t</bndbox>",
            "\t</object>",
        ]
    lines.append("</annotation>")
    return "\n".join(lines) + "\n"


def voc_for_boxes(
    filename: str,
    width: int,
    height: int,
    boxes: list[Box] | tuple[Box, ...],
    depth: int = 1,
    database: str = "NEU-DET",
    folder: str | None = None,
) -> VocAnnotation:
    """A NEU-DET style annotation for boxes on one image (<folder> defaults to NEU's class code: NEU-DET's
    <folder> holds a two-letter code rather than a folder name)."""
    first = boxes[0].defect_class if boxes else ""
    folder = folder if folder is not None else NEU_CODES.get(first, first)
    objects = [VocObject.from_box(box, width, height) for box in boxes]
    return VocAnnotation(filename, width, height, depth, objects, folder=folder, database=database)


@dataclass(frozen=True, eq=False)
class Instance:
    """One instance of a label mask: an 8-connected region, its box (0-based, max exclusive) and its area."""

    x0: int
    y0: int
    x1: int
    y1: int
    area: int
    labels: np.ndarray  # the whole mask's region labels (shared by its instances)
    label: int

    @property
    def pixels(self) -> np.ndarray:
        """This instance alone, as a boolean mask of the whole image."""
        return self.labels == self.label


def mask_instances(mask: np.ndarray) -> list[Instance]:
    """The instances of `mask`, top to bottom then left to right: the one rule for boxes, COCO and polygons."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(np.asarray(mask, np.uint8), connectivity=CONNECTIVITY)
    found = [
        Instance(int(x), int(y), int(x + w), int(y + h), int(area), labels, k)
        for k, (x, y, w, h, area) in enumerate(stats[1:count], start=1)
    ]
    return sorted(found, key=lambda i: (i.y0, i.x0))


def mask_boxes(mask: np.ndarray, defect_class: str, min_area: int = 1) -> list[Box]:
    """One box per instance of `mask` (`mask_instances`), top to bottom then left to right."""
    return [Box(defect_class, i.x0, i.y0, i.x1, i.y1) for i in mask_instances(mask) if i.area >= min_area]
