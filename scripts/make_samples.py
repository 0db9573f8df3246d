"""Rebuild resources/samples/: real NEU-DET steel with its few small defects erased.

The app opens on these, so they must be in the default model's domain: real hot-rolled strip from the NEU
surface defect database (K. Song and Y. Yan, Northeastern University). The two held-out images whose defects
cover the least surface (thin inclusion streaks on smooth strip) have each annotated box filled by OpenCV's
Telea inpainting, which leaves no trace on smooth steel; the default model's own clean-up class still leaves a
visibly blotchy patch there (`--erase model` shows it). Images come from the model's held-out split, so the
model never trained on them.

    .venv/bin/python scripts/make_samples.py ../shared/datasets/NEU-DET [--model resources/models/default]
"""

from __future__ import annotations

import argparse

import cv2
import numpy as np
from PIL import Image

from core.bundle import load_bundle
from core.pipeline import InpaintPipeline
from core.request import CLEANUP_CLASS, InpaintRequest, MaskLayer
from core.resources import default_model_path, resource_path
from training.datasets import open_dataset, split_dataset

# Held-out images whose defects cover the least surface (the least for the clean-up to invent), one per look.
PICKS = {"clean_steel_neu_200.png": "inclusion_239.jpg", "clean_steel_neu_dark_200.png": "inclusion_138.jpg"}


def erase(pipeline: InpaintPipeline | None, image: np.ndarray, boxes, grow: int = 2) -> np.ndarray:
    mask = np.zeros(image.shape[:2], dtype=bool)
    for box in boxes:
        mask[max(0, box.y0 - grow) : box.y1 + grow, max(0, box.x0 - grow) : box.x1 + grow] = True
    if pipeline is None:
        return cv2.inpaint(image, mask.astype(np.uint8) * 255, 3, cv2.INPAINT_TELEA)
    if mask.all():
        mask[:grow, :] = False  # keep a strip of context: the pipeline refuses a mask over the whole image
    request = InpaintRequest(
        image=image, layers=[MaskLayer(mask, CLEANUP_CLASS)], seed=0, sampler=pipeline.bundle.info.sampler
    )
    *_, last = pipeline.run(request)
    return last.result.variants[0].image


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", help="the NEU-DET folder")
    parser.add_argument("--model", default=str(default_model_path()))
    parser.add_argument("--erase", choices=("telea", "model"), default="telea")
    args = parser.parse_args()
    bundle = load_bundle(args.model)
    split = bundle.info.provenance.get("split") or {}
    _, held = split_dataset(open_dataset(args.data), float(split.get("val_fraction", 0.1)), int(split.get("seed", 0)))
    pipeline = InpaintPipeline(bundle) if args.erase == "model" else None
    out = resource_path("samples")
    for old in out.glob("*.png"):
        old.unlink()
    by_name = {s.image.name: s for s in held}
    for name, source in PICKS.items():
        if source not in by_name:
            raise SystemExit(f"{source} is not in the model's held-out split: pick another held-out image")
        sample = by_name[source]
        image = np.asarray(Image.open(sample.image).convert("RGB"))
        clean = erase(pipeline, image, sample.boxes)
        cv2.imwrite(str(out / name), cv2.cvtColor(clean, cv2.COLOR_RGB2GRAY))
        print(f"{name}: {sample.image.name} with {len(sample.boxes)} defect box(es) erased")


if __name__ == "__main__":
    main()
