"""eval's diversity and speed sections: variants of one mask compared, and single inpaints timed.

A mixin of training.evaluate.Evaluator (its `inpaint`, `cfg`, `bundle`, `sampler` and `size`), kept apart so
the evaluator's file holds the generation measures.
"""

from __future__ import annotations

import itertools
import statistics
from typing import Any

import numpy as np
import torch

from core.device import describe
from core.pixels import to_model_tensor
from training.classifier import crop_defect
from training.eval_boxes import Example, mean_of
from training.perceptual import PerceptualLoss


class TimingAndDiversity:
    def diversity_section(self, held: list[Example], perceptual: PerceptualLoss) -> dict[str, Any]:
        cfg, classes = self.cfg, self.bundle.class_names
        distances = []
        masks = [e for e in held if e.prepared.region.any()][: cfg.diversity_masks]
        for i, example in enumerate(masks):
            name = classes[example.label] if example.label >= 0 else classes[0]
            base = example.base if example.base is not None else example.prepared.image
            images, _ = self.inpaint(base, example.prepared.region, name, cfg.seed + 7 * i, variants=cfg.variants)
            crops = np.stack([crop_defect(img, example.prepared.region, 64) for img in images])
            t = to_model_tensor(crops).to(self.bundle.device)
            pairs = list(itertools.combinations(range(len(images)), 2))
            if pairs:
                a, b = zip(*pairs, strict=True)
                with torch.no_grad():
                    distances += perceptual.pairwise(t[list(a)], t[list(b)]).cpu().tolist()
        return {
            "metric": "lpips_vgg" if perceptual.mode == "lpips" else "1-ssim (VGG16 weights not on disk)",
            "mean": mean_of(distances),
            "masks": len(masks),
            "variants": cfg.variants,
            "pairs": len(distances),
        }

    def speed_section(self, held: list[Example]) -> dict[str, Any]:
        example = next((e for e in held if e.prepared.region.any()), None)
        if example is None:
            return {}
        times = [
            self.inpaint(
                example.prepared.image, example.prepared.region, self.bundle.class_names[0], self.cfg.seed + run
            )[1]
            for run in range(self.cfg.speed_runs + 1)
        ][1:]  # 1st: warm-up
        return {
            "seconds_per_inpaint": statistics.median(times),
            "min_s": min(times),
            "runs": len(times),
            "device": describe(self.bundle.device),
            "sampler_steps": self.sampler.steps,
            "image_size": self.size,
        }
