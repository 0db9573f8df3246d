"""A model bundle's card, read from what the bundle folder holds: data and its credit (model.yaml provenance),
measured figures per class (`eval/report.json`), training curves (`train_log/*.csv`, the RunLog CSVs) and a
plain warning for classes the model draws poorly. Anything missing reads as "not recorded", never an error."""

from __future__ import annotations

import csv
import json
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from core.bundle import BundleInfo

log = logging.getLogger(__name__)

REPORT_FILE = Path("eval") / "report.json"
TRAIN_LOG_DIR = "train_log"
# Below this share of generated defects that a real-data classifier recognises, the card warns about a class.
WEAK_CLASS_FIDELITY = 0.5
# Loss columns and held-out columns, drawn as two plots per log (the rest of a RunLog row is bookkeeping).
_SKIP_COLUMNS = {"step", "lr", "seconds", "peak_rss_mb", "grad_norm"}

# Headline figures: card key -> where eval/report.json (training/evaluate.py) keeps it.
FIGURES = {
    "class_fidelity": ("class_fidelity", "overall"),
    "vq_ssim": ("vq", "ssim"),
    "seam_ratio": ("seam", "ratio"),
    "diversity": ("diversity", "mean"),
    "seconds_per_inpaint": ("speed", "seconds_per_inpaint"),
}

_CREDITS = {
    "neu": "NEU surface defect database (NEU-DET), K. Song and Y. Yan, Northeastern University",
    "procedural": "DefectForge's procedural generator (core.procedural): synthetic images, no third-party data",
}


@dataclass
class Curve:
    """One training log: column name -> [(step, value)], split into training and held-out columns."""

    name: str
    train: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    heldout: dict[str, list[tuple[float, float]]] = field(default_factory=dict)


@dataclass
class ModelCard:
    name: str
    classes: list[str]
    data: str | None  # where the training data came from, in words
    credit: str | None
    trained_steps: int | None
    class_fidelity: dict[str, float]  # class -> share of its generated defects recognised as that class
    overall_fidelity: float | None
    figures: dict[str, float]  # headline figures by FIGURES key
    curves: list[Curve]
    eval_command: str | None = None

    @property
    def weak_classes(self) -> list[str]:
        return [
            name
            for name in self.classes
            if name in self.class_fidelity and self.class_fidelity[name] < WEAK_CLASS_FIDELITY
        ]


def _get(tree: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(tree, dict) or key not in tree:
            return None
        tree = tree[key]
    return tree


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _dataset_name(where: str) -> str:
    """A dataset's name from where it lay on the training machine: its folder's name (or a spec file's stem),
    never the machine's absolute path, which means nothing on the reader's."""
    path = PureWindowsPath(where) if "\\" in where else PurePosixPath(where)
    if path.suffix.lower() in (".yaml", ".yml"):
        return path.stem
    return path.name or where


def _data_and_credit(provenance: dict[str, Any]) -> tuple[str | None, str | None]:
    data = provenance.get("data")
    if not isinstance(data, dict):
        return (_dataset_name(str(data)), None) if data else (None, None)
    credit = data.get("credit")
    if "procedural" in data:
        kind = "procedural"
        spec = data["procedural"] if isinstance(data["procedural"], dict) else {}
        count = spec.get("n_per_class")
        text = "procedural steel surfaces" + (f", {count} per class" if count else "")
    else:
        root = str(data.get("root") or data.get("name") or "")
        kind = "neu" if "neu" in f"{root} {data.get('kind', '')}".lower() else ""
        text = str(data.get("name") or "") or (_dataset_name(root) if root else "") or None
    return text, credit or _CREDITS.get(kind)


def _read_report(path: Path) -> dict[str, Any]:
    try:
        report = json.loads((path / REPORT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.debug("no eval report in %s: %s", path, exc)
        return {}
    return report if isinstance(report, dict) else {}


def read_curve(csv_path: Path) -> Curve | None:
    """A RunLog CSV as a Curve; None when the file cannot be read or holds no numbers."""
    try:
        with open(csv_path, newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, csv.Error, UnicodeDecodeError):
        return None
    curve = Curve(csv_path.stem)
    for row in rows:
        step = _number(row.get("step"))
        if step is None:
            continue
        for column, text in row.items():
            value = _number(text)
            if column is None or column in _SKIP_COLUMNS or value is None:
                continue
            target = curve.heldout if column.startswith("val_") else curve.train
            target.setdefault(column, []).append((step, value))
    return curve if curve.train or curve.heldout else None


def read_model_card(info: BundleInfo) -> ModelCard:
    path = Path(info.path)
    report = _read_report(path)
    data, credit = _data_and_credit(info.provenance or {})
    per_class = _get(report, "class_fidelity", "per_class") or {}
    fidelity = (
        {str(k): v for k, v in ((k, _number(v)) for k, v in per_class.items()) if v is not None}
        if isinstance(per_class, dict)
        else {}
    )
    figures: dict[str, float] = {}
    for figure, keys in FIGURES.items():
        value = _number(_get(report, *keys))
        if value is not None:
            figures[figure] = value
    steps = _number(_get(report, "bundle", "trained_steps")) or _number((info.provenance or {}).get("steps"))
    curves = (
        [c for c in (read_curve(p) for p in sorted((path / TRAIN_LOG_DIR).glob("*.csv"))) if c is not None]
        if (path / TRAIN_LOG_DIR).is_dir()
        else []
    )
    command = _get(report, "command")
    return ModelCard(
        info.name,
        list(info.class_names),
        data,
        credit,
        int(steps) if steps is not None else None,
        fidelity,
        _number(_get(report, "class_fidelity", "overall")),
        figures,
        curves,
        str(command) if command else None,
    )
