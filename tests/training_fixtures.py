"""Tiny datasets and models for the training tests: NEU-DET-layout folders drawn on the fly, CPU only."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch

CLASSES = ["crazing", "inclusion", "patches", "pitted_surface", "rolled-in_scale", "scratches"]


def _surface(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Rolled-steel-ish gray: horizontal streaks, a shading ramp and sensor noise."""
    streaks = rng.normal(0, 6, size=(h, 1)).repeat(w, axis=1)
    ramp = np.linspace(-10, 10, w)[None, :].repeat(h, axis=0)
    return 128 + streaks + ramp + rng.normal(0, 3, size=(h, w))


def _draw_defect(cls: str, rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    mask = np.zeros((h, w), np.uint8)
    cx, cy = int(rng.integers(w // 4, 3 * w // 4)), int(rng.integers(h // 4, 3 * h // 4))
    if cls == "crazing":
        for _ in range(4):
            x2, y2 = cx + int(rng.integers(-15, 15)), cy + int(rng.integers(-15, 15))
            cv2.line(mask, (cx, cy), (x2, y2), 255, 1)
    elif cls == "inclusion":
        cv2.ellipse(mask, (cx, cy), (14, 4), float(rng.uniform(0, 180)), 0, 360, 255, -1)
    elif cls == "patches":
        cv2.circle(mask, (cx, cy), 12, 255, -1)
    elif cls == "pitted_surface":
        for _ in range(6):
            cv2.circle(mask, (cx + int(rng.integers(-10, 10)), cy + int(rng.integers(-10, 10))), 2, 255, -1)
    elif cls == "rolled-in_scale":
        for _ in range(3):
            cv2.rectangle(
                mask,
                (cx + int(rng.integers(-12, 8)), cy + int(rng.integers(-8, 8))),
                (cx + int(rng.integers(8, 14)), cy + int(rng.integers(-8, 8)) + 2),
                255,
                -1,
            )
    else:
        cv2.line(mask, (cx - 20, cy - 8), (cx + 20, cy + 8), 255, 2)
    return mask


def _voc(name: str, w: int, h: int, boxes: list[tuple[str, int, int, int, int]]) -> str:
    objects = "".join(
        f"<object><name>{c}</name><bndbox><xmin>{x0}</xmin><ymin>{y0}</ymin><xmax>{x1}</xmax><ymax>{y1}</ymax>"
        "</bndbox></object>"
        for c, x0, y0, x1, y1 in boxes
    )
    return (
        f"<annotation><folder>IMAGES</folder><filename>{name}</filename><size><width>{w}</width>"
        f"<height>{h}</height><depth>1</depth></size>{objects}</annotation>"
    )


def make_neu_dataset(
    root: Path, per_class: int = 4, size: int = 80, seed: int = 0, classes: list[str] | None = None, clean: bool = False
) -> Path:
    """NEU-DET layout: IMAGES/<cls>_<i>.jpg, ANNOTATIONS/<cls>_<i>.xml, MASKS/<cls>_<i>.png (not for every
    image: some are box-only), one non-square image; with `clean`, CLEAN/<cls>_<i>.png as the procedural
    writer keeps them (the surface before the defect was drawn)."""
    rng = np.random.default_rng(seed)
    root = Path(root)
    for sub in ("IMAGES", "ANNOTATIONS", "MASKS"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for cls in classes or CLASSES:
        for i in range(1, per_class + 1):
            h, w = (size, size + 16) if (cls, i) == ("patches", 1) else (size, size)
            image = _surface(rng, h, w)
            name = f"{cls}_{i}"
            if clean:
                (root / "CLEAN").mkdir(exist_ok=True)
                cv2.imwrite(str(root / "CLEAN" / f"{name}.png"), np.clip(image, 0, 255).astype(np.uint8))
            mask = _draw_defect(cls, rng, h, w)
            dark = cls in ("crazing", "inclusion", "rolled-in_scale", "pitted_surface")
            image[mask > 0] += -70 if dark else 70
            cv2.imwrite(str(root / "IMAGES" / f"{name}.jpg"), np.clip(image, 0, 255).astype(np.uint8))
            ys, xs = np.nonzero(mask)
            box = (cls, int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max()))
            (root / "ANNOTATIONS" / f"{name}.xml").write_text(_voc(name, w, h, [box]), encoding="utf-8")
            if i != 2:  # image 2 of every class is box-only
                cv2.imwrite(str(root / "MASKS" / f"{name}.png"), mask)
    return root


def make_vq_bundle(path: Path, image_size: int = 64, classes: list[str] | None = None, seed: int = 0) -> Path:
    """A bundle with the vq16-test VQ (random weights) at `image_size`, for tokenize and eval tests."""
    from core.bundle import BundleContents, save_bundle
    from core.config import SamplerConfig, transformer_preset, vq_preset
    from core.transformer import MaskTransformer
    from core.vq import VQModel

    classes = classes or CLASSES
    torch.manual_seed(seed)
    vq = VQModel(vq_preset("vq16-test"))
    transformer = MaskTransformer(
        transformer_preset("test", num_classes=len(classes), input_size=image_size // vq.downsample)
    )
    contents = BundleContents(
        "tiny-test",
        classes,
        vq,
        transformer,
        SamplerConfig(steps=4, cfg_weight=1.0),
        image_size=image_size,
        provenance={"data": "random weights for tests"},
    )
    save_bundle(path, contents)
    return path


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _become_torchrun_rank(rank: int, world: int, port: int) -> None:
    """Set the environment torchrun gives each process, so the ordinary entry points take the DDP path."""
    import os

    os.environ.update(
        MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank)
    )
    torch.set_num_threads(1)


def ddp_maskgit_worker(rank: int, world: int, port: int, tokens: str, out: str, result_dir: str) -> None:
    """One torchrun-like process: the environment torchrun would set, then the ordinary training entry point."""
    _become_torchrun_rank(rank, world, port)
    from safetensors.torch import save_model

    from training.train_maskgit import MaskGITConfig, train_maskgit

    def record(step: int, model: torch.nn.Module) -> None:
        if step == 3:
            save_model(model, f"{result_dir}/rank{rank}.safetensors")

    train_maskgit(
        MaskGITConfig(
            tokens=tokens,
            out=out,
            preset="test",
            steps=3,
            batch_size=4,
            device="cpu",
            checkpoint_every=2,
            eval_every=3,
            log_every=1,
            warmup_steps=1,
        ),
        on_step=record,
    )


def make_token_cache(root: Path) -> Path:
    """The NEU-like dataset (3 per class) tokenized with the tiny VQ bundle, 20 % held out."""
    from training.tokenize import TokenizeConfig, tokenize

    data = make_neu_dataset(root / "data", per_class=3)
    bundle = make_vq_bundle(root / "vq-bundle")
    return tokenize(TokenizeConfig(data=str(data), out=str(root / "cache"), vq=str(bundle), val_fraction=0.2))


def maskgit_config(cache: Path, out: Path, **overrides):
    """A few steps of the 'test' transformer preset, checkpointing and evaluating often."""
    from training.train_maskgit import MaskGITConfig

    values = dict(
        tokens=str(cache),
        out=str(out),
        preset="test",
        steps=8,
        batch_size=8,
        lr=2e-3,
        warmup_steps=2,
        checkpoint_every=3,
        eval_every=4,
        log_every=2,
    )
    return MaskGITConfig(**(values | overrides))


def read_log(run: Path) -> list[dict[str, str]]:
    import csv

    with open(run / "log.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def ddp_vq_worker(rank: int, world: int, port: int, data: str, out: str, result_dir: str) -> None:
    """The VQ job as one of `world` torchrun processes (gloo): DDP for the VQ, averaged grads for the critic."""
    _become_torchrun_rank(rank, world, port)
    from safetensors.torch import save_model

    from training.train_vq import VQTrainConfig, train_vq

    def record(step: int, model: torch.nn.Module) -> None:
        if step == 3:
            save_model(model, f"{result_dir}/rank{rank}.safetensors")

    train_vq(
        VQTrainConfig(
            data=data,
            out=out,
            preset="vq16-test",
            image_size=64,
            crop_size=32,
            steps=3,
            batch_size=2,
            disc_start=1,
            disc_ndf=8,
            disc_adaptive=True,
            eval_images=2,
            eval_every=3,
            checkpoint_every=2,
            device="cpu",
            val_fraction=0.2,
        ),
        on_step=record,
    )
