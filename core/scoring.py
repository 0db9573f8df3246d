"""Measured scores for every generated variant, and the small defect classifier (the critic) behind two of them.

A bundle may carry the critic as an optional part, `classifier.safetensors` (see core.bundle): the CNN's weights,
its class list and width in the metadata, and the judge features of up to REAL_PER_CLASS real crops per class.
Scores of one variant (VariantScore), each a plain number a user can read:

  class_fidelity  the critic's softmax probability of the requested class for the crop of each labeled box,
                  averaged over the variant's boxes. None without a critic.
  realism         distance of each box crop's critic feature to real crops of its class: the mean Euclidean
                  distance to its REALISM_K nearest real features, divided by the same measure among the real
                  crops themselves (each real against the others, median over the class). About 1: as close to
                  the real crops as they are to each other; 2: twice as far. None without a critic.
  grain           the fine texture inside the painted region itself (core.scoring.region_grain: RMS of the
                  detail finer than GRAIN_SIGMA, on the critic's square crop, masked to the painted pixels)
                  divided by the median of real crops of the class. About 1: as grainy as a typical real defect
                  of that class; near 0: flat or blurred (a smooth fill, a flat tone, a blur), whatever the
                  surface around it. None without a critic that holds real grain figures.
  spill           share of the visibly changed pixels (more than SPILL_LEVELS grey levels in any channel) that
                  lie outside the exported label. 0: every change is labeled.
  seam            gradient across the blend boundary / beside it (seam_score) on the variant, divided by the same
                  on the input image. About 1: no seam the input did not already have.
  score           the ranking number, higher is better (see `combined_score`):
                    class_fidelity - REALISM_WEIGHT * max(0, realism - 1) - GRAIN_WEIGHT * max(0, 1 - grain)
                                   - SPILL_WEIGHT * spill - SEAM_WEIGHT * max(0, seam - 1)
                  a missing measure contributes 0, so without a critic variants rank by spill and seam only.
  poor            any of: class_fidelity < POOR_FIDELITY, realism > POOR_REALISM, grain below the class's floor
                  (the GRAIN_FLOOR_QUANTILE of its real crops, at most GRAIN_FLOOR_MAX), spill > POOR_SPILL,
                  seam > POOR_SEAM (the reasons say which). Each is compared as shown, rounded to
                  REPORT_DIGITS (see `shown`), so a reason never reads "0.50 < 0.50".

Crops: a box grown to a square of its longer side (at least BOX_MIN_SIDE model pixels), resized to CROP_SIZE; the
same rule for the real crops the critic learns from and for generated ones, so it sees both alike.
Everything here is Qt-free and synchronous: the app's worker thread calls `score_variants` after a run.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
from torch import nn

from core.fsutil import write_atomic
from core.masks import feathered_alpha
from core.pixels import to_model_tensor
from core.request import Box, InpaintResult

log = logging.getLogger(__name__)

CROP_SIZE = 64
BOX_MIN_SIDE = 32  # model pixels: a 3 px scratch box alone has no texture to judge
SPILL_LEVELS = 8  # grey levels: a change this big outside the label counts as visible spill
REAL_PER_CLASS = 256  # real-crop features per class kept in the bundle part for realism
REALISM_K = 5
REALISM_WEIGHT, GRAIN_WEIGHT, SPILL_WEIGHT, SEAM_WEIGHT = 0.25, 0.5, 2.0, 0.25
POOR_FIDELITY, POOR_REALISM, POOR_SPILL, POOR_SEAM = 0.5, 2.0, 0.02, 1.5
GRAIN_SIGMA = 1.0  # crop pixels: the detail a blur or a smooth fill loses first
GRAIN_FLOOR_QUANTILE = 0.03  # a region smoother than this share of the class's real crops is poor
GRAIN_FLOOR_MAX = 0.6  # but one at least this share of the class's median grain never is (few, alike crops)
REPORT_DIGITS = 2  # every ratio is shown, and compared with its limit, at this many decimals
_REAL_PREFIX = "real_features/"  # tensor keys of the real features in the part file, then the class index
_GRAIN_PREFIX = "real_grain/"  # the real crops' grain (region_grain) per class, same indexing


class CriticError(ValueError):
    """A classifier file that cannot be used."""


# ---- crops and the network --------------------------------------------------------------------------------


def crop_box(
    image: np.ndarray, box: tuple[int, int, int, int], size: int = CROP_SIZE, min_side: int = BOX_MIN_SIDE
) -> np.ndarray:
    """(size, size, 3) uint8: the square centred on the box (x0, y0, x1, y1) whose side is the box's longer
    side (at least `min_side`, at most the image), resized. No margin beyond the box's own extent: the judge
    must look at the defect, not at the surface around it, or a re-inpainted box would be judged by its
    untouched background. Squares keep a thin scratch thin (stretching a box to a square would not)."""
    h, w = image.shape[:2]
    x0, y0, x1, y1 = box
    side = int(min(max(x1 - x0, y1 - y0, min_side), h, w))
    cx, cy = (x0 + x1) // 2, (y0 + y1) // 2
    left, top = int(np.clip(cx - side // 2, 0, w - side)), int(np.clip(cy - side // 2, 0, h - side))
    crop = image[top : top + side, left : left + side]
    return cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA if side > size else cv2.INTER_LINEAR)


def region_grain(
    image: np.ndarray, box: tuple[int, int, int, int], region: np.ndarray, min_side: int = BOX_MIN_SIDE
) -> float | None:
    """RMS grey-level detail finer than GRAIN_SIGMA inside `region` ((H, W) bool, the painted pixels), measured
    on the critic's square crop of `box` so every image size is judged at the same scale. The blur is
    normalised to the region (a masked Gaussian), so the step at the region's own edge does not count: a flat
    fill reads 0 whatever surrounds it. None when no crop pixel lies wholly inside the region."""
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    crop = crop_box(gray, box, min_side=min_side).astype(np.float32)
    inside = crop_box(region.astype(np.uint8) * 255, box, min_side=min_side) >= 250  # resize blends edges
    if not inside.any():
        return None
    weight = inside.astype(np.float32)
    local = cv2.GaussianBlur(crop * weight, (0, 0), GRAIN_SIGMA)
    local /= np.maximum(cv2.GaussianBlur(weight, (0, 0), GRAIN_SIGMA), 1e-3)
    return float(np.sqrt(np.mean((crop - local)[inside] ** 2)))


def box_region(shape: tuple[int, ...], box: tuple[int, int, int, int]) -> np.ndarray:
    """(H, W) bool: the box (x0, y0, x1, y1) itself, the region of a real defect known only by its box."""
    region = np.zeros(shape[:2], dtype=bool)
    x0, y0, x1, y1 = box
    region[y0:y1, x0:x1] = True
    return region


def shown(value: float) -> float:
    """A ratio as the user reads it: limits are compared with this, never with the unrounded figure."""
    return round(float(value), REPORT_DIGITS)


class SmallCNN(nn.Module):
    """Four conv-BN-ReLU-pool stages, global average pooling, one linear head."""

    def __init__(self, num_classes: int, width: int = 32):
        super().__init__()
        self.width = width
        layers: list[nn.Module] = []
        channels = 3
        for out in (width, width * 2, width * 4, width * 4):
            layers += [
                nn.Conv2d(channels, out, 3, padding=1, bias=False),
                nn.BatchNorm2d(out),
                nn.ReLU(True),
                nn.MaxPool2d(2),
            ]
            channels = out
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(channels, num_classes)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """The pooled features the head reads: the space realism and eval's KID are measured in."""
        return self.features(x).mean(dim=(2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.embed(x))


@torch.no_grad()
def _batched(fn, model: SmallCNN, crops: np.ndarray, batch_size: int) -> list[torch.Tensor]:
    device = next(model.parameters()).device
    return [fn(to_model_tensor(crops[i : i + batch_size]).to(device)).cpu() for i in range(0, len(crops), batch_size)]


def predict(model: SmallCNN, crops: np.ndarray, batch_size: int = 128) -> np.ndarray:
    """(N,) class index of each crop."""
    out = _batched(model, model, crops, batch_size)
    return torch.cat(out).argmax(1).numpy() if out else np.zeros(0, dtype=np.int64)


def probabilities(model: SmallCNN, crops: np.ndarray, batch_size: int = 128) -> np.ndarray:
    """(N, classes) softmax probabilities."""
    out = _batched(model, model, crops, batch_size)
    return torch.cat(out).softmax(1).numpy() if out else np.zeros((0, model.head.out_features), dtype=np.float32)


def embed(model: SmallCNN, crops: np.ndarray, batch_size: int = 128) -> np.ndarray:
    """(N, D) float features of (N, S, S, 3) uint8 crops."""
    out = _batched(model.embed, model, crops, batch_size)
    return torch.cat(out).numpy() if out else np.zeros((0, 1), dtype=np.float32)


# ---- the critic: network + real features, one file --------------------------------------------------------


def _knn_distance(queries: np.ndarray, reference: np.ndarray, k: int, exclude_self: bool = False) -> np.ndarray:
    """Mean distance of each query to its k nearest reference rows (itself left out when both are one set)."""
    distances = np.sqrt(np.maximum(((queries[:, None, :] - reference[None, :, :]) ** 2).sum(-1), 0))
    if exclude_self:
        np.fill_diagonal(distances, np.inf)
    k = max(1, min(k, reference.shape[0] - (1 if exclude_self else 0)))
    return np.sort(distances, axis=1)[:, :k].mean(axis=1)


@dataclass
class Critic:
    """The bundle's classifier: the network, its classes, and real-crop features per class for realism."""

    model: SmallCNN
    classes: list[str]
    real_features: dict[str, np.ndarray] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    real_grain: dict[str, np.ndarray] = field(default_factory=dict)  # region_grain of real crops per class
    _scales: dict[str, float] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        # The real crops' own nearest-neighbour distance: the unit realism is measured in.
        for name, feats in self.real_features.items():
            if len(feats) >= 2:
                self._scales[name] = max(float(np.median(_knn_distance(feats, feats, REALISM_K, True))), 1e-6)

    def grain(self, value: float, defect_class: str) -> float | None:
        """A region's grain (region_grain) over the median of real crops of the class; None without them."""
        real = self.real_grain.get(defect_class)
        if real is None or not len(real):
            return None
        return float(value / max(float(np.median(real)), 1e-6))

    def grain_floor(self, defect_class: str) -> float | None:
        """The grain (as `grain` reports it) below which a region is smoother than nearly every real crop of
        the class: the GRAIN_FLOOR_QUANTILE of its real crops."""
        real = self.real_grain.get(defect_class)
        if real is None or not len(real):
            return None
        floor = float(np.quantile(real, GRAIN_FLOOR_QUANTILE)) / max(float(np.median(real)), 1e-6)
        return shown(min(floor, GRAIN_FLOOR_MAX))

    def realism(self, features: np.ndarray, defect_class: str) -> np.ndarray | None:
        """(N,) realism of features judged against real crops of `defect_class`; None without real ones."""
        scale = self._scales.get(defect_class)
        if scale is None:
            return None
        return _knn_distance(features, self.real_features[defect_class], REALISM_K) / scale


def save_critic(
    path: Path,
    model: SmallCNN,
    classes: list[str],
    info: dict[str, Any],
    real_features: dict[str, np.ndarray] | None = None,
    real_grain: dict[str, np.ndarray] | None = None,
) -> None:
    """Weights as safetensors with the class list, width and how it was trained in the metadata (no pickle),
    and optionally real-crop features and grain per class (the realism and grain references). Atomic."""
    from safetensors.torch import save_file

    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    for name, feats in (real_features or {}).items():
        if len(feats):
            tensors[f"{_REAL_PREFIX}{classes.index(name)}"] = torch.from_numpy(np.ascontiguousarray(feats, np.float32))
    for name, values in (real_grain or {}).items():
        if len(values):
            tensors[f"{_GRAIN_PREFIX}{classes.index(name)}"] = torch.from_numpy(
                np.ascontiguousarray(values, np.float32)
            )
    meta = {"classes": json.dumps(classes), "width": str(model.width), "info": json.dumps(info)}
    write_atomic(Path(path), lambda tmp: save_file(tensors, str(tmp), metadata=meta))


def load_critic(path: Path, device: torch.device | str = "cpu") -> Critic:
    """A file written by save_critic (an eval judge or a bundle part). CriticError if it is not one."""
    from safetensors import SafetensorError, safe_open
    from safetensors.torch import load_file

    from core.critic_check import check_critic_shapes

    try:
        with safe_open(str(path), framework="pt") as handle:
            meta = handle.metadata() or {}
            shapes = {key: tuple(handle.get_slice(key).get_shape()) for key in handle.keys()}  # noqa: SIM118 (not a dict)
        classes = json.loads(meta["classes"])
        check_critic_shapes(shapes, len(classes), int(meta.get("width", 32)), _REAL_PREFIX, SmallCNN)
        model = SmallCNN(len(classes), int(meta.get("width", 32)))
        state = load_file(str(path))
        real = {
            classes[int(key[len(_REAL_PREFIX) :])]: state.pop(key).numpy()
            for key in [k for k in state if k.startswith(_REAL_PREFIX)]
        }
        grain = {
            classes[int(key[len(_GRAIN_PREFIX) :])]: state.pop(key).numpy()
            for key in [k for k in state if k.startswith(_GRAIN_PREFIX)]
        }
        model.load_state_dict(state)
        info = json.loads(meta.get("info", "{}"))
    except (OSError, KeyError, TypeError, ValueError, IndexError, RuntimeError, SafetensorError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CriticError(f"{path}: not a DefectForge classifier ({first})") from exc
    return Critic(model.to(device).eval(), classes, real, info, grain)


# ---- variant scores ---------------------------------------------------------------------------------------


def gradient_magnitude(image: np.ndarray) -> np.ndarray:
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image
    gray = gray.astype(np.float32)
    gx = cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3)
    return np.sqrt(gx * gx + gy * gy)


def seam_region(painted: np.ndarray, feather_px: int) -> tuple[np.ndarray, int]:
    """Where a seam would show around `painted` blended with `feather_px`: the region inside the middle of the
    feather (alpha >= 0.5) and the band width to measure across its edge, for `seam_score`. The variant scores
    and eval's seam measure both ask here, so they look at the same edge."""
    feather = max(1, feather_px)
    return feathered_alpha(painted, feather) >= 0.5, feather // 2 + 2


def seam_score(image: np.ndarray, region: np.ndarray, band_px: int = 2) -> float | None:
    """Mean Sobel gradient on a thin band across the boundary of `region` / the mean gradient just inside and
    just outside it. About 1: no visible seam; compare with the same ratio on the original image."""
    region = region.astype(np.uint8)
    kernel = np.ones((2 * band_px + 1, 2 * band_px + 1), np.uint8)
    grown = cv2.dilate(region, kernel) > 0
    shrunk = cv2.erode(region, kernel) > 0
    boundary = grown & ~shrunk
    inner = cv2.erode(region, kernel, iterations=3) > 0
    inside = shrunk & ~inner
    outside = (cv2.dilate(region, kernel, iterations=3) > 0) & ~grown
    if not boundary.any() or not inside.any() or not outside.any():
        return None
    grad = gradient_magnitude(image)
    reference = 0.5 * (grad[inside].mean() + grad[outside].mean())
    return float(grad[boundary].mean() / max(reference, 1e-6))


def visible_change(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """(H, W) bool: pixels that changed by more than SPILL_LEVELS grey levels in any channel."""
    return np.abs(after.astype(np.int16) - before.astype(np.int16)).max(axis=2) > SPILL_LEVELS


@dataclass(frozen=True)
class VariantScore:
    """One variant's measured scores (see the module notes); None: not measurable (no critic, no seam band)."""

    class_fidelity: float | None
    realism: float | None
    spill: float
    seam: float | None
    score: float
    poor: bool
    reasons: tuple[str, ...] = ()
    grain: float | None = None

    def to_record(self) -> dict[str, Any]:
        record = asdict(self)
        record["reasons"] = list(self.reasons)
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in record.items()}


def combined_score(
    class_fidelity: float | None, realism: float | None, spill: float, seam: float | None, grain: float | None = None
) -> float:
    """Higher is better; a measure that is None contributes nothing (see the module notes)."""
    score = class_fidelity if class_fidelity is not None else 0.0
    if realism is not None:
        score -= REALISM_WEIGHT * max(0.0, realism - 1.0)
    if grain is not None:
        score -= GRAIN_WEIGHT * max(0.0, 1.0 - grain)
    score -= SPILL_WEIGHT * spill
    if seam is not None:
        score -= SEAM_WEIGHT * max(0.0, seam - 1.0)
    return float(score)


def poor_reasons(
    class_fidelity: float | None,
    realism: float | None,
    spill: float,
    seam: float | None,
    grain: float | None = None,
    grain_floor: float | None = None,
) -> tuple[str, ...]:
    """Why a variant is poor, each measure compared with its limit as both are shown (REPORT_DIGITS decimals;
    spill in tenths of a percent), so the text never contradicts itself."""
    digits = f".{REPORT_DIGITS}f"
    reasons = []
    if class_fidelity is not None and shown(class_fidelity) < POOR_FIDELITY:
        reasons.append(f"class fidelity {class_fidelity:{digits}} < {POOR_FIDELITY:{digits}}")
    if realism is not None and shown(realism) > POOR_REALISM:
        reasons.append(f"realism {realism:{digits}} > {POOR_REALISM:{digits}}")
    if grain is not None and grain_floor is not None and shown(grain) < grain_floor:
        reasons.append(f"grain {grain:{digits}} < {grain_floor:{digits}} (smoother than real defects)")
    if round(spill, 3) > POOR_SPILL:
        reasons.append(f"spill {spill:.1%} > {POOR_SPILL:.1%}")
    if seam is not None and shown(seam) > POOR_SEAM:
        reasons.append(f"seam {seam:{digits}} > {POOR_SEAM:{digits}}")
    return tuple(reasons)


def _mean(values: list[float]) -> float | None:
    values = [v for v in values if v is not None and not math.isnan(v)]
    return float(np.mean(values)) if values else None


def score_variants(result: InpaintResult, critic: Critic | None = None, model_size: int = 256) -> list[VariantScore]:
    """Scores of every variant of `result`, in variant order. `model_size`: the bundle's image size (a box in
    an image smaller than it is cropped at the proportionally smaller minimum side, as the model saw it)."""
    request = result.request
    before = request.image
    h, w = before.shape[:2]
    painted = np.zeros((h, w), dtype=bool)
    painted_of: dict[str, np.ndarray] = {}  # the painted pixels of each class: the region its grain is read in
    for layer in request.layers:
        painted |= layer.mask.astype(bool)
        painted_of[layer.defect_class] = painted_of.get(layer.defect_class, False) | layer.mask.astype(bool)
    middle, band = seam_region(painted, request.feather_px)
    seam_before = seam_score(before, middle, band)
    min_side = max(8, round(BOX_MIN_SIDE * min(1.0, min(h, w) / model_size)))

    fidelity: list[float | None] = [None] * len(result.variants)
    realism: list[float | None] = [None] * len(result.variants)
    grain: list[float | None] = [None] * len(result.variants)
    grain_floor: list[float | None] = [None] * len(result.variants)
    if critic is not None:
        crops, owners, boxes = [], [], []
        box_grain: list[tuple[float, float] | None] = []
        for index, variant in enumerate(result.variants):
            for box in variant.boxes:
                if box.defect_class in critic.classes:
                    crops.append(crop_box(variant.image, _xyxy(box), min_side=min_side))
                    owners.append(index)
                    boxes.append(box)
                    region = painted_of.get(box.defect_class)
                    if region is None:
                        region = variant.label_masks.get(box.defect_class, box_region((h, w), _xyxy(box)))
                    value = region_grain(variant.image, _xyxy(box), region, min_side)
                    ratio = critic.grain(value, box.defect_class) if value is not None else None
                    floor = critic.grain_floor(box.defect_class)
                    box_grain.append((ratio, floor) if ratio is not None and floor is not None else None)
        if crops:
            stacked = np.stack(crops)
            probs = probabilities(critic.model, stacked)
            feats = embed(critic.model, stacked)
            owner = np.array(owners)
            box_probs = np.array([probs[i, critic.classes.index(b.defect_class)] for i, b in enumerate(boxes)])
            box_real = np.full(len(boxes), np.nan)
            for name in {b.defect_class for b in boxes}:
                rows = np.array([i for i, b in enumerate(boxes) if b.defect_class == name])
                values = critic.realism(feats[rows], name)
                if values is not None:
                    box_real[rows] = values
            for index in range(len(result.variants)):
                mine = owner == index
                fidelity[index] = _mean(box_probs[mine].tolist())
                realism[index] = _mean(box_real[mine].tolist())
                # The smoothest box speaks for the variant: one flat defect among grainy ones is still flat.
                measured = [box_grain[i] for i in np.flatnonzero(mine) if box_grain[i] is not None]
                if measured:
                    grain[index], grain_floor[index] = min(measured, key=lambda pair: pair[0] / max(pair[1], 1e-6))

    scores = []
    for index, variant in enumerate(result.variants):
        label = np.zeros((h, w), dtype=bool)
        for mask in variant.label_masks.values():
            label |= mask
        changed = visible_change(before, variant.image)
        spill = float((changed & ~label).sum() / max(1, changed.sum()))
        seam_after = seam_score(variant.image, middle, band)
        seam = seam_after / seam_before if seam_after is not None and seam_before else None
        reasons = poor_reasons(fidelity[index], realism[index], spill, seam, grain[index], grain_floor[index])
        scores.append(
            VariantScore(
                fidelity[index],
                realism[index],
                spill,
                seam,
                combined_score(fidelity[index], realism[index], spill, seam, grain[index]),
                bool(reasons),
                reasons,
                grain[index],
            )
        )
    return scores


def score_record(seed: int, score: VariantScore) -> dict[str, Any]:
    """One variant's scores as a manifest records them (synth's --best-of candidates, the app's export)."""
    return {"seed": seed, **score.to_record()}


def ranked_by(has_critic: bool) -> str:
    """What a ranking of variants measured, as the manifest records it."""
    return "score" if has_critic else "spill and seam (no classifier in the bundle)"


def rank(scores: list[VariantScore]) -> list[int]:
    """Variant indices, best first: every unflagged variant before any poor one, then by score (ties keep
    variant order, so the earlier seed wins)."""
    return sorted(range(len(scores)), key=lambda i: (scores[i].poor, -scores[i].score))


def _xyxy(box: Box) -> tuple[int, int, int, int]:
    return box.x0, box.y0, box.x1, box.y1
