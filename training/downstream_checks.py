"""Checks of `eval downstream`'s input and draws: what --yolo-model may name, and whether a k of --shots could be
drawn in full.

--yolo-model: an architecture YAML (a file, or a name Ultralytics resolves to its own config such as
`yolov8n.yaml`). Ultralytics loads every weights file (`.pt`) with pickle, which can run code, so a weights file
is refused here, before anything reaches Ultralytics."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

from core.config import ConfigError, safe_yaml

log = logging.getLogger(__name__)
YAML_SUFFIXES = (".yaml", ".yml")


def check_yolo_model(value: str) -> None:
    """ConfigError (one line) unless `value` is an architecture YAML Ultralytics can build without unpickling."""
    path = Path(value)
    if path.suffix.lower() not in YAML_SUFFIXES:
        raise ConfigError(
            f"--yolo-model {value}: Ultralytics loads weights files with pickle, which can run code, so it was not "
            "opened; give an architecture YAML such as yolov8n.yaml (trained from scratch)"
        )
    if path.is_file():
        try:
            text = path.read_bytes()
        except OSError as exc:
            raise ConfigError(f"--yolo-model {value}: cannot read it ({exc.strerror or exc})") from None
        if not isinstance(safe_yaml(text, value), dict):
            raise ConfigError(f"--yolo-model {value}: not a model architecture (a YAML mapping)")
    elif len(path.parts) > 1:
        raise ConfigError(f"--yolo-model {value}: no such file")


def draw_caps(drawn: Mapping[int, Sequence], k: int, classes: Sequence[str]) -> dict[str, int]:
    """The classes that had fewer than k real boxes to draw, with how many they had: the run at this k used
    those, not k. Said in a warning and recorded in the report, so k = 100000 is never reported as drawn."""
    caps = {classes[label]: len(shots) for label, shots in drawn.items() if len(shots) < k}
    if caps:
        log.warning(
            "k %d: the draw was capped; only %s real box(es) to draw",
            k,
            ", ".join(f"{count} of {name}" for name, count in caps.items()),
        )
    return caps
