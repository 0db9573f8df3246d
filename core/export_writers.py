"""One writer object per label format (`WRITERS`, in core.export_formats.FORMATS order): the label files it puts
beside each new sample, and the whole-folder files it rebuilds from the manifest. core.export and
core.dataset_build ask these objects instead of testing a format's name, so a format is added in one place.

    voc        annotations/<id>.xml (NEU-DET's VOC)           -
    yolo       labels/<id>.txt (class cx cy w h)              -
    yolo-seg   labels/<folder>/<id>.txt (polygons)            data.yaml (Ultralytics)
    coco       -                                              annotations/instances{,_train,_val}.json
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import cv2
import numpy as np

from core.annotations import CONNECTIVITY, voc_for_boxes, write_voc
from core.export_formats import (
    SPLIT_LISTS,
    TRAIN,
    VAL,
    coco_annotations,
    coco_categories,
    ultralytics_yaml,
    yolo_box_lines,
    yolo_polygon_lines,
)
from core.export_sample import Sample
from core.imageio import load_mask
from core.resources import app_version

if TYPE_CHECKING:
    from core.dataset_build import Sample as RecordedSample

log = logging.getLogger(__name__)

COCO_FILE = "instances.json"  # under annotations/
DATA_YAML = "data.yaml"
# A mask of more separate regions than this is noise, not defects: counting them is cheap, but one COCO
# annotation per region would take minutes and gigabytes (5,329 regions: 74 s, 5.9 GB).
MAX_REGIONS_PER_MASK = 1000
Replace = Callable[[Path, bytes | None], None]  # an atomic writer of a file under the root; None removes it


class SkipSample(Exception):
    """This record cannot be described truthfully; it is left out of the whole-folder files."""


class FolderBuild(Protocol):
    """One format's whole-folder files, built over the manifest's checked samples."""

    def check(self, sample: RecordedSample) -> Any:
        """What `add` needs of this sample, read from disk; SkipSample (or ImageError) leaves it out everywhere."""

    def add(self, sample: RecordedSample, side: str, image_id: int, checked: Any) -> None: ...

    def write(self, replace: Replace, split: bool) -> None: ...


class LabelWriter:
    """A label format. The defaults: no file per sample, no whole-folder file."""

    name = ""

    def sample_files(self, sample: Sample, sample_id: str, class_names: list[str]) -> dict[Path, bytes]:
        """The label files of a new sample under `sample_id`, relative to the dataset root."""
        return {}

    def found_in(self, root: Path) -> bool:
        """Whether an earlier run left this format's whole-folder files in `root`: they must then describe every
        sample too, not only those of the run that wrote them."""
        return False

    def folder_build(self, root: Path, class_names: list[str]) -> FolderBuild | None:
        return None


class VocWriter(LabelWriter):
    name = "voc"

    def sample_files(self, sample: Sample, sample_id: str, class_names: list[str]) -> dict[Path, bytes]:
        annotation = voc_for_boxes(
            f"{sample_id}.png",
            sample.width,
            sample.height,
            sample.boxes,
            depth=sample.depth,
            database="DefectForge",
            folder=sample.folder,
        )
        return {Path("annotations", f"{sample_id}.xml"): write_voc(annotation).encode("utf-8")}


class YoloWriter(LabelWriter):
    name = "yolo"

    def sample_files(self, sample: Sample, sample_id: str, class_names: list[str]) -> dict[Path, bytes]:
        labels = yolo_box_lines(sample.boxes, class_names, sample.width, sample.height)
        return {Path("labels", f"{sample_id}.txt"): labels}


class YoloSegWriter(LabelWriter):
    """Polygons beside images/<folder>/<id>.png, where Ultralytics looks, and the data.yaml that lists them."""

    name = "yolo-seg"

    def sample_files(self, sample: Sample, sample_id: str, class_names: list[str]) -> dict[Path, bytes]:
        return {Path("labels", sample.folder, f"{sample_id}.txt"): yolo_polygon_lines(sample.label_masks, class_names)}

    def found_in(self, root: Path) -> bool:
        return (root / DATA_YAML).exists()

    def folder_build(self, root: Path, class_names: list[str]) -> FolderBuild:
        return _DataYamlBuild(root, class_names)


class CocoWriter(LabelWriter):
    """COCO instances for the whole folder (and per split), one RLE annotation per instance of each mask."""

    name = "coco"

    def found_in(self, root: Path) -> bool:
        return (root / "annotations" / COCO_FILE).exists()

    def folder_build(self, root: Path, class_names: list[str]) -> FolderBuild:
        return _CocoBuild(root, class_names)


class _DataYamlBuild:
    def __init__(self, root: Path, class_names: list[str]):
        self.root, self.class_names = root, class_names
        self.without_polygons = 0

    def check(self, sample: RecordedSample) -> None:
        return None

    def add(self, sample: RecordedSample, side: str, image_id: int, checked: None) -> None:
        if not sample.has_polygons:
            self.without_polygons += 1

    def write(self, replace: Replace, split: bool) -> None:
        if self.without_polygons:
            log.warning(
                "%d sample(s) in %s were exported without yolo-seg labels; Ultralytics sees them as images without "
                "defects",
                self.without_polygons,
                self.root,
            )
        val_list = SPLIT_LISTS[VAL] if split else SPLIT_LISTS[TRAIN]
        replace(Path(DATA_YAML), ultralytics_yaml(self.class_names, SPLIT_LISTS[TRAIN], val_list))


def _region_count(mask: np.ndarray) -> int:
    count, _ = cv2.connectedComponents(mask.astype(np.uint8), connectivity=CONNECTIVITY)
    return count - 1


class _CocoBuild:
    def __init__(self, root: Path, class_names: list[str]):
        self.root, self.class_names = root, class_names
        # The whole folder and each side of the split: COCO's "images" and "annotations" lists.
        self.parts: dict[str, dict[str, list]] = {
            part: {"images": [], "annotations": []} for part in ("all", TRAIN, VAL)
        }

    def check(self, sample: RecordedSample) -> dict[str, np.ndarray]:
        masks = {}
        for name, mask_file in sample.masks.items():
            masks[name] = load_mask(self.root / mask_file, sample.size)
            regions = _region_count(masks[name])
            if regions > MAX_REGIONS_PER_MASK:
                raise SkipSample(
                    f"its {name} mask has {regions} separate regions (at most {MAX_REGIONS_PER_MASK}): noise, "
                    "not defects"
                )
        return masks

    def add(self, sample: RecordedSample, side: str, image_id: int, checked: dict[str, np.ndarray]) -> None:
        width, height = sample.size
        entry = {"id": image_id, "file_name": sample.image, "width": width, "height": height}
        for name in ("all", side):
            annotations = self.parts[name]["annotations"]
            self.parts[name]["images"].append(entry)
            annotations += coco_annotations(checked, self.class_names, image_id, len(annotations) + 1)

    def write(self, replace: Replace, split: bool) -> None:
        for name, target in (("all", COCO_FILE), (TRAIN, "instances_train.json"), (VAL, "instances_val.json")):
            data = None
            if name == "all" or split:
                data = json.dumps(
                    {
                        "info": {"description": "DefectForge synthetic defects", "version": app_version()},
                        **self.parts[name],
                        "categories": coco_categories(self.class_names),
                    }
                ).encode()
            replace(Path("annotations", target), data)


# Every format a user can choose (FORMATS) has its writer here, in the same order (a test holds it).
WRITERS: dict[str, LabelWriter] = {w.name: w for w in (VocWriter(), YoloWriter(), YoloSegWriter(), CocoWriter())}


def chosen_writers(formats: tuple[str, ...] | list[str]) -> list[LabelWriter]:
    """The writers of `formats`, in FORMATS order (so a sample's files are listed the same way every time)."""
    return [writer for name, writer in WRITERS.items() if name in formats]
