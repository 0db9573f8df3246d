"""The one request object every front end builds (GUI, CLI, tests), and what a run gives back.

An InpaintRequest holds every generation parameter; its `to_record()` is what the export manifest stores,
so a request can be re-run exactly.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.config import SamplerConfig, to_dict

# Class name that asks for a null-class (unconditional) inpaint: erases a defect instead of drawing one.
CLEANUP_CLASS = "__clean__"
# Seeds go to torch.Generator.manual_seed and numpy: any whole number up to this (variant i uses seed + i).
MAX_SEED = 2**63 - 1
# Seeds short enough to read out and type: random seeds are drawn below this (core.sampler, the app's Regenerate)
# and the app's seed box (a 32-bit spin box) stops here. Longer seeds still run (synth --seed, a manifest's).
MAX_SHORT_SEED = 2**31 - 1
# Variants of one image and class that one command may ask for; beyond this a typo (an extra zero) is likelier
# than a wish, and the run would take days.
MAX_VARIANTS = 1000


@dataclass
class MaskLayer:
    """One painted region and the defect class to draw in it. Mask: (H, W) bool at image resolution."""

    mask: np.ndarray
    defect_class: str

    @property
    def is_cleanup(self) -> bool:
        return self.defect_class == CLEANUP_CLASS


@dataclass
class InpaintRequest:
    """Everything that determines a result. Same request + same model bundle = same pixels."""

    image: np.ndarray  # (H, W, 3) uint8 RGB working copy of the source (see core.imageio.LoadedImage)
    layers: list[MaskLayer]
    seed: int  # variant i uses seed + i
    variants: int = 1
    sampler: SamplerConfig = field(default_factory=SamplerConfig)
    source_path: Path | None = None
    tighten_labels: bool = False  # label only where the image really changed inside the painted mask
    context_margin: float = 0.5  # crop windows around large-image masks: margin as a share of the mask box
    feather_px: int = 6  # blend width at the window's token-region edge, in model pixels

    @property
    def seeds(self) -> list[int]:
        return [self.seed + i for i in range(self.variants)]

    def to_record(self) -> dict[str, Any]:
        """JSON-ready description for the manifest (masks are recorded by sha256 by the exporter)."""
        return {
            "source_path": str(self.source_path) if self.source_path else None,
            "classes": [layer.defect_class for layer in self.layers],
            "seed": self.seed,
            "variants": self.variants,
            "sampler": to_dict(self.sampler),
            "tighten_labels": self.tighten_labels,
            "context_margin": self.context_margin,
            "feather_px": self.feather_px,
        }


@dataclass(frozen=True)
class Box:
    """A labeled axis-aligned box in pixel coordinates; x1, y1 exclusive."""

    defect_class: str
    x0: int
    y0: int
    x1: int
    y1: int


@dataclass
class VariantResult:
    seed: int
    image: np.ndarray  # (H, W, 3) uint8 RGB, original size
    label_masks: dict[str, np.ndarray]  # defect class -> (H, W) bool label mask
    boxes: list[Box]
    # (H, W) bool: the pixels Clean-up layers changed (no defect label marks them); None without Clean-up.
    # Every pixel the run changed lies in a label mask or here.
    cleanup_mask: np.ndarray | None = None


@dataclass
class InpaintResult:
    request: InpaintRequest
    variants: list[VariantResult]
    model_name: str
    model_fingerprint: str
    seconds: float


@dataclass(frozen=True)
class Preview:
    """What a step looks like so far: variant 0's pixels in `box` (x0, y0, x1, y1, image pixels)."""

    image: np.ndarray  # (h, w, 3) uint8 RGB
    box: tuple[int, int, int, int]


@dataclass
class PipelineEvent:
    """One step of a run; the last event carries `result`. Events carry no pixels and do not depend on the
    clock: a front end that wants to show a step asks `pipeline.preview(event)` before pulling the next one."""

    layer_index: int  # which mask layer is being inpainted (0-based)
    layer_count: int
    step: int  # 1-based step within the whole run (all layers)
    total_steps: int
    result: InpaintResult | None = None
    window_done: bool = False  # this step finished a window: its preview is final and costs no decode
    # Makes this step's preview while the run is paused at it; cleared when the run moves on.
    make_preview: Callable[[], Preview] | None = field(default=None, repr=False, compare=False)

    @property
    def done(self) -> bool:
        return self.result is not None


# What identifies a request's work: the resume keys of `defectforge synth` and the export manifest.


def image_sha256(rgb: np.ndarray) -> str:
    """Fingerprint of an in-memory image (when there is no source file to hash)."""
    digest = hashlib.sha256(str(rgb.shape).encode())
    digest.update(np.ascontiguousarray(rgb).tobytes())
    return digest.hexdigest()


def mask_sha256(layers: list[MaskLayer]) -> str:
    """Fingerprint of a request's painted masks and their classes, in layer order."""
    digest = hashlib.sha256()
    for layer in layers:
        mask = np.asarray(layer.mask, dtype=bool)
        digest.update(f"{layer.defect_class}\0{mask.shape}\0".encode())
        digest.update(np.packbits(mask).tobytes())
    return digest.hexdigest()


def sample_key(source_sha256: str, classes: list[str], seed: int, masks_sha256: str) -> str:
    """What makes two exports the same work: the resume key of `defectforge synth`."""
    return f"{source_sha256}:{'+'.join(classes)}:{seed}:{masks_sha256}"
