"""Rebuild resources/samples/: real NEU-DET steel with its defects erased by the bundled model's own clean-up.

The app opens on these, so they must be in the default model's domain: real hot-rolled strip from the NEU
surface defect database (K. Song and Y. Yan, Northeastern University), each annotated defect box erased with
the clean-up class, so the user paints defects on clean real steel. Images come from the model's held-out
split, so the model never trained on them.

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

# One image per surface look: names in NEU-DET's flat layout (all in the default model's held-out split).
PICKS = {"clean_steel_neu_200.png": "rolled-in_scale", "clean_steel_neu_bright_200.png": "scratches",
         "clean_steel_neu_dark_200.png": "patches"}


def erase(pipeline: InpaintPipeline, image: np.ndarray, boxes, grow: int = 4) -> np.ndarray:
    mask = np.zeros(image.shape[:2], dtype=bool)
    for box in boxes:
        mask[max(0, box.y0 - grow):box.y1 + grow, max(0, box.x0 - grow):box.x1 + grow] = True
    if mask.all():
        mask[:grow, :] = False  # keep a strip of context: the pipeline refuses a mask over the whole image
    request = InpaintRequest(image=image, layers=[MaskLayer(mask, CLEANUP_CLASS)], seed=0,
                             sampler=pipeline.bundle.info.sampler)
    *_, last = pipeline.run(request)
    return last.result.variants[0].image


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", help="the NEU-DET folder")
    parser.add_argument("--model", default=str(default_model_path()))
    args = parser.parse_args()
    bundle = load_bundle(args.model)
    split = bundle.info.provenance.get("split") or {}
    _, held = split_dataset(open_dataset(args.data), float(split.get("val_fraction", 0.1)), int(split.get("seed", 0)))
    pipeline = InpaintPipeline(bundle)
    out = resource_path("samples")
    for old in out.glob("*.png"):
        old.unlink()
    for name, defect_class in PICKS.items():
        candidates = [s for s in held if s.defect_class == defect_class]
        # the image whose boxes leave the most surface: the fewest pixels to erase
        sample = min(candidates, key=lambda s: sum((b.x1 - b.x0) * (b.y1 - b.y0) for b in s.boxes))
        image = np.asarray(Image.open(sample.image).convert("RGB"))
        clean = erase(pipeline, image, sample.boxes)
        cv2.imwrite(str(out / name), cv2.cvtColor(clean, cv2.COLOR_RGB2GRAY))
        print(f"{name}: {sample.image.name} with {len(sample.boxes)} defect box(es) erased")


if __name__ == "__main__":
    main()
