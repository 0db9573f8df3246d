"""`defectforge train state`: a run's latest checkpoint packed into one small file and back, so that a training
campaign spread over sessions (and machines) resumes where it stopped.

  pack    <run>/checkpoints/<latest> -> one safetensors file: every floating tensor (weights, EMA, optimiser
          moments) in bf16, RNG and integer tensors as they are; state.json, config.yaml and the log rows in its
          metadata. About half a checkpoint's size, one path, overwritten each time (atomically).
  unpack  that file -> <run>/checkpoints/step_N/ plus config.yaml and log.csv, in the layout `train vq` and
          `train maskgit` resume from. Refused when the run already holds that step or a later one.
Resuming from bf16 is not bit-exact (a campaign needs continuity, not identity): the weights and moments are
rounded once per session boundary, about 3 significant digits.

`--keep weights` leaves the optimiser moments out (they are twice the weights: a 3M-parameter model packs into
6 MB instead of 18), for a repository that keeps no file over 10 MB. The resumed run's AdamW starts its moments
afresh at the same step and learning rate (its bias correction restarts too); everything else (weights, EMA,
step, data position, random streams, log) resumes as with a full pack. `--keep model` also leaves a MaskGIT
run's EMA weights out (`ema` is then restarted as a copy of `model`, the current weights): a 3M-parameter
transformer with its EMA is 12 MB even in bf16.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from core.config import ConfigError
from core.fsutil import staged_folder, write_atomic
from training.checkpoint import LATEST, STATE, CheckpointDir
from training.jobs import JobError
from training.options import option

FORMAT = "defectforge-campaign-state/1"
RUN_FILES = ("config.yaml", "log.csv")  # carried in the metadata: what a resumed run checks and appends to
MODEL, EMA = "model", "ema"  # train maskgit's parts: its weights and their moving average


@dataclass(frozen=True)
class StateConfig:
    action: str = option("pack", "pack: run -> file; unpack: file -> run", choices=("pack", "unpack"))
    run: str = option("", "training run folder (the --out of train vq / train maskgit)")
    file: str = option("", "the packed state file (.safetensors)")
    keep: str = option(
        "all",
        "pack: all (weights and optimiser moments), weights (moments left out: a third of the size; the resumed "
        "optimiser restarts its moments) or model (weights without the EMA copy, which restarts from them)",
        choices=("all", "weights", "model"),
    )

    def validate(self) -> None:
        if not self.run or not self.file:
            raise ConfigError("give --run (the run folder) and --file (the packed state)")
        if not self.file.endswith(".safetensors"):
            raise ConfigError("--file must end in .safetensors")


def _optimizer_parts(state: dict) -> set[str]:
    """The checkpoint's parts that are optimisers (their state.json entry holds param_groups)."""
    return {name for name, value in state.items() if isinstance(value, dict) and "param_groups" in value}


def pack(run: Path, file: Path, keep: str = "all") -> int:
    """The run's latest checkpoint into `file` (`keep`: "all", or "weights" without optimiser moments); returns
    its step."""
    try:
        checkpoint = CheckpointDir(run / "checkpoints").latest()
    except ValueError as exc:
        raise JobError(str(exc)) from exc
    if checkpoint is None:
        raise JobError(f"{run}: no checkpoint to pack (has the run written one yet?)")
    state = json.loads((checkpoint.path / STATE).read_text(encoding="utf-8"))
    dropped = _optimizer_parts(state) if keep in ("weights", "model") else set()
    copies = {EMA: MODEL} if keep == "model" and (checkpoint.path / f"{EMA}.safetensors").is_file() else {}
    for name in dropped:  # AdamW without its per-parameter entries starts them afresh on its next step
        state[name] = {**state[name], "scalars": {}}
    tensors: dict[str, torch.Tensor] = {}
    dtypes: dict[str, str] = {}
    for part in sorted(checkpoint.path.glob("*.safetensors")):
        if part.stem in dropped or part.stem in copies:
            continue
        with safe_open(str(part), "pt") as handle:
            for key in handle.keys():  # noqa: SIM118 (safe_open is not a mapping)
                value = handle.get_tensor(key)
                name = f"{part.stem}/{key}"
                dtypes[name] = str(value.dtype).removeprefix("torch.")
                tensors[name] = value.to(torch.bfloat16) if value.is_floating_point() else value.contiguous()
    meta = {
        "format": FORMAT,
        "step": str(checkpoint.step),
        "checkpoint": checkpoint.path.name,
        "state": json.dumps(state, indent=1),
        "empty_parts": json.dumps(sorted(dropped)),
        "copied_parts": json.dumps(copies),
        "dtypes": json.dumps(dtypes),
        **{name: (run / name).read_text(encoding="utf-8") for name in RUN_FILES if (run / name).is_file()},
    }
    file.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(file, lambda tmp: save_file(tensors, str(tmp), metadata=meta))
    return checkpoint.step


def _read(file: Path, prefix: str = "") -> tuple[dict[str, str], dict[str, torch.Tensor]]:
    """A packed state's metadata and its tensors whose names start with `prefix`, in their original dtypes."""
    try:
        with safe_open(str(file), "pt") as handle:
            meta = handle.metadata() or {}
            if meta.get("format") != FORMAT:
                raise JobError(f"{file}: not a packed campaign state (format {meta.get('format')!r})")
            dtypes = json.loads(meta["dtypes"])
            tensors = {
                key: handle.get_tensor(key).to(getattr(torch, dtypes[key]))
                for key in handle.keys()  # noqa: SIM118 (safe_open is not a mapping)
                if key.startswith(prefix)
            }
    except (OSError, SafetensorError, KeyError, ValueError, AttributeError) as exc:
        raise JobError(f"{file}: cannot read the packed state ({str(exc).splitlines()[0]})") from exc
    return meta, tensors


def unpack(file: Path, run: Path) -> int:
    """`file` into the run folder as its latest checkpoint; returns the step."""
    meta, tensors = _read(file)
    step, name = int(meta["step"]), meta["checkpoint"]
    if Path(name).name != name or not name.startswith("step_"):
        raise JobError(f"{file}: damaged (checkpoint name {name!r})")
    checkpoints = CheckpointDir(run / "checkpoints")
    try:
        current = checkpoints.latest()
    except ValueError:
        current = None
    if current is not None and current.step >= step:
        raise JobError(f"{run} already holds step {current.step} (the packed state is step {step}): nothing to do")
    parts: dict[str, dict[str, torch.Tensor]] = {name: {} for name in json.loads(meta.get("empty_parts", "[]"))}
    for key, value in tensors.items():
        part, tensor = key.split("/", 1)
        parts.setdefault(part, {})[tensor] = value
    for copy, source in json.loads(meta.get("copied_parts", "{}")).items():
        if source not in parts:
            raise JobError(f"{file}: damaged (part {copy!r} copies {source!r}, which is not there)")
        parts[copy] = dict(parts[source])
    run.mkdir(parents=True, exist_ok=True)
    with staged_folder(run / "checkpoints" / name, replace=True) as tmp:
        for part, group in parts.items():
            if Path(part).name != part:
                raise JobError(f"{file}: damaged (part name {part!r})")
            save_file(group, str(tmp / f"{part}.safetensors"))
        (tmp / STATE).write_text(meta["state"], encoding="utf-8")
    for run_file in RUN_FILES:
        if run_file in meta:
            write_atomic(run / run_file, meta[run_file])
    write_atomic(run / "checkpoints" / LATEST, json.dumps({"checkpoint": name, "step": step}))
    return step


def packed_part(file: Path, part: str) -> dict[str, torch.Tensor]:
    """One part of a packed state (e.g. a MaskGIT run's `model` weights) in its original dtypes, to seed a new
    run from (train maskgit --init-weights)."""
    _, tensors = _read(file, f"{part}/")
    if not tensors:
        raise JobError(f"{file}: the packed state has no {part!r} weights")
    return {key.removeprefix(f"{part}/"): value for key, value in tensors.items()}


def model_weights(file: Path) -> dict[str, torch.Tensor]:
    """A transformer's weights from a bundle's transformer.safetensors or from a packed run's `model` part."""
    with safe_open(str(file), "pt") as handle:
        packed = (handle.metadata() or {}).get("format") == FORMAT
    return packed_part(file, MODEL) if packed else load_file(str(file))


def run_state(cfg: StateConfig, command: str = "") -> Path:
    run, file = Path(cfg.run), Path(cfg.file)
    if cfg.action == "pack":
        step = pack(run, file, cfg.keep)
        logging.getLogger(__name__).info(
            "packed %s step %d into %s (%.1f MB)", run, step, file, file.stat().st_size / 1e6
        )
        return file
    step = unpack(file, run)
    logging.getLogger(__name__).info("unpacked step %d into %s: train with --out %s to resume", step, run, run)
    return run
