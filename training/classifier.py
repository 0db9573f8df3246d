"""Training the small defect classifier (the network itself lives in core.scoring, where variants are scored):
the eval report's judge, the downstream protocol's few-shot model, and `defectforge train classifier`, which adds
it to a bundle as its optional critic part.

Crops: the same square box crops the scorer cuts from generated variants (core.scoring.crop_box), from real
train-split boxes at the bundle's image size.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from core.bundle import CLASSIFIER_FILE, add_part, read_bundle_info
from core.config import ConfigError
from core.fsutil import describe_os_error
from core.pixels import to_model_tensor
from core.scoring import (
    REAL_PER_CLASS,
    CriticError,
    SmallCNN,
    box_region,
    crop_box,
    embed,
    load_critic,
    predict,
    region_grain,
    save_critic,
)
from training.datasets import PreparedImage, bundle_split, dihedral, open_dataset, prepare, split_dataset, spread
from training.jobs import JobError, setup_logging
from training.options import BundleDataOptions, option, require_path, restate

log = logging.getLogger(__name__)

MIN_CROP = 48
CONTEXT = 1.5  # crop side = CONTEXT x the defect's longer box side


def crop_defect(image: np.ndarray, region: np.ndarray, size: int = 64) -> np.ndarray | None:
    """(size, size, 3) uint8 crop centred on `region` with context around it, or None for an empty region."""
    if not region.any():
        return None
    ys, xs = np.nonzero(region)
    h, w = region.shape
    side = int(min(max(MIN_CROP, CONTEXT * max(ys.max() - ys.min() + 1, xs.max() - xs.min() + 1)), h, w))
    cy, cx = (ys.min() + ys.max() + 1) // 2, (xs.min() + xs.max() + 1) // 2
    top = int(np.clip(cy - side // 2, 0, h - side))
    left = int(np.clip(cx - side // 2, 0, w - side))
    crop = image[top : top + side, left : left + side]
    return cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA if side > size else cv2.INTER_LINEAR)


def box_crops(images: list[PreparedImage], classes: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(N, 64, 64, 3) uint8 crops of every box of a known class, and (N,) class indices."""
    pairs = [
        (crop_box(p.image, (b.x0, b.y0, b.x1, b.y1)), classes.index(b.defect_class))
        for p in images
        for b in p.boxes
        if b.defect_class in classes
    ]
    if not pairs:
        return np.zeros((0, 64, 64, 3), np.uint8), np.zeros(0, np.int64)
    return np.stack([c for c, _ in pairs]), np.array([label for _, label in pairs])


def train_classifier(
    crops: np.ndarray,
    labels: np.ndarray,
    num_classes: int,
    epochs: int = 15,
    seed: int = 0,
    device: torch.device | str = "cpu",
    batch_size: int = 64,
) -> SmallCNN:
    """Adam, random dihedral augmentation, a fixed seed: the same data gives the same classifier."""
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = SmallCNN(num_classes).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    targets = torch.as_tensor(labels, dtype=torch.long)
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(crops), generator=gen)
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size].numpy()
            augs = torch.randint(0, 8, (len(idx),), generator=gen).tolist()
            batch = np.stack([dihedral(crops[i], k) for i, k in zip(idx, augs, strict=True)])
            logits = model(to_model_tensor(batch).to(device))
            loss = F.cross_entropy(logits, targets[idx].to(device))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return model.eval()


def real_features(
    model: SmallCNN, crops: np.ndarray, labels: np.ndarray, classes: list[str], per_class: int = REAL_PER_CLASS
) -> dict[str, np.ndarray]:
    """Judge features of up to `per_class` real crops of each class (evenly spread): the realism reference."""
    out = {}
    for index, name in enumerate(classes):
        rows = spread(list(np.flatnonzero(labels == index)), per_class)
        if rows:
            out[name] = embed(model, crops[rows])
    return out


def real_grain(
    images: list[PreparedImage], classes: list[str], per_class: int = REAL_PER_CLASS
) -> dict[str, np.ndarray]:
    """region_grain of up to `per_class` real boxes of each class (evenly spread), each box its own region:
    the grain reference a painted region is judged against."""
    values: dict[str, list[float]] = {name: [] for name in classes}
    for prepared in images:
        for b in prepared.boxes:
            if b.defect_class in values:
                box = (b.x0, b.y0, b.x1, b.y1)
                value = region_grain(prepared.image, box, box_region(prepared.image.shape, box))
                if value is not None:
                    values[b.defect_class].append(value)
    return {name: np.array(spread(v, per_class), np.float32) for name, v in values.items() if v}


@dataclass(frozen=True)
class ClassifierConfig(BundleDataOptions):
    bundle: str = restate(
        BundleDataOptions, "bundle", help="model bundle folder to add the classifier to (classifier.safetensors)"
    )
    judge: str = option(
        "",
        "adopt a judge saved by 'defectforge eval' (<out>/judge.safetensors) instead of "
        "training one; it must know the bundle's classes",
    )
    epochs: int = option(15, "training epochs")
    max_images: int = option(3000, "most train-split images whose boxes it learns from")
    real_per_class: int = option(REAL_PER_CLASS, "real-crop features kept per class for the realism score")
    seed: int = option(0, "training seed")
    min_accuracy: float = option(0.5, "refuse to add a classifier whose held-out accuracy is lower")
    min_heldout: int = option(30, "refuse to add a classifier measured on fewer held-out real boxes")

    def validate(self) -> None:
        if not self.bundle:
            raise ConfigError("--bundle is required (the model bundle folder)")
        require_path(self.bundle, "--bundle", "folder")
        super().validate()
        if not 0 <= self.min_accuracy <= 1:
            raise ConfigError("--min-accuracy must be in [0, 1]")
        if self.min_heldout < 1:
            raise ConfigError("--min-heldout must be >= 1")
        for name in ("epochs", "max_images", "real_per_class"):
            if getattr(self, name) < 1:
                raise ConfigError(f"--{name.replace('_', '-')} must be >= 1")
        require_path(self.judge, "--judge")


def train_bundle_classifier(cfg: ClassifierConfig, command: str = "") -> Path:
    """Train (or adopt) the critic on the bundle's own train split and write it into the bundle."""
    setup_logging(None)
    info = read_bundle_info(cfg.bundle)
    if info.tokenizer_only:
        raise JobError(f"{info.path} is a tokenizer-only bundle (from 'train vq'): it makes no variants to score")
    if not os.access(info.path, os.W_OK):
        raise JobError(f"{info.path}: the bundle folder is not writable; copy it somewhere you can write to")
    classes = info.class_names
    fraction, seed = bundle_split(info.provenance)
    train_samples, held_samples = split_dataset(open_dataset(cfg.data), fraction, seed)
    train = [prepare(s, info.image_size) for s in spread(train_samples, cfg.max_images)]
    crops, labels = box_crops(train, classes)
    if len(set(labels.tolist())) < 2:
        raise JobError(
            f"{cfg.data}: fewer than two of the bundle's classes ({', '.join(classes)}) have boxes in the train split"
        )
    started = time.perf_counter()
    if cfg.judge:
        try:
            critic = load_critic(Path(cfg.judge))
        except CriticError as exc:
            raise JobError(str(exc)) from exc
        if critic.classes != classes:
            raise JobError(f"--judge {cfg.judge} knows {critic.classes}, the bundle {classes}")
        model, trained = critic.model, {**critic.info, "adopted_from": str(Path(cfg.judge).resolve())}
    else:
        model = train_classifier(crops, labels, len(classes), cfg.epochs, cfg.seed)
        trained = {"epochs": cfg.epochs, "seed": cfg.seed}
    held_x, held_y = box_crops([prepare(s, info.image_size) for s in held_samples], classes)
    accuracy = float(np.mean(predict(model, held_x) == held_y)) if len(held_y) else float("nan")
    record = {
        **trained,
        "train_crops": int(len(labels)),
        "heldout_crops": int(len(held_y)),
        "heldout_accuracy": accuracy,
        "split": {"val_fraction": fraction, "seed": seed},
        "data": str(Path(cfg.data).resolve()),
        "command": command,
    }
    if len(held_y) < cfg.min_heldout or not accuracy >= cfg.min_accuracy:
        raise JobError(
            f"held-out accuracy {accuracy:.3f} on {len(held_y)} real boxes is below what a judge needs "
            f"(--min-accuracy {cfg.min_accuracy}, --min-heldout {cfg.min_heldout}); the classifier was not added"
        )
    features = real_features(model, crops, labels, classes, cfg.real_per_class)
    grain = real_grain(train, classes, cfg.real_per_class)
    try:
        add_part(info.path, CLASSIFIER_FILE, lambda tmp: save_critic(tmp, model, classes, record, features, grain))
    except OSError as exc:
        raise JobError(f"{info.path}: could not add {CLASSIFIER_FILE} ({describe_os_error(exc)})") from exc
    log.info(
        "added %s to %s: held-out accuracy %.3f on %d real boxes (%.0f s)",
        CLASSIFIER_FILE,
        info.path,
        accuracy,
        len(held_y),
        time.perf_counter() - started,
    )
    return info.path / CLASSIFIER_FILE
