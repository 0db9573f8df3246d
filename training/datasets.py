"""Datasets as the training jobs see them: reader records -> square model-size images + defect regions.

Reading goes through `core.data` and `core.imageio`, the same readers and loader the app uses.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from core.data import DatasetError, read_dataset
from core.data.common import main_class
from core.data.records import Dataset, DatasetSample
from core.imageio import ImageError, load_image, load_mask
from core.request import Box

log = logging.getLogger(__name__)

# rotations x horizontal flip: index k = rotation (k % 4) * 90 degrees counter-clockwise, then flip if k >= 4
DIHEDRAL_NAMES = ("rot0", "rot90", "rot180", "rot270", "rot0_flip", "rot90_flip", "rot180_flip", "rot270_flip")


class DataError(ValueError):
    """A dataset that cannot be used for training, with a message a user can act on."""


def _read_spec(spec: Path) -> Dataset:
    """A YAML 'dataset spec': several dataset folders merged into one class list by a class map.

    datasets: [datasets/NEU-DET, datasets/SD-saliency-900]   # relative to the spec file
    class_map: class_map.yaml                                # optional; a file, or the map itself inline
    """
    import yaml

    from core.data.class_map import ClassMapError, class_map_from_dict, load_class_map, merge

    try:
        meta = yaml.safe_load(spec.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DataError(f"{spec}: unreadable dataset spec ({exc})") from exc
    if not isinstance(meta, dict) or not isinstance(meta.get("datasets"), list) or not meta["datasets"]:
        raise DataError(f"{spec}: a dataset spec needs a 'datasets:' list of folders")
    folders = [(spec.parent / str(entry)).resolve() for entry in meta["datasets"]]
    class_map = None
    mapping = meta.get("class_map")
    try:
        if isinstance(mapping, str):
            class_map = load_class_map(spec.parent / mapping)
        elif isinstance(mapping, dict):
            class_map = class_map_from_dict(mapping, spec)
        return merge([read_dataset(folder) for folder in folders], class_map)
    except (DatasetError, ClassMapError) as exc:
        raise DataError(f"{spec}: {exc}") from exc


def open_dataset(root: Path | str) -> Dataset:
    """The dataset a training job uses: a folder of any layout `core.data.read_dataset` reads, or a YAML dataset
    spec merging several (see _read_spec).

    Problems are logged, not fatal, unless nothing usable is left.
    """
    root = Path(root)
    try:
        dataset = _read_spec(root) if root.suffix.lower() in (".yaml", ".yml") else read_dataset(root)
    except DatasetError as exc:
        raise DataError(str(exc)) from exc
    for problem in dataset.problems[:20]:
        log.warning("%s: %s", problem.path, problem.message)
    if len(dataset.problems) > 20:
        log.warning(
            "... and %d more dataset problems (see 'defectforge data inspect %s')", len(dataset.problems) - 20, root
        )
    if not dataset.samples:
        raise DataError(f"{root}: no usable images found")
    return dataset


def _split_key(sample: DatasetSample, root: Path, seed: int) -> bytes:
    try:
        name = sample.image.relative_to(root).as_posix()
    except ValueError:
        name = sample.image.name
    return hashlib.sha256(f"{seed}:{name}".encode()).digest()


def heldout_paths(dataset: Dataset, fraction: float, seed: int) -> set[Path]:
    """The held-out images: per class, the round(fraction x n) images whose path hash is smallest (at least
    one, never all of a class).

    Stratified, so every class is held out in the same share (a plain hash threshold leaves a class of 275 with
    anywhere from 18 to 37); by hash of the relative path and the seed, so the split does not depend on file
    order, and the train, tokenize and eval jobs all draw the same one.
    """
    if fraction <= 0:
        return set()
    by_class: dict[str | None, list[DatasetSample]] = {}
    for sample in dataset.samples:
        by_class.setdefault(main_class(sample.boxes, sample.defect_class), []).append(sample)
    held: set[Path] = set()
    for samples in by_class.values():
        ranked = sorted(samples, key=lambda s: _split_key(s, dataset.root, seed))
        count = min(len(ranked) - 1, max(1, round(fraction * len(ranked))))
        held.update(s.image for s in ranked[:count])
    return held


def split_dataset(dataset: Dataset, fraction: float, seed: int) -> tuple[list[DatasetSample], list[DatasetSample]]:
    """(train, held-out) samples, drawn by heldout_paths."""
    held = heldout_paths(dataset, fraction, seed)
    train = [s for s in dataset.samples if s.image not in held]
    return train, [s for s in dataset.samples if s.image in held]


def bundle_split(provenance: dict, fraction: float | None = None, seed: int | None = None) -> tuple[float, int]:
    """(held-out fraction, split seed) of the split a bundle was trained with (its provenance records them),
    unless given: every job that measures a bundle holds out the same images its training did."""
    split = dict(provenance.get("split") or {})
    return (
        fraction if fraction is not None else float(split.get("val_fraction", 0.1)),
        seed if seed is not None else int(split.get("seed", 0)),
    )


def spread(items: list, n: int) -> list:
    """At most n items evenly spaced over the list: readers sort by class, so the first n would be one class."""
    if n >= len(items):
        return list(items)
    return [items[(i * len(items)) // n] for i in range(n)]


def dataset_fingerprint(dataset: Dataset) -> str:
    """sha256 over relative paths and file sizes: cheap, and changes when files are added or replaced."""
    digest = hashlib.sha256()
    for sample in dataset.samples:
        for path in (sample.image, sample.mask):
            if path is not None:
                digest.update(f"{path.name}:{path.stat().st_size};".encode())
    return digest.hexdigest()


def dataset_record(dataset: Dataset) -> dict:
    """What a bundle's provenance says about its data: where, which layout, how many, a fingerprint, and for
    procedural data the generator's own record (version, seed, images per class)."""
    record = {
        "root": str(dataset.root.resolve()),
        "kind": dataset.kind,
        "samples": len(dataset.samples),
        "fingerprint": dataset_fingerprint(dataset),
    }
    procedural = dataset.root / "procedural.yaml"
    if procedural.is_file():
        import yaml

        try:
            meta = yaml.safe_load(procedural.read_text(encoding="utf-8")) or {}
        except (yaml.YAMLError, OSError):
            meta = {}
        record["procedural"] = {
            k: meta[k] for k in ("generator", "generator_version", "seed", "n_per_class", "size") if k in meta
        }
    return record


@dataclass
class PreparedImage:
    """One sample at model resolution."""

    image: np.ndarray  # (S, S, 3) uint8 RGB
    region: np.ndarray  # (S, S) bool: the defect (mask, or boxes when there is no mask); empty when clean
    defect_class: str | None
    boxes: tuple[Box, ...] = ()  # the sample's boxes in model pixels (clipped; those outside the crop dropped)
    native: np.ndarray | None = None  # the same square crop at the source resolution (before resizing)


def read_rgb(path: Path) -> np.ndarray:
    """Any image the app can open (gray, palette, 16-bit, RGBA...) as (H, W, 3) uint8."""
    try:
        return load_image(path).rgb
    except ImageError as exc:
        raise DataError(str(exc)) from exc


def _region(sample: DatasetSample, shape: tuple[int, int], defect_class: str | None) -> np.ndarray:
    if sample.mask is not None:
        try:
            mask = load_mask(sample.mask)
        except ImageError as exc:
            raise DataError(str(exc)) from exc
        if mask.shape != shape:
            mask = cv2.resize(mask.astype(np.uint8), (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST) > 0
        return mask
    region = np.zeros(shape, dtype=bool)
    for box in sample.boxes:
        if defect_class is None or box.defect_class == defect_class:
            region[max(0, box.y0) : max(0, box.y1), max(0, box.x0) : max(0, box.x1)] = True
    return region


def prepare(sample: DatasetSample, image_size: int) -> PreparedImage:
    """Square crop (centred on the defect when the image is not square), then resize to image_size."""
    image = read_rgb(sample.image)
    defect_class = main_class(sample.boxes, sample.defect_class)
    region = _region(sample, image.shape[:2], defect_class)
    h, w = region.shape
    side = min(h, w)
    cy, cx = h / 2, w / 2
    if region.any():
        ys, xs = np.nonzero(region)
        cy, cx = (ys.min() + ys.max() + 1) / 2, (xs.min() + xs.max() + 1) / 2
    top = int(np.clip(round(cy - side / 2), 0, h - side))
    left = int(np.clip(round(cx - side / 2), 0, w - side))
    image = image[top : top + side, left : left + side]
    native = image
    region = region[top : top + side, left : left + side]
    scale = image_size / side
    boxes = []
    for box in sample.boxes:
        x0, x1 = (int(np.clip(round((v - left) * scale), 0, image_size)) for v in (box.x0, box.x1))
        y0, y1 = (int(np.clip(round((v - top) * scale), 0, image_size)) for v in (box.y0, box.y1))
        if x1 > x0 and y1 > y0:
            boxes.append(Box(box.defect_class, x0, y0, x1, y1))
    if side != image_size:
        shrink = side > image_size
        image = cv2.resize(image, (image_size, image_size), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_CUBIC)
        # Area-average then "> 0": a thin scratch still marks every pixel it touches after shrinking.
        region = cv2.resize(region.astype(np.float32), (image_size, image_size), interpolation=cv2.INTER_AREA) > 0
    return PreparedImage(
        np.ascontiguousarray(image),
        np.ascontiguousarray(region),
        defect_class,
        tuple(boxes),
        np.ascontiguousarray(native),
    )


def dihedral(array: np.ndarray, k: int) -> np.ndarray:
    """Augmentation k of 8 on the first two axes (H, W, ...)."""
    out = np.rot90(array, k % 4, axes=(0, 1))
    if k >= 4:
        out = out[:, ::-1]
    return np.ascontiguousarray(out)


def class_list(dataset: Dataset, wanted: list[str] | None = None) -> list[str]:
    names = dataset.class_names
    if not wanted:
        if not names:
            raise DataError(f"{dataset.root}: no defect classes found (annotations missing?)")
        return names
    unknown = sorted(set(names) - set(wanted))
    if unknown:
        log.warning("classes %s are not in the class list and are trained as unlabeled", unknown)
    return list(wanted)
