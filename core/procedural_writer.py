"""Write procedural samples as a NEU-DET-layout dataset, plus the masks and clean surfaces NEU-DET lacks.

    <out>/IMAGES/<class>_<n>.jpg        grayscale JPEG, as NEU-DET ships them
    <out>/ANNOTATIONS/<class>_<n>.xml   Pascal VOC as NEU-DET writes it, one object per drawn instance
    <out>/MASKS/<class>_<n>.png         0/255, exactly the pixels the defect changed
    <out>/CLEAN/<class>_<n>.png         the same surface before the defect was drawn
    <out>/procedural.yaml               provenance: generator version, seed, counts, how sample seeds derive
    <out>/README.md

Everything is written into a hidden sibling folder first and renamed into place at the end (`fsutil.staged_folder`),
so an interrupted run never leaves a half-written dataset under the name asked for.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
import yaml
from PIL import Image

from core.annotations import voc_for_boxes, write_voc
from core.fsutil import staged_folder
from core.procedural import GENERATOR_VERSION, NEU_CLASSES, make_sample

log = logging.getLogger(__name__)

JPEG_QUALITY = 92
PROVENANCE_FILE = "procedural.yaml"


def sample_seed(seed: int, class_index: int, number: int) -> int:
    """Each file's own seed, so any one sample can be remade alone: make_sample(sample_seed(...), size, class)."""
    return int(np.random.SeedSequence([seed, class_index, number]).generate_state(1)[0])


def _readme(n_per_class: int, seed: int, size: int) -> str:
    return (
        "# Procedural NEU-DET-layout dataset\n\n"
        f"Made by DefectForge's procedural generator {GENERATOR_VERSION}: {n_per_class} images per class, "
        f"{size}x{size}, seed {seed}. Remake it with\n\n"
        f"    defectforge data procedural --out DIR --per-class {n_per_class} --seed {seed} --size {size}\n\n"
        "IMAGES/ and ANNOTATIONS/ follow NEU-DET (VOC boxes, 1-based inclusive). MASKS/ holds the exact defect\n"
        "pixels (0/255) and CLEAN/ the surface before the defect was drawn. See procedural.yaml.\n"
    )


def write_neu_det(
    out: Path,
    n_per_class: int,
    seed: int,
    size: int = 200,
    progress: Callable[[int], None] | None = None,
) -> Path:
    """Write `n_per_class` samples of each NEU class to `out` (which must not exist or be empty).

    `progress` is called with 1 after each sample (a progress bar's update). Returns `out`.
    """
    out = Path(out)
    if n_per_class < 1:
        raise ValueError("n_per_class must be at least 1")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise FileExistsError(f"{out} exists and is not an empty folder")
    # An empty folder at `out` is replaced; anything else was refused above.
    with staged_folder(out, replace=True) as staging:
        folders = {name: staging / name for name in ("IMAGES", "ANNOTATIONS", "MASKS", "CLEAN")}
        for folder in folders.values():
            folder.mkdir(parents=True)
        counts = {}
        for class_index, defect_class in enumerate(NEU_CLASSES):
            instances = 0
            for number in range(1, n_per_class + 1):
                stem = f"{defect_class}_{number}"
                sample = make_sample(sample_seed(seed, class_index, number), size=size, defect_class=defect_class)
                # R = G = B, so one channel is the whole picture; NEU-DET's JPEGs are single-channel too.
                Image.fromarray(sample.image[:, :, 0]).save(folders["IMAGES"] / f"{stem}.jpg", quality=JPEG_QUALITY)
                Image.fromarray(sample.clean[:, :, 0]).save(folders["CLEAN"] / f"{stem}.png")
                Image.fromarray(sample.mask.astype(np.uint8) * 255).save(folders["MASKS"] / f"{stem}.png")
                height, width = sample.mask.shape
                xml = write_voc(voc_for_boxes(f"{stem}.jpg", width, height, sample.boxes))
                (folders["ANNOTATIONS"] / f"{stem}.xml").write_text(xml, encoding="utf-8")
                instances += len(sample.boxes)
                if progress is not None:
                    progress(1)
            counts[defect_class] = {"images": n_per_class, "instances": instances}
        provenance = {
            "generator": "defectforge.core.procedural",
            "generator_version": GENERATOR_VERSION,
            "seed": seed,
            "n_per_class": n_per_class,
            "size": size,
            "count": n_per_class * len(NEU_CLASSES),
            "classes": list(NEU_CLASSES),
            "per_class": counts,
            "sample_seed": "numpy SeedSequence([seed, class_index, n]).generate_state(1)[0]; n starts at 1",
            "layout": {
                "IMAGES": "jpg, grayscale",
                "ANNOTATIONS": "Pascal VOC as NEU-DET",
                "MASKS": "png 0/255 exact defect pixels",
                "CLEAN": "png, surface before the defect",
            },
        }
        (staging / PROVENANCE_FILE).write_text(yaml.safe_dump(provenance, sort_keys=False), encoding="utf-8")
        (staging / "README.md").write_text(_readme(n_per_class, seed, size), encoding="utf-8")
    log.info("wrote %d procedural samples to %s", n_per_class * len(NEU_CLASSES), out)
    return out
