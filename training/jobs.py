"""What every training job shares: its run folder, log file, resume decision, provenance, and VQ sources."""

from __future__ import annotations

import logging
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file

from core.bundle import VQ_FILE, BundleError, load_bundle, read_bundle_info, sha256_file
from core.config import ConfigError, VQConfig, to_dict, vq_preset
from core.device import describe
from core.vq import VQModel, load_llamagen_checkpoint
from training.checkpoint import Checkpoint, CheckpointDir, atomic_write_text
from training.options import dump_config
from training.runlog import peak_device_mb, peak_rss_mb

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


def open_run(out: Path, config: Any, resume: bool, keep: int, is_main: bool) -> tuple[CheckpointDir, Checkpoint | None]:
    """The run's checkpoints and the one to resume from (None = fresh start); writes config.yaml."""
    out = Path(out)
    checkpoints = CheckpointDir(out / "checkpoints", keep=keep)
    try:
        latest = checkpoints.latest()
    except (ValueError, OSError) as exc:
        raise JobError(str(exc)) from exc
    if latest is not None and not resume:
        raise JobError(f"{out} already holds a run at step {latest.step}; resume it (--resume) or choose a new --out")
    if latest is not None and is_main:
        _warn_changed(out / "config.yaml", config)
    if is_main:
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_text(out / "config.yaml", dump_config(config))
    if latest is not None:
        log.info("resuming from %s (step %d)", latest.path, latest.step)
    return checkpoints, latest


# Options that may change between a run and its resume without making the resume inexact.
_HARMLESS = {
    "steps",
    "out",
    "resume",
    "device",
    "threads",
    "workers",
    "checkpoint_every",
    "keep_checkpoints",
    "eval_every",
    "eval_images",
    "eval_samples",
    "log_every",
    "name",
    "compile",
    "bundle_weights",
    "sampler_steps",
    "cfg_weight",
    "vq",
}


def _warn_changed(path: Path, config: Any) -> None:
    """Resuming with other data, batch or seed options is allowed, but it is no longer the same run: say so."""
    import yaml

    try:
        before = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return
    now = to_dict(config)
    changed = sorted(k for k in now if k not in _HARMLESS and k in before and before[k] != now[k])
    if changed:
        log.warning(
            "resuming with changed options %s: the run goes on, but not as it would have without the change",
            ", ".join(f"{k} {before[k]!r} -> {now[k]!r}" for k in changed),
        )


@dataclass
class Clock:
    """Wall time across resumes: what earlier runs spent plus this one so far."""

    before: float = 0.0
    started: float = field(default_factory=time.perf_counter)

    def total(self) -> float:
        return self.before + time.perf_counter() - self.started


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


def provenance(
    job: str,
    command: str,
    config: Any,
    device: torch.device,
    steps: int,
    wall_time_s: float,
    metrics: dict[str, Any],
    extra: dict[str, Any] | None = None,
    world_size: int = 1,
) -> dict[str, Any]:
    return plain(
        {
            "job": job,
            "command": command,
            "config": to_dict(config),
            "steps": steps,
            "wall_time_s": round(wall_time_s, 1),
            "metrics": metrics,
            "peak_rss_mb": peak_rss_mb(),
            "peak_device_mb": peak_device_mb(device),
            "device": describe(device),
            "world_size": world_size,
            "torch": torch.__version__,
            "host": platform.node(),
            "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            **(extra or {}),
        }
    )


@dataclass
class VQSource:
    model: VQModel
    path: str
    sha256: str
    class_names: list[str] | None  # from a bundle; None for a bare checkpoint
    image_size: int | None


def load_vq_source(source: str, preset: str = "vq16") -> VQSource:
    """A VQ from a model bundle folder, our own VQ safetensors, or an official LlamaGen .pt checkpoint."""
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
            model = VQModel(config)
            model.load_state_dict(load_file(str(path)), strict=True)
        else:
            model = load_llamagen_checkpoint(path, config)
    except (BundleError, ConfigError, ValueError, RuntimeError) as exc:
        raise JobError(f"cannot load VQ from {path}: {str(exc).splitlines()[0]}") from exc
    return VQSource(model.eval(), str(path), sha256_file(path), None, None)


def rng_for_checkpoint(info, generators: dict[str, torch.Generator]) -> tuple[dict[str, torch.Tensor], list[dict]]:
    """Every rank's RNG streams (collective: all ranks must call it), as one tensor group + JSON metas."""
    from training.checkpoint import capture_rng
    from training.distributed import gather

    states = gather(capture_rng(generators), info)
    tensors = {f"rank{r}.{k}": v for r, (t, _) in enumerate(states) for k, v in t.items()}
    return tensors, [meta for _, meta in states]


def restore_rank_rng(ckpt: Checkpoint, info, generators: dict[str, torch.Generator]) -> bool:
    """This rank's RNG streams from a checkpoint; False (and a warning) when the world size changed."""
    from training.checkpoint import restore_rng

    metas = ckpt.state.get("rng", [])
    if len(metas) != info.world_size:
        log.warning(
            "checkpoint was written by %d processes, this run has %d: random streams restart "
            "(the run goes on, but not bit-identically)",
            len(metas),
            info.world_size,
        )
        return False
    prefix = f"rank{info.rank}."
    tensors = {k.removeprefix(prefix): v for k, v in ckpt.tensors("rng").items() if k.startswith(prefix)}
    restore_rng(tensors, metas[info.rank], generators)
    return True
