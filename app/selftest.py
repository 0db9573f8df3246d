"""`defectforge --self-test`: load the model, inpaint the bundled sample headlessly, export, verify the files.

Works from source and inside the PyInstaller bundle; prints one line and returns 0 (pass) or 1 (fail).
No Qt: it checks the engine a bundle ships, not the window.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np


def _sample_mask(height: int, width: int) -> np.ndarray:
    """An elongated ellipse a little off centre: a plausible scratch-sized region."""
    yy, xx = np.mgrid[0:height, 0:width]
    cy, cx = height * 0.55, width * 0.45
    return ((yy - cy) / (height * 0.08)) ** 2 + ((xx - cx) / (width * 0.22)) ** 2 <= 1.0


def _verify_export(root: Path, sample_id: str, defect_class: str, size: tuple[int, int]) -> None:
    from PIL import Image

    image = root / "images" / defect_class / f"{sample_id}.png"
    mask = root / "masks" / defect_class / f"{sample_id}.png"
    for path in (
        image,
        mask,
        root / "annotations" / f"{sample_id}.xml",
        root / "labels" / f"{sample_id}.txt",
        root / "classes.txt",
        root / "manifest.jsonl",
    ):
        if not path.is_file() or path.stat().st_size == 0:
            raise RuntimeError(f"export is missing {path.relative_to(root)}")
    with Image.open(image) as im:
        if im.size != size:
            raise RuntimeError(f"exported image is {im.size}, expected {size}")
    with Image.open(mask) as m:
        values = set(np.unique(np.asarray(m)).tolist())
        if not values <= {0, 255} or 255 not in values:
            raise RuntimeError(f"exported mask is not a 0/255 mask: {sorted(values)}")
    names = [o.findtext("name") for o in ET.parse(root / "annotations" / f"{sample_id}.xml").getroot().iter("object")]
    if defect_class not in names:
        raise RuntimeError("VOC annotation lacks the defect")
    rows = [line.split() for line in (root / "labels" / f"{sample_id}.txt").read_text().splitlines() if line.strip()]
    if not rows or any(len(r) != 5 or not all(0.0 <= float(v) <= 1.0 for v in r[1:]) for r in rows):
        raise RuntimeError("YOLO label is malformed")
    records = [json.loads(line) for line in (root / "manifest.jsonl").read_text().splitlines()]
    if not any(r.get("id") == sample_id for r in records):
        raise RuntimeError("manifest has no line for the sample")


def run_self_test(model: str | None = None) -> str:
    """Returns the one-line success summary; raises on any failure."""
    from core.bundle import load_bundle
    from core.device import choose_device, describe
    from core.export import DatasetExporter
    from core.imageio import load_image
    from core.pipeline import InpaintPipeline
    from core.request import InpaintRequest, MaskLayer
    from core.resources import default_model_path, sample_image_paths

    device = choose_device(None)
    bundle = load_bundle(Path(model) if model else default_model_path(), device=device)
    samples = sample_image_paths()
    if not samples:
        raise RuntimeError("no bundled sample image found")
    source = load_image(samples[0])
    width, height = source.size
    defect_class = bundle.class_names[-1]
    sampler = bundle.info.sampler
    request = InpaintRequest(
        image=source.rgb,
        layers=[MaskLayer(_sample_mask(height, width), defect_class)],
        seed=1234,
        sampler=sampler,
        source_path=source.path,
    )
    start = time.perf_counter()
    result = None
    for event in InpaintPipeline(bundle).run(request):
        result = event.result or result
    if result is None:
        raise RuntimeError("the pipeline ended without a result")
    seconds = time.perf_counter() - start
    changed = np.any(result.variants[0].image != source.rgb)
    if not changed:
        raise RuntimeError("the inpaint changed no pixel")
    with tempfile.TemporaryDirectory(prefix="defectforge-selftest-") as tmp:
        exporter = DatasetExporter(Path(tmp), bundle.class_names)
        sample_id = exporter.export(result, 0, source)
        _verify_export(Path(tmp), sample_id, defect_class, (width, height))
    return (
        f"self-test passed: model {bundle.name}, {describe(device)}, {width}x{height} {defect_class} "
        f"inpaint in {seconds:.2f} s, export verified"
    )


def main(model: str | None = None) -> int:
    try:
        print(run_self_test(model), flush=True)
        return 0
    except Exception as exc:  # the self-test reports every failure as one line, whatever it is
        print(f"self-test FAILED: {type(exc).__name__}: {exc}", file=sys.stdout, flush=True)
        return 1
