"""What every training job shares: its errors, threads, log file, plain values, and VQ sources.

What the two training runs (vq, maskgit) share besides, from checkpoints to provenance, is training.run.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file

from core.bundle import VQ_FILE, BundleError, load_bundle, read_bundle_info, sha256_file
from core.config import ConfigError, VQConfig, vq_preset
from core.vq import VQModel, load_llamagen_checkpoint

log = logging.getLogger(__name__)


class JobError(RuntimeError):
    """A job that cannot start or go on, with a one-line reason a user can act on."""


def apply_threads(threads: int) -> None:
    """Two OpenMP threads on two busy cores spin-wait on each other: one thread can be 5x faster there."""
    if threads > 0:
        torch.set_num_threads(threads)


class _CurrentStderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is now: a job run in-process (tests, notebooks) that swaps stderr never
    leaves a handler writing into a closed stream."""

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def setup_logging(run_dir: Path | None, is_main: bool = True) -> None:
    """INFO to stderr (main rank only) and to <run>/job.log; tqdm owns the progress line."""
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S")
    if not is_main and not root.handlers:  # other ranks stay quiet; rank 0 says the same things
        root.addHandler(logging.NullHandler())
    if is_main and not any(getattr(h, "_defectforge", False) for h in root.handlers):
        stream = _CurrentStderrHandler()
        stream.setFormatter(formatter)
        stream._defectforge = True  # type: ignore[attr-defined]
        root.addHandler(stream)
    if run_dir is not None and is_main:
        path = (Path(run_dir) / "job.log").resolve()
        if not any(getattr(h, "baseFilename", None) == str(path) for h in root.handlers):
            Path(run_dir).mkdir(parents=True, exist_ok=True)
            handler = logging.FileHandler(path, encoding="utf-8")
            handler.setFormatter(formatter)
            root.addHandler(handler)


def close_log_file(run_dir: Path) -> None:
    root = logging.getLogger()
    path = str((Path(run_dir) / "job.log").resolve())
    for handler in list(root.handlers):
        if getattr(handler, "baseFilename", None) == path:
            root.removeHandler(handler)
            handler.close()


def plain(value: Any) -> Any:
    """Plain Python types only (YAML safe_dump refuses numpy scalars and str subclasses such as torch's version)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return round(float(value), 6)
    if hasattr(value, "item"):  # numpy / torch scalars
        return plain(value.item())
    return str(value)


@dataclass
class VQSource:
    model: VQModel
    path: str
    sha256: str
    class_names: list[str] | None  # from a bundle; None for a bare checkpoint
    image_size: int | None


def load_vq_source(source: str, preset: str = "vq16", sibling: bool = False) -> VQSource:
    """A VQ from a model bundle folder, our own VQ safetensors, or an official LlamaGen .pt checkpoint. With
    `sibling`, our own safetensors may differ from `preset` in codebook size and channels (read from its weights):
    a warm start then k-means the codebook and folds the channels, as from a bundle."""
    path = Path(source)
    if not path.exists():
        raise JobError(f"VQ source {path} not found (give a model bundle folder or a checkpoint file)")
    try:
        if path.is_dir():
            info = read_bundle_info(path)
            bundle = load_bundle(path, tokenizer_only_ok=True)
            return VQSource(
                bundle.vq, str(path), info.weights_sha256.get(VQ_FILE, ""), info.class_names, info.image_size
            )
        config: VQConfig = vq_preset(preset)
        if path.suffix == ".safetensors":
            state = load_file(str(path))
            if sibling and "quantize.embedding.weight" in state and "encoder.conv_in.weight" in state:
                config = replace(
                    config,
                    codebook_size=state["quantize.embedding.weight"].shape[0],
                    in_channels=state["encoder.conv_in.weight"].shape[1],
                )
                config.validate()
            model = VQModel(config)
            model.load_state_dict(state, strict=True)
        else:
            model = load_llamagen_checkpoint(path, config)
    except (BundleError, ConfigError, ValueError, RuntimeError) as exc:
        raise JobError(f"cannot load VQ from {path}: {str(exc).splitlines()[0]}") from exc
    return VQSource(model.eval(), str(path), sha256_file(path), None, None)
