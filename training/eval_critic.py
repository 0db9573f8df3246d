"""Eval's `critic` section: does the bundle's critic (core.scoring) flag variants a user must not trust?

Every held-out real defect box (eval_boxes.pick_boxes) becomes a handful of made-up variants of the image, each
with the box as its painted region and the box's own class as the requested class, scored by
core.scoring.score_variants exactly as the app scores a run:
  known-bad   smooth_fill  cv2.inpaint (Telea) of the box: no defect at all
              flat_fill    the box filled with the class's mean grey tone (over the chosen boxes of that class)
              blurred      the real defect, Gaussian-blurred (BLUR_SIGMA model pixels)
              other_class  a real defect of another class pasted into the box (resized to it)
  known-good  real         the real defect itself, left in place (a perfect re-paste)
Fakes are blended in with the pipeline's feathered alpha and labelled as the pipeline labels, so seams and
spill look like the app's and only the painted region itself can give a fake away.
Accuracy: on the bad set, the share flagged poor; on the good set, the share not flagged.
No model runs here: it measures the judge, not the generator, so it takes seconds.
"""

from __future__ import annotations

from collections import Counter

import cv2
import numpy as np

from core.masks import blend_cover, feathered_alpha
from core.request import Box, InpaintRequest, InpaintResult, MaskLayer, VariantResult
from core.scoring import Critic, VariantScore, box_region, score_variants
from training.eval_boxes import Example, mean_of, pick_boxes

BLUR_SIGMA = 3.0  # model pixels: about the softness of a defect drawn by an under-trained model
BAD_KINDS = ("smooth_fill", "flat_fill", "blurred", "other_class")
GOOD_KINDS = ("real",)
FEATHER_PX = InpaintRequest.feather_px  # the app's default blend width, in model pixels


def _grown(box: tuple[int, int, int, int], shape: tuple[int, ...], px: int) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = box
    return max(0, x0 - px), max(0, y0 - px), min(shape[1], x1 + px), min(shape[0], y1 + px)


def bad_and_good_variants(
    chosen: list[tuple[Example, tuple[int, int, int, int]]], feather_px: int = FEATHER_PX
) -> list[tuple[str, str, np.ndarray, tuple[int, int, int, int], np.ndarray]]:
    """(kind, requested class, variant image, box, original image) for every chosen box and every kind. Each
    fake covers the box grown by the feather and is blended in with the pipeline's feathered alpha, as the app
    blends a generated window, so a seam does not give it away: only the painted region can."""
    tones: dict[str, list[float]] = {}
    for example, box in chosen:
        gray = cv2.cvtColor(example.prepared.image, cv2.COLOR_RGB2GRAY)
        tones.setdefault(example.prepared.defect_class, []).append(float(gray[box_region(gray.shape, box)].mean()))
    out = []
    for n, (example, box) in enumerate(chosen):
        image, name = example.prepared.image, example.prepared.defect_class
        region = box_region(image.shape, box)
        alpha = feathered_alpha(region, feather_px)[..., None]
        grown = box_region(image.shape, _grown(box, image.shape, feather_px + 1))
        fakes = {
            "smooth_fill": cv2.inpaint(image, grown.astype(np.uint8) * 255, 5, cv2.INPAINT_TELEA),
            "flat_fill": np.full_like(image, round(float(np.mean(tones[name])))),
            "blurred": cv2.GaussianBlur(image, (0, 0), BLUR_SIGMA),
        }
        others = [(e, b) for e, b in chosen[n + 1 :] + chosen[:n] if e.prepared.defect_class != name]
        if others:
            other, other_box = others[0]
            gx0, gy0, gx1, gy1 = _grown(box, image.shape, feather_px + 1)
            ox0, oy0, ox1, oy1 = _grown(other_box, other.prepared.image.shape, feather_px + 1)
            pasted = image.copy()
            patch = other.prepared.image[oy0:oy1, ox0:ox1]
            pasted[gy0:gy1, gx0:gx1] = cv2.resize(patch, (gx1 - gx0, gy1 - gy0), interpolation=cv2.INTER_AREA)
            fakes["other_class"] = pasted
        out.append(("real", name, image.copy(), box, image))
        for kind, fake in fakes.items():
            blended = np.clip(alpha * fake.astype(np.float32) + (1 - alpha) * image, 0, 255).round().astype(np.uint8)
            out.append((kind, name, blended, box, image))
    return out


def score_one(critic: Critic, image: np.ndarray, variant: np.ndarray, box, name: str, size: int) -> VariantScore:
    """The scores the app would show for `variant` of `image` painted as `name` in `box` (labelled as the
    pipeline labels: the box grown into the feather band as far as the blend changed pixels)."""
    region = box_region(image.shape, box)
    label = blend_cover(feathered_alpha(region, FEATHER_PX), image, variant) | region
    request = InpaintRequest(image, [MaskLayer(region, name)], seed=0, feather_px=FEATHER_PX)
    result = InpaintResult(request, [VariantResult(0, variant, {name: label}, [Box(name, *box)])], "eval", "", 0.0)
    return score_variants(result, critic, size)[0]


def critic_section(critic: Critic | None, held: list[Example], classes: list[str], per_class: int, size: int):
    """The critic's accuracy on known-bad and known-good variants of held-out real defects (module notes)."""
    if critic is None:
        return {"skipped": "the bundle has no classifier (add one with 'defectforge train classifier')"}
    chosen = pick_boxes(held, classes, per_class)
    if not chosen:
        return {"skipped": "no held-out defect boxes"}
    flagged: dict[str, list[bool]] = {kind: [] for kind in (*BAD_KINDS, *GOOD_KINDS)}
    grain: dict[str, list[float]] = {kind: [] for kind in flagged}
    reasons: dict[str, Counter] = {kind: Counter() for kind in flagged}
    per_class: dict[str, dict[str, list[bool]]] = {name: {"bad": [], "good": []} for name in classes}
    for kind, name, variant, box, image in bad_and_good_variants(chosen):
        score = score_one(critic, image, variant, box, name, size)
        flagged[kind].append(score.poor)
        if score.grain is not None:
            grain[kind].append(score.grain)
        reasons[kind].update(
            reason.split(" ")[0] if not reason.startswith("class") else "class" for reason in score.reasons
        )
        right = score.poor if kind in BAD_KINDS else not score.poor
        per_class[name]["bad" if kind in BAD_KINDS else "good"].append(right)
    bad = [f for kind in BAD_KINDS for f in flagged[kind]]
    good = [not f for kind in GOOD_KINDS for f in flagged[kind]]
    return {
        "bad": {"accuracy": mean_of(bad), "variants": len(bad)},
        "good": {"accuracy": mean_of(good), "variants": len(good)},
        "per_kind": {
            kind: {
                "flagged": mean_of(flagged[kind]),
                "variants": len(flagged[kind]),
                "median_grain": float(np.median(grain[kind])) if grain[kind] else None,
                "reasons": dict(reasons[kind]),
            }
            for kind in flagged
        },
        "per_class": {
            name: {k: mean_of(v) for k, v in sets.items()} for name, sets in per_class.items() if sets["good"]
        },
        "boxes": len(chosen),
        "blur_sigma": BLUR_SIGMA,
    }
