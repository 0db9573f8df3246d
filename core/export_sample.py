"""What one variant becomes in a dataset folder: the bytes of its image and masks and its manifest record, made
before anything is written (core.export then writes them all or nothing, under an id it chooses, with the label
files core.export_writers make for that id)."""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from core.fsutil import sha256_file
from core.imageio import LoadedImage, to_source_mode
from core.names import short_stem
from core.request import Box, InpaintResult, VariantResult, image_sha256, mask_sha256, sample_key
from core.resources import app_version

CLEAN_FOLDER = "clean"
MIXED_FOLDER = "mixed"  # images holding several classes: no single class folder would be true for them
# <out>/cleanup/<id>.png: the pixels a Clean-up changed, which no defect label marks. Beside masks/, not in it:
# every folder under masks/ is a class to a segmentation reader.
CLEANUP_FOLDER = "cleanup"
_GRAY_MODES = ("1", "L", "LA", "I", "I;16", "I;16L", "I;16B", "I;16N")


class ExportError(Exception):
    """An export that could not be done; nothing of the sample was kept."""


@dataclass
class Sample:
    """One variant as files: an image, a mask per class present, label files, the clean-up region, a record."""

    base_id: str  # the id it gets unless taken (then -1, -2, ...)
    folder: str  # images/<folder>/: its one class, MIXED_FOLDER or CLEAN_FOLDER
    present: list[str]  # the classes it holds, in layer order
    record: dict[str, Any]  # the manifest line, less what depends on the id
    image_png: bytes
    mask_pngs: dict[str, bytes]  # class -> 0/255 mask
    cleanup_png: bytes | None  # 0/255 mask of the pixels a Clean-up changed; None without one
    width: int
    height: int
    depth: int  # VOC's channel count
    boxes: list[Box]
    label_masks: dict[str, np.ndarray]  # class -> its label mask, for each class present (polygons trace them)


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "image"


def _png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _mask_png(mask: np.ndarray) -> bytes:
    return _png_bytes(Image.fromarray(mask.astype(np.uint8) * 255))


def _image(chosen: VariantResult, source: LoadedImage | None) -> Image.Image:
    if source is None:
        return Image.fromarray(chosen.image)
    if source.rgb.shape != chosen.image.shape:
        raise ExportError(
            f"the source image {source.path} is {source.size[0]}x{source.size[1]} but the result "
            f"is {chosen.image.shape[1]}x{chosen.image.shape[0]}"
        )
    return to_source_mode(source, chosen.image)


def _source_sha(chosen: VariantResult, source: LoadedImage | None, source_path: Path | None) -> str:
    if source is not None and source.sha256:
        return source.sha256
    if source is not None:
        return image_sha256(source.rgb)
    if source_path is not None and Path(source_path).is_file():
        return sha256_file(Path(source_path))
    return image_sha256(chosen.image)


def make_sample(
    result: InpaintResult,
    variant: int,
    source: LoadedImage | None,
    class_names: list[str],
    extra: dict[str, Any] | None = None,
) -> Sample:
    """The files and record of `result`'s `variant`; ExportError for a variant that does not exist, a class the
    folder does not hold, or a source of another size."""
    if not 0 <= variant < len(result.variants):
        raise ExportError(f"the result has {len(result.variants)} variant(s); there is no variant {variant}")
    chosen = result.variants[variant]
    request = result.request
    layer_classes = list(dict.fromkeys(layer.defect_class for layer in request.layers))
    present = [c for c in layer_classes if c in chosen.label_masks and chosen.label_masks[c].any()]
    present += [c for c in chosen.label_masks if c not in present and chosen.label_masks[c].any()]
    unknown = [c for c in present if c not in class_names]
    if unknown:
        raise ExportError(f"class {unknown[0]!r} is not in this folder's classes ({', '.join(class_names)})")
    image = _image(chosen, source)
    width, height = image.size
    folder = present[0] if len(present) == 1 else MIXED_FOLDER if present else CLEAN_FOLDER
    boxes = [b for name in present for b in chosen.boxes if b.defect_class == name]
    source_path = source.path if source is not None and source.path else request.source_path
    source_sha = _source_sha(chosen, source, request.source_path)
    masks_sha = mask_sha256(request.layers)
    stem = short_stem(_safe_name(Path(source_path).stem)) if source_path else "image"
    image_png = _png_bytes(image)
    cleanup = chosen.cleanup_mask
    cleanup = cleanup if cleanup is not None and cleanup.any() else None
    record = {
        "class": folder,  # where the image is filed; "classes" lists every class in it
        "classes": present,
        "variant": variant,
        "seed": chosen.seed,
        "source_path": str(source_path) if source_path else None,
        "source_sha256": source_sha,
        "mask_sha256": masks_sha,
        "key": sample_key(source_sha, [layer.defect_class for layer in request.layers], chosen.seed, masks_sha),
        "settings": request.to_record(),
        "bundle": result.model_name,
        "bundle_fingerprint": result.model_fingerprint,
        "image_mode": image.mode,
        "image_sha256": hashlib.sha256(image_png).hexdigest(),  # what makes a re-run's export a duplicate
        # The EXIF orientation the source was turned upright by: image and masks are in that upright frame.
        "source_orientation": source.orientation if source is not None else None,
        "size": [width, height],
        "boxes": [[b.defect_class, b.x0, b.y0, b.x1, b.y1] for b in boxes],
        "cleanup_pixels": int(cleanup.sum()) if cleanup is not None else 0,
        "app_version": app_version(),
    }
    if extra:
        record["extra"] = extra
    return Sample(
        base_id=_safe_name(f"{stem}_{folder}_s{chosen.seed}"),
        folder=folder,
        present=present,
        record=record,
        image_png=image_png,
        mask_pngs={name: _mask_png(chosen.label_masks[name]) for name in present},
        cleanup_png=_mask_png(cleanup) if cleanup is not None else None,
        width=width,
        height=height,
        depth=1 if image.mode in _GRAY_MODES else 3,
        boxes=boxes,
        label_masks={name: chosen.label_masks[name] for name in present},
    )
