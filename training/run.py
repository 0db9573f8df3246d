"""One training run: what `train vq` and `train maskgit` share around their own step.

The run owns the run folder and its checkpoints (resume included), the random streams a checkpoint keeps, the
log window (sums since the last row) and its CSV rows, the cadence of rows, checkpoints and held-out measures,
and the provenance and bundle at the end. A job builds its models, names what a checkpoint keeps
(`TrainingRun.keep`) and drives `TrainingRun.train` with its step; nanoGPT's one readable loop, kept once.
"""

from __future__ import annotations

import dataclasses
import logging
import platform
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import torch

from core.config import ConfigError, to_dict
from core.device import describe
from core.fsutil import write_atomic
from training import distributed as dist
from training.batches import Position
from training.checkpoint import (
    Checkpoint,
    CheckpointDir,
    capture_rng,
    optimizer_from_files,
    optimizer_to_files,
    restore_rng,
)
from training.jobs import JobError, apply_threads, close_log_file, plain, setup_logging
from training.options import MachineOptions, dump_config, option, resume_safe_options
from training.runlog import RunLog, peak_device_mb, peak_rss_mb

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunOptions(MachineOptions):
    """The options of a training config that the run itself reads: its folder and bundle name, how long it goes,
    its cadence and resume. `train vq` and `train maskgit` inherit them; the defaults are a MaskGIT run's, and a
    job restates what it means otherwise (`restate`). Each is resume-safe."""

    FLAGS_TITLE: ClassVar[str] = "the run"

    out: str = option("", "run folder: checkpoints, logs, plots, bundle/", resume_safe=True)
    name: str = option("defectforge", "model name written into the bundle", resume_safe=True)
    steps: int = option(5000, "optimizer steps in total", resume_safe=True)
    checkpoint_every: int = option(500, "steps between checkpoints", resume_safe=True)
    keep_checkpoints: int = option(2, "checkpoints kept on disk", resume_safe=True)
    eval_every: int = option(500, "steps between held-out evaluations (and at the end)", resume_safe=True)
    log_every: int = option(10, "steps between log rows", resume_safe=True)
    resume: bool = option(True, "continue the run in --out from its last checkpoint", resume_safe=True)
    time_limit: float = option(
        0.0,
        "seconds this process may train (0: no limit); at the first log row past them the run ends there as if "
        "at --steps: held-out measures, checkpoint, bundle (a lent GPU's fixed minutes)",
        resume_safe=True,
    )

    def validate(self) -> None:
        if not self.out:
            raise ConfigError("--out is required (the run folder)")
        for name in ("steps", "checkpoint_every", "eval_every", "log_every"):
            if getattr(self, name) < 1:
                raise ConfigError(f"--{name.replace('_', '-')} must be >= 1")
        if self.time_limit < 0:
            raise ConfigError("--time-limit must be >= 0 seconds (0: no limit)")


@dataclass
class StepValues:
    """What one step reports. `means` are averaged over the steps of a log row that reported them (and over
    processes); `latest` values are shown as they stand at the row's step; `counts` are summed; `bar` is the
    progress bar's postfix."""

    means: dict[str, float]
    latest: dict[str, float] = field(default_factory=dict)
    counts: dict[str, float] = field(default_factory=dict)
    bar: dict[str, float] = field(default_factory=dict)


class LogWindow:
    """Running sums since the last log row; checkpointed, so a resumed run writes the same rows."""

    def __init__(self, saved: dict[str, Any] | None = None):
        # A window saved in the older flat layout (before the run object) starts empty: one row averages less.
        saved = saved if isinstance(saved, dict) and "sums" in saved else {}
        self.sums: dict[str, float] = dict(saved.get("sums", {}))
        self.steps: dict[str, int] = dict(saved.get("steps", {}))  # a sum without steps is a count

    def add(self, values: StepValues) -> None:
        for key, value in values.means.items():
            self.sums[key] = self.sums.get(key, 0.0) + value
            self.steps[key] = self.steps.get(key, 0) + 1
        for key, value in values.counts.items():
            self.sums[key] = self.sums.get(key, 0.0) + value

    def state(self) -> dict[str, Any]:
        return {"sums": dict(self.sums), "steps": dict(self.steps)}

    def take(self, info: dist.DistInfo) -> dict[str, float]:
        """The row's means (over every process's steps) and this process's counts; the window empties.
        Collective: every process calls it at the same steps."""
        everyone = dist.gather(self.state(), info)
        row = {key: value for key, value in self.sums.items() if key not in self.steps}
        for key in dict.fromkeys(k for state in everyone for k in state["steps"]):
            total = sum(state["sums"].get(key, 0.0) for state in everyone)
            row[key] = total / sum(state["steps"].get(key, 0) for state in everyone)
        self.sums, self.steps = {}, {}
        return row


@dataclass
class Clock:
    """Wall time across resumes: what earlier runs spent plus this one so far."""

    before: float = 0.0
    started: float = field(default_factory=time.perf_counter)

    def total(self) -> float:
        return self.before + time.perf_counter() - self.started


def launch(cfg: RunOptions, train: Callable[[dist.DistInfo], Path]) -> Path:
    """Threads, processes (torchrun or one) and the run's log file around `train(info)`."""
    apply_threads(cfg.threads)
    info = dist.setup(cfg.device)
    out = Path(cfg.out)
    setup_logging(out, info.is_main)
    try:
        return train(info)
    finally:
        close_log_file(out)
        dist.cleanup(info)


class TrainingRun:
    """One job's run folder from its first step (or its last checkpoint) to its bundle."""

    def __init__(
        self,
        name: str,
        cfg: RunOptions,
        info: dist.DistInfo,
        command: str = "",
        generators: dict[str, torch.Generator] | None = None,
    ):
        """Opens the run folder (refusing a finished run unless --resume, warning about changed options) and
        finds the checkpoint to resume from. `generators` are the job's own random streams, checkpointed with
        the global ones."""
        self.name, self.cfg, self.info, self.command = name, cfg, info, command
        self.out = Path(cfg.out)
        self.generators = generators or {}
        self.checkpoints, self.latest = open_run(self.out, cfg, cfg.resume, cfg.keep_checkpoints, info.is_main)
        self.step, self.position, self.clock = 0, Position(), Clock()
        self.window = LogWindow()
        self.models: dict[str, torch.nn.Module] = {}
        self.optimizers: dict[str, torch.optim.Optimizer] = {}
        self.last_eval: dict[str, float] = {}
        self.metrics: dict[str, Any] = {}
        self.runlog: RunLog | None = None
        self.out_of_time = False  # --time-limit passed: this step is the run's last

    def keep(self, models: dict[str, torch.nn.Module], optimizers: dict[str, torch.optim.Optimizer]) -> None:
        """Name what every checkpoint keeps besides the run's own state; a resumed run gets it all back now
        (weights, optimizer state, random streams, step, data position, wall time, log window)."""
        self.models, self.optimizers = models, optimizers
        latest = self.latest
        if latest is None:
            return
        for name, model in models.items():
            latest.load_model(name, model)
        for name, optimizer in optimizers.items():
            optimizer_from_files(optimizer, latest.tensors(name), latest.state[name])
        restore_rank_rng(latest, self.info, self.generators)
        self.step, self.position = latest.step, Position(**latest.state["position"])
        self.clock.before = float(latest.state.get("wall_time_s", 0.0))
        self.window = LogWindow(latest.state.get("log_window"))

    def due(self, every: int) -> bool:
        return self.step % every == 0 or self.step == self.cfg.steps or self.out_of_time

    def _past_time_limit(self) -> bool:
        """Whether this process has spent --time-limit (its clock, not earlier runs'), asked only at log-row
        steps and agreed by every process (any one past it stops them all at the same step)."""
        if self.cfg.time_limit <= 0 or self.step % self.cfg.log_every != 0:
            return False
        spent = time.perf_counter() - self.clock.started
        return any(dist.gather(spent > self.cfg.time_limit, self.info))

    def train(
        self,
        batches: Iterator[tuple[Position, Any]],
        step: Callable[[int, Any], StepValues],
        columns: Sequence[str],
        evaluate: Callable[[], dict[str, float]] | None,
        at_log_row: Callable[[], dict[str, float]] | None = None,
        on_step: Callable[[int], None] | None = None,
    ) -> None:
        """`step(step, batch)` over `batches` (from the run's position on, each with the position after it)
        up to --steps (or the first log row past --time-limit), with log rows, held-out measures (`evaluate`;
        None: nothing is held out) and checkpoints on the config's cadence. `at_log_row()` adds values read only
        when a row is written; `on_step(step)` runs after each step (tests kill the run there)."""
        cfg, info = self.cfg, self.info
        self.runlog = RunLog(self.out, columns, cfg.steps, self.step, enabled=info.is_main, description=self.name)
        try:
            while self.step < cfg.steps and not self.out_of_time:
                self.position, batch = next(batches)
                values = step(self.step, batch)
                self.step += 1
                self.out_of_time = self.step < cfg.steps and self._past_time_limit()
                if self.out_of_time:
                    log.warning(
                        "--time-limit %.0f s reached: the run ends at step %d of %d",
                        cfg.time_limit,
                        self.step,
                        cfg.steps,
                    )
                self.window.add(values)
                self.runlog.progress(**values.bar)
                evaluated: dict[str, float] = {}
                measure = evaluate is not None and self.due(cfg.eval_every)
                if measure:
                    evaluated = self.last_eval = evaluate()
                if self.due(cfg.log_every) or measure:  # the same steps on every process: the row is collective
                    row = self.window.take(info) | values.latest | (at_log_row() if at_log_row else {})
                    row |= {"seconds": round(self.clock.total(), 2)} | {f"val_{k}": v for k, v in evaluated.items()}
                    self.runlog.log(self.step, row)
                if self.due(cfg.checkpoint_every):
                    self.save()
                if on_step is not None:
                    on_step(self.step)
        finally:
            close = getattr(batches, "close", None)
            if close is not None:  # data loader workers stop now, not when the generator is collected
                close()
        self.runlog.close()
        if not self.last_eval and evaluate is not None:  # resumed a finished run: measure again for provenance
            self.last_eval = evaluate()

    def save(self) -> None:
        """A checkpoint of what `keep` named and the run's own state (collective: every process calls it)."""
        rng_tensors, rng_meta = rng_for_checkpoint(self.info, self.generators)
        if self.info.is_main:
            tensors, state = {}, {}
            for name, optimizer in self.optimizers.items():
                tensors[name], state[name] = optimizer_to_files(optimizer)
            self.checkpoints.save(
                self.step,
                self.models,
                tensors | {"rng": rng_tensors},
                {
                    "position": dataclasses.asdict(self.position),
                    **state,
                    "rng": rng_meta,
                    "wall_time_s": self.clock.total(),
                    "world_size": self.info.world_size,
                    "log_window": self.window.state(),
                },
            )
        dist.barrier(self.info)

    def provenance(self, metrics: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
        """What the bundle records about how it was made: the command to repeat, config, steps, time,
        final measures, memory, device, versions."""
        self.metrics = metrics
        return provenance(
            f"train {self.name}",
            self.command,
            self.cfg,
            self.info.device,
            self.step,
            self.clock.total(),
            metrics,
            extra,
            self.info.world_size,
        )

    def write_bundle(self, save: Callable[[Path], Path | None], figures: dict[str, Sequence[str]]) -> Path:
        """On the main process: the log's plots, then `save(folder)` writes the job's bundle (its provenance
        from `provenance`) and returns an earlier bundle whose training logs come along (or None); this run's
        log joins them. Every process waits for it and gets the bundle folder."""
        bundle = self.out / "bundle"
        if self.info.is_main:
            assert self.runlog is not None, "train() first"
            self.runlog.plot(figures)
            earlier = save(bundle)
            self.runlog.keep_in_bundle(bundle, self.name, earlier=earlier)
            log.info(
                "bundle written to %s after %d steps, %.0f s; %s; peak RSS %.0f MiB",
                bundle,
                self.step,
                self.clock.total(),
                ", ".join(f"{k} {v:.3f}" for k, v in self.metrics.items() if isinstance(v, int | float)),
                peak_rss_mb(),
            )
        dist.barrier(self.info)
        return bundle


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
        write_atomic(out / "config.yaml", dump_config(config))
    if latest is not None:
        log.info("resuming from %s (step %d)", latest.path, latest.step)
    return checkpoints, latest


def changed_options(before: dict[str, Any], config: Any) -> list[str]:
    """Options whose change makes a resumed run differ from an uninterrupted one: every option that changed
    since `before` except those marked resume-safe on the option itself."""
    now, safe = to_dict(config), resume_safe_options(type(config))
    return sorted(k for k in now if k not in safe and k in before and before[k] != now[k])


def _warn_changed(path: Path, config: Any) -> None:
    """Resuming with other data, batch or seed options is allowed, but it is no longer the same run: say so."""
    import yaml

    try:
        before = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return
    changed = changed_options(before, config)
    if changed:
        now = to_dict(config)
        log.warning(
            "resuming with changed options %s: the run goes on, but not as it would have without the change",
            ", ".join(f"{k} {before[k]!r} -> {now[k]!r}" for k in changed),
        )


def rng_for_checkpoint(info, generators: dict[str, torch.Generator]) -> tuple[dict[str, torch.Tensor], list[dict]]:
    """Every rank's RNG streams (collective: all ranks must call it), as one tensor group + JSON metas."""
    states = dist.gather(capture_rng(generators), info)
    tensors = {f"rank{r}.{k}": v for r, (t, _) in enumerate(states) for k, v in t.items()}
    return tensors, [meta for _, meta in states]


def restore_rank_rng(ckpt: Checkpoint, info, generators: dict[str, torch.Generator]) -> bool:
    """This rank's RNG streams from a checkpoint; False (and a warning) when the world size changed."""
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
