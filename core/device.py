"""Which device runs the models, how (bf16 autocast on CUDA), and what a user is told when it fails."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator

import torch

from core.choices import device_setting

log = logging.getLogger(__name__)

ENV_VAR = "DEFECTFORGE_DEVICE"


class DeviceError(RuntimeError):
    """The chosen device cannot be used; the message says what to do instead."""


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend and backend.is_available())


def choose_device(setting: str | None = None) -> torch.device:
    """DEFECTFORGE_DEVICE (environment) beats the app/CLI setting, which beats auto (cuda, mps, cpu)."""
    try:
        wanted = device_setting(os.environ.get(ENV_VAR) or setting or "auto")
    except ValueError as exc:
        raise DeviceError(str(exc)) from None
    if wanted == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    kind = wanted.split(":")[0]
    if kind == "cuda" and not torch.cuda.is_available():
        raise DeviceError(
            "CUDA was requested but is not available (no NVIDIA GPU/driver, or a CPU-only PyTorch). "
            "Choose 'cpu' or 'auto'."
        )
    if kind == "mps" and not _mps_available():
        raise DeviceError("Apple MPS was requested but is not available. Choose 'cpu' or 'auto'.")
    return torch.device(wanted)


def describe(device: torch.device) -> str:
    """A short human name: 'CPU (2 threads)' or 'CUDA: NVIDIA H100'."""
    if device.type == "cuda":
        return f"CUDA: {torch.cuda.get_device_name(device)}"
    if device.type == "mps":
        return "Apple MPS"
    return f"CPU ({torch.get_num_threads()} threads)"


def autocast(device: torch.device) -> contextlib.AbstractContextManager:
    """bf16 autocast on CUDA (fast tensor cores, SDPA flash kernels); full precision elsewhere."""
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def is_out_of_memory(exc: BaseException) -> bool:
    if isinstance(exc, torch.cuda.OutOfMemoryError):
        return True
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()


@contextlib.contextmanager
def friendly_oom(device: torch.device) -> Iterator[None]:
    """Turn an out-of-memory error into a DeviceError a user can act on."""
    try:
        yield
    except Exception as exc:
        if not is_out_of_memory(exc):
            raise
        if device.type == "cuda":
            torch.cuda.empty_cache()
        raise DeviceError(
            f"The {describe(device)} device ran out of memory. Generate fewer variants at once, "
            "or switch the device to CPU."
        ) from exc
