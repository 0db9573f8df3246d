"""Atomic, pickle-free training checkpoints.

A checkpoint is a folder `checkpoints/step_00001234/` holding safetensors files (model, EMA, optimizer tensors,
RNG states) and `state.json` (step, data position, optimizer hyper-parameters, anything JSON). It is written
under a temporary name and renamed into place; `checkpoints/latest.json` is then replaced atomically. A crash at
any moment leaves either the old or the new checkpoint, never a partial one.
"""

from __future__ import annotations

import json
import logging
import random
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, load_model, save_file, save_model

from core.fsutil import staged_folder, write_atomic

log = logging.getLogger(__name__)

LATEST = "latest.json"
STATE = "state.json"


# --- optimizer state <-> (tensors, json) ---------------------------------------------------------------------


def optimizer_to_files(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    state = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for pid, entry in state["state"].items():
        for name, value in entry.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{pid}.{name}"] = value.detach().cpu().contiguous()
            else:
                scalars.setdefault(str(pid), {})[name] = value
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def optimizer_from_files(
    optimizer: torch.optim.Optimizer, tensors: dict[str, torch.Tensor], meta: dict[str, Any]
) -> None:
    state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        pid, name = key.split(".", 1)
        state.setdefault(int(pid), {})[name] = value
    for pid, entries in meta.get("scalars", {}).items():
        state.setdefault(int(pid), {}).update(entries)
    groups = []
    for group in meta["param_groups"]:
        group = dict(group)
        if isinstance(group.get("betas"), list):
            group["betas"] = tuple(group["betas"])
        groups.append(group)
    optimizer.load_state_dict({"state": state, "param_groups": groups})


# --- RNG states --------------------------------------------------------------------------------------------


def capture_rng(generators: dict[str, torch.Generator] | None = None) -> tuple[dict[str, torch.Tensor], dict]:
    """Every random stream a job draws from: torch (CPU, CUDA), numpy, Python, and named generators."""
    tensors = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        for i, s in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"cuda{i}"] = s
    for name, gen in (generators or {}).items():
        tensors[f"gen.{name}"] = gen.get_state()
    np_state = np.random.get_state()
    tensors["numpy"] = torch.from_numpy(np.asarray(np_state[1], dtype=np.int64))
    py_version, py_state, py_gauss = random.getstate()
    meta = {
        "numpy": [np_state[0], int(np_state[2]), int(np_state[3]), float(np_state[4])],
        "python": [py_version, list(py_state), py_gauss],
    }
    return tensors, meta


def restore_rng(
    tensors: dict[str, torch.Tensor], meta: dict, generators: dict[str, torch.Generator] | None = None
) -> None:
    torch.set_rng_state(tensors["torch"])
    if torch.cuda.is_available():
        states = [tensors[k] for k in sorted(k for k in tensors if k.startswith("cuda"))]
        if len(states) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(states)
    for name, gen in (generators or {}).items():
        gen.set_state(tensors[f"gen.{name}"])
    kind, pos, has_gauss, cached = meta["numpy"]
    np.random.set_state((kind, tensors["numpy"].numpy().astype(np.uint32), pos, has_gauss, cached))
    version, state, gauss = meta["python"]
    random.setstate((version, tuple(state), gauss))


# --- checkpoint folders ------------------------------------------------------------------------------------


@dataclass
class Checkpoint:
    path: Path
    step: int
    state: dict[str, Any]

    def load_model(self, name: str, model: torch.nn.Module) -> None:
        """Weights into `model` (strict); tied weights such as the transformer head are handled by safetensors."""
        missing, unexpected = load_model(model, str(self.path / f"{name}.safetensors"), strict=False)
        real_missing = [k for k in missing if k not in _tied_keys(model)]
        if real_missing or unexpected:
            raise ValueError(
                f"{self.path / name}.safetensors does not fit the model: missing {real_missing[:3]}, "
                f"unexpected {unexpected[:3]}"
            )

    def tensors(self, name: str) -> dict[str, torch.Tensor]:
        return load_file(str(self.path / f"{name}.safetensors"))


def _tied_keys(model: torch.nn.Module) -> set[str]:
    seen: dict[int, str] = {}
    tied = set()
    for key, value in model.state_dict(keep_vars=True).items():
        ptr = value.data_ptr()
        if ptr in seen and value.numel():
            tied.add(key)
        seen.setdefault(ptr, key)
    return tied


def _step_of(path: Path) -> int | None:
    name = path.name
    return int(name[5:]) if name.startswith("step_") and name[5:].isdigit() else None


def _read_checkpoint(path: Path) -> Checkpoint:
    """A checkpoint whose state.json and every tensor file open whole (safetensors checks a file's length
    against its header, so a truncated file is caught here, not halfway through loading)."""
    if not path.is_dir():
        raise ValueError("missing")
    state = json.loads((path / STATE).read_text(encoding="utf-8"))
    if not isinstance(state, dict):
        raise ValueError(f"{STATE} is not a JSON object")
    files = list(path.glob("*.safetensors"))
    if not files:
        raise ValueError("no tensor files")
    for file in files:
        with safe_open(str(file), "pt") as handle:
            handle.keys()
    return Checkpoint(path, int(state["step"]), state)


class CheckpointDir:
    """The checkpoints of one run: save (atomic), latest, prune."""

    def __init__(self, root: Path, keep: int = 2):
        self.root = Path(root)
        self.keep = max(1, keep)

    def latest(self) -> Checkpoint | None:
        """The checkpoint to resume from: the one latest.json names if it is intact, else the newest intact one
        (with a warning saying which and why). None when there is none at all; ValueError when every
        checkpoint there is damaged (a fresh start would silently throw the run away)."""
        pointer = self.root / LATEST
        named, why = None, ""
        if pointer.is_file():
            try:
                named = json.loads(pointer.read_text(encoding="utf-8"))["checkpoint"]
                if not isinstance(named, str) or Path(named).name != named:
                    raise ValueError(f"not a checkpoint folder name: {named!r}")
            except (OSError, ValueError, KeyError, TypeError) as exc:
                named, why = None, f"{pointer} is damaged ({str(exc).splitlines()[0] if str(exc) else exc!r})"
        elif self._folders():
            why = f"{pointer} is missing"
        candidates = ([self.root / named] if named else []) + [p for p in self._folders() if p.name != named]
        damaged = []
        for path in candidates:
            try:
                checkpoint = _read_checkpoint(path)
            except (OSError, ValueError, KeyError, TypeError, SafetensorError) as exc:
                damaged.append(f"{path.name} ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})")
                continue
            if damaged or why:
                log.warning(
                    "%s; resuming from the newest intact checkpoint, %s (step %d)",
                    "; ".join(filter(None, [why, *(f"{d} is damaged" for d in damaged)])),
                    path.name,
                    checkpoint.step,
                )
            return checkpoint
        if damaged:
            raise ValueError(f"no intact checkpoint in {self.root}: {'; '.join(damaged)}" + (f"; {why}" if why else ""))
        return None

    def _folders(self) -> list[Path]:
        """Finished checkpoint folders, newest step first."""
        found = [p for p in self.root.glob("step_*") if p.is_dir() and _step_of(p) is not None]
        return sorted(found, key=lambda p: _step_of(p) or 0, reverse=True)

    def save(
        self,
        step: int,
        models: dict[str, torch.nn.Module],
        tensors: dict[str, dict[str, torch.Tensor]],
        state: dict[str, Any],
    ) -> Path:
        """Write models (safetensors via save_model, which keeps tied weights once), tensor groups and state."""
        self.root.mkdir(parents=True, exist_ok=True)
        name = f"step_{step:08d}"
        final = self.root / name
        # replace: a step folder left by a run that crashed after this step and is being redone
        with staged_folder(final, replace=True) as tmp:
            for key, model in models.items():
                save_model(model, str(tmp / f"{key}.safetensors"))
            for key, group in tensors.items():
                save_file({k: v.detach().cpu().contiguous() for k, v in group.items()}, str(tmp / f"{key}.safetensors"))
            (tmp / STATE).write_text(json.dumps({**state, "step": step}, indent=1), encoding="utf-8")
        write_atomic(self.root / LATEST, json.dumps({"checkpoint": name, "step": step}))
        self._prune(name)
        return final

    def _prune(self, newest: str) -> None:
        """Delete only checkpoints the one just written supersedes (earlier steps), keeping `keep` in all; a
        later step (a run resumed from an earlier checkpoint) is never deleted here."""
        newest_step = _step_of(self.root / newest)
        older = [p for p in self._folders() if (_step_of(p) or 0) < (newest_step or 0)]
        for old in older[self.keep - 1 :]:
            shutil.rmtree(old, ignore_errors=True)
        for stale in self.root.glob(".step_*.tmp"):  # temp folders of a crashed save
            shutil.rmtree(stale, ignore_errors=True)
