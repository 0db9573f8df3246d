"""What a training job leaves for a human: progress bar, CSV + TensorBoard logs, PNG plots, peak memory.

Only the main rank writes. On resume, rows logged after the checkpoint (work that is being redone) are dropped
from the CSV and purged from TensorBoard, so the logs read like one uninterrupted run.
"""

from __future__ import annotations

import csv
import logging
import math
import resource
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

import torch
from tqdm import tqdm

log = logging.getLogger(__name__)


def peak_rss_mb() -> float:
    """Peak resident memory of this process plus its finished children (data workers), in MiB."""
    scale = 1 / 2**20 if sys.platform == "darwin" else 1 / 1024  # ru_maxrss is bytes on macOS, KiB elsewhere
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * scale
    return round(own + children, 1)


def peak_device_mb(device: torch.device) -> float | None:
    if device.type == "cuda":
        return round(torch.cuda.max_memory_allocated(device) / 2**20, 1)
    return None


class RunLog:
    def __init__(
        self,
        run_dir: Path,
        columns: Sequence[str],
        total_steps: int,
        start_step: int,
        enabled: bool = True,
        description: str = "train",
    ):
        self.run_dir = Path(run_dir)
        self.columns = ["step", *columns, "lr", "seconds", "peak_rss_mb"]
        self.enabled = enabled
        self.csv_path = self.run_dir / "log.csv"
        self._writer = None
        self.bar = tqdm(
            total=total_steps,
            initial=start_step,
            desc=description,
            disable=not enabled,
            dynamic_ncols=True,
            mininterval=1.0,
        )
        if not enabled:
            return
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self._truncate_after(start_step)
        try:
            from torch.utils.tensorboard import SummaryWriter

            self._writer = SummaryWriter(str(self.run_dir / "tensorboard"), purge_step=start_step + 1)
        except ImportError:  # tensorboard is in the training extra; the CSV still has everything
            log.warning("tensorboard is not installed: logging to CSV only")

    def _truncate_after(self, step: int) -> None:
        if not self.csv_path.is_file():
            with open(self.csv_path, "w", newline="", encoding="utf-8") as fh:
                csv.writer(fh).writerow(self.columns)
            return
        with open(self.csv_path, newline="", encoding="utf-8") as fh:
            rows = [r for r in csv.DictReader(fh) if int(r["step"]) <= step]
        with open(self.csv_path, "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, self.columns, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)

    def log(self, step: int, values: dict[str, float | None]) -> None:
        """One CSV row (empty cells for values not measured at this step) and TensorBoard scalars."""
        if not self.enabled:
            return
        row = {"step": step, **{k: v for k, v in values.items() if v is not None}, "peak_rss_mb": peak_rss_mb()}
        with open(self.csv_path, "a", newline="", encoding="utf-8") as fh:
            csv.DictWriter(fh, self.columns, extrasaction="ignore").writerow(
                {k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()}
            )
        if self._writer is not None:
            for key, value in row.items():
                if key != "step" and isinstance(value, int | float) and math.isfinite(value):
                    self._writer.add_scalar(key, value, step)

    def progress(self, n: int = 1, **postfix: float) -> None:
        self.bar.update(n)
        if postfix:
            self.bar.set_postfix({k: f"{v:.4g}" for k, v in postfix.items()}, refresh=False)

    def keep_in_bundle(self, bundle_path: Path, name: str, earlier: Path | None = None) -> None:
        """Copy this run's CSV into `<bundle>/train_log/<name>.csv` (the app's model card draws it), and the
        `train_log/` of an `earlier` bundle this one builds on (the VQ a MaskGIT run used)."""
        if not self.enabled or not self.csv_path.is_file():
            return
        from core.model_card import TRAIN_LOG_DIR

        target = Path(bundle_path) / TRAIN_LOG_DIR
        target.mkdir(exist_ok=True)
        if earlier is not None and (Path(earlier) / TRAIN_LOG_DIR).is_dir():
            for older in (Path(earlier) / TRAIN_LOG_DIR).glob("*.csv"):
                if older.stem != name:
                    shutil.copyfile(older, target / older.name)
        shutil.copyfile(self.csv_path, target / f"{name}.csv")

    def read(self) -> list[dict[str, str]]:
        with open(self.csv_path, newline="", encoding="utf-8") as fh:
            return list(csv.DictReader(fh))

    def plot(self, figures: dict[str, Sequence[str]]) -> list[Path]:
        """figures: png name -> CSV columns drawn in it against step. Returns the files written."""
        if not self.enabled:
            return []
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        rows = self.read()
        written = []
        for name, columns in figures.items():
            fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
            drawn = False
            for column in columns:
                points = [(int(r["step"]), float(r[column])) for r in rows if r.get(column) not in (None, "")]
                if points:
                    xs, ys = zip(*points, strict=True)
                    ax.plot(xs, ys, label=column, marker="o" if len(xs) < 30 else None, markersize=3)
                    drawn = True
            ax.set_xlabel("step")
            ax.set_title(name.removesuffix(".png"))
            if drawn:
                ax.legend()
            ax.grid(alpha=0.3)
            fig.tight_layout()
            path = self.run_dir / name
            fig.savefig(path)
            plt.close(fig)
            written.append(path)
        return written

    def close(self) -> None:
        self.bar.close()
        if self._writer is not None:
            self._writer.close()
