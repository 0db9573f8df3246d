"""Finding and loading model bundles for the app: the bundled ones, the user's model folder, and any folder the
user pointed at. Qt-free: loading runs in a worker thread, and tests call it directly."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from core.bundle import BundleError, BundleInfo, ModelBundle, load_bundle, read_bundle_info
from core.device import DeviceError, choose_device, describe

log = logging.getLogger(__name__)


def bundled_models_dir() -> Path:
    from core.resources import resource_path

    return resource_path("models")


def default_model_path() -> Path:
    return bundled_models_dir() / "default"


@dataclass
class BundleEntry:
    """A bundle folder the picker can offer; `error` says why it cannot be used."""

    path: Path
    info: BundleInfo | None
    error: str = ""
    builtin: bool = False

    @property
    def label(self) -> str:
        return self.info.name if self.info else self.path.name


def discover_bundles(roots: list[Path], extra: list[Path] | None = None) -> list[BundleEntry]:
    """Bundle folders directly inside each root, plus explicitly named folders, without loading weights."""
    candidates: list[tuple[Path, bool]] = []
    for index, root in enumerate(roots):
        if root.is_dir():
            candidates += [(child, index == 0) for child in sorted(root.iterdir()) if (child / "model.yaml").is_file()]
    candidates += [(Path(p), False) for p in (extra or [])]
    entries: list[BundleEntry] = []
    seen: set[Path] = set()
    for path, builtin in candidates:
        key = path.resolve()
        if key in seen:
            continue
        seen.add(key)
        try:
            entries.append(BundleEntry(path, read_bundle_info(path), builtin=builtin))
        except BundleError as exc:
            entries.append(BundleEntry(path, None, str(exc), builtin))
    return entries


def pick_device(setting: str) -> tuple[torch.device, str]:
    """The device to use and, when the wanted one is unavailable, a note saying what happened instead."""
    try:
        return choose_device(setting), ""
    except DeviceError as exc:
        return torch.device("cpu"), str(exc)


@dataclass
class LoadedModel:
    """A model ready to generate: the bundle, its pipeline and where it runs."""

    bundle: ModelBundle
    pipeline: Any  # core.pipeline.InpaintPipeline
    device: torch.device
    device_note: str = ""  # e.g. why CUDA was not used
    device_setting: str = "auto"  # what was asked for ("auto", "cuda", "cpu"): the note is about it

    @property
    def info(self) -> BundleInfo:
        return self.bundle.info

    @property
    def device_text(self) -> str:
        return describe(self.device)


def load_model(path: Path | str, device_setting: str = "auto", pipeline_factory: Any = None) -> LoadedModel:
    """Load a bundle on the chosen device (falling back to the CPU with a note) and wrap it in a pipeline."""
    if pipeline_factory is None:
        from core.pipeline import InpaintPipeline

        pipeline_factory = InpaintPipeline

    device, note = pick_device(device_setting)
    bundle = load_bundle(path, device=device)
    log.info("model %s on %s", bundle.name, describe(device))
    return LoadedModel(bundle, pipeline_factory(bundle), device, note, device_setting)
