"""Choices users see in more than one front end (app, synth, dataset readers, settings), in one place.

Standard library only, so settings and `--help` can read them without loading torch or PIL.
"""

from __future__ import annotations

# Image files the app, synth and the dataset readers pick up (what core.imageio.load_image reads).
IMAGE_SUFFIXES: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")
# Where the models may run: a saved or typed choice outside this list falls back to "auto".
DEVICE_CHOICES: tuple[str, ...] = ("auto", "cuda", "mps", "cpu")


def device_setting(text: str) -> str:
    """A device as a user types or saves it, lower-cased: one of DEVICE_CHOICES, or one with an index (`cuda:1`);
    ValueError otherwise. The one rule core.device.choose_device and every --device flag (core.flags) apply."""
    wanted = text.strip().lower()
    kind, colon, index = wanted.partition(":")
    if kind not in DEVICE_CHOICES or (colon and (kind == "auto" or not (index.isascii() and index.isdigit()))):
        raise ValueError(f"unknown device {wanted!r}; use one of {', '.join(DEVICE_CHOICES)} (or cuda:N)")
    return wanted


def is_image_name(name: str) -> bool:
    """A file name with one of IMAGE_SUFFIXES (any case)."""
    return name.lower().endswith(IMAGE_SUFFIXES)
