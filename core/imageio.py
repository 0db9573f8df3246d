"""Images in and out in the modes users bring (gray, RGB, RGBA, palette, 16-bit), with errors that name the file.

The pipeline works on an (H, W, 3) uint8 RGB copy. `to_source_mode` writes a result back in the source's mode
and bit depth; every pixel the pipeline left unchanged keeps its original stored value exactly (its 16-bit gray
value, its palette index), and only changed pixels are converted:

- gray (1, L, LA): luminance of the result (ITU-R 601, as PIL's convert('L')); '1' is thresholded at 128.
- 16-bit gray (I;16, and 32-bit I whose values fit 16 bits): the working copy maps 0..value_max to 0..255,
  where value_max is the smallest 2**k - 1 holding the image's largest value (so 12-bit camera data in a
  16-bit file is not nearly black); changed pixels map back with the same scale. All come back as I;16,
  which PNG holds (it cannot hold 32-bit gray).
- palette (P): changed pixels take the nearest colour of the source palette (never a fully transparent
  entry), so the file stays a palette image with the source palette.
- RGBA and LA keep the source alpha; palette transparency is kept as is.
Photos open upright: an EXIF orientation tag (a camera held sideways) is applied on loading, as every viewer
applies it, so the working copy, the result written back and every mask are in that upright frame (`orientation`
records the tag that was applied; the written result carries none).
"""

from __future__ import annotations

import logging
import struct
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from core.fsutil import describe_os_error, sha256_file
from core.masks import mask_size_problem

log = logging.getLogger(__name__)

# 64 megapixels: far above any inspection camera frame we know (GC10 is 2 MP), far below an OOM.
DEFAULT_MAX_PIXELS = 64_000_000
SUPPORTED_MODES = ("1", "L", "LA", "P", "RGB", "RGBA", "I;16", "I;16L", "I;16B", "I;16N", "I")
_WIDE_GRAY = ("I;16", "I;16L", "I;16B", "I;16N", "I")
# Everything PIL raises for damaged data: truncated streams, bad chunks, bad zlib, short reads.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, zlib.error, IndexError)


class ImageError(ValueError):
    """An image or mask that cannot be used; the message says what is wrong and with which file."""


@dataclass
class LoadedImage:
    path: Path | None
    rgb: np.ndarray  # (H, W, 3) uint8 working copy
    mode: str  # PIL mode of the source: '1', 'L', 'LA', 'P', 'RGB', 'RGBA', 'I;16', 'I', ...
    bit_depth: int  # bits per sample of the source: 1, 8 or 16
    alpha: np.ndarray | None = None  # (H, W) uint8, for RGBA, LA and palettes with transparency
    format: str | None = None  # the source's file format as PIL names it: PNG, JPEG, BMP, TIFF
    palette: np.ndarray | None = None  # P: (n, 3) uint8 source palette
    indices: np.ndarray | None = None  # P: (H, W) uint8 source palette indices
    values: np.ndarray | None = None  # 1/L/LA/16-bit gray: (H, W) source gray values (uint8 or uint16)
    value_max: int = 255  # the gray value that maps to 255 in `rgb`
    transparency: Any = None  # PIL's 'transparency' info (palette index, alpha table or gray value)
    sha256: str | None = None  # of the file's bytes
    orientation: int = 1  # the EXIF orientation tag applied on loading (1: stored upright, or no tag)

    @property
    def size(self) -> tuple[int, int]:
        """(width, height), as PIL gives sizes."""
        return int(self.rgb.shape[1]), int(self.rgb.shape[0])


def _name(path: Path | None) -> str:
    return str(path) if path is not None else "image"


def _open_header(path: Path, max_pixels: int, what: str = "image") -> Image.Image:
    """Open lazily (header only) and refuse sizes we will not decode, before any pixel is read."""
    try:
        if path.is_dir():
            raise ImageError(f"{path}: is a folder, not an {what} file")
        if path.stat().st_size == 0:
            raise ImageError(f"{path}: empty file (0 bytes)")
    except FileNotFoundError:
        raise ImageError(f"{path}: no such {what} file") from None
    except OSError as exc:
        raise ImageError(f"{path}: cannot read ({describe_os_error(exc)})") from exc
    try:
        with warnings.catch_warnings():
            # Our own pixel limit below replaces PIL's decompression-bomb warning.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(path)
    except Image.DecompressionBombError as exc:
        raise ImageError(
            f"{path}: far over the limit of {max_pixels / 1e6:.1f} megapixels; crop or downscale it first"
        ) from exc
    except UnidentifiedImageError:
        raise ImageError(f"{path}: not a readable {what} (unknown format, zero size or a corrupt header)") from None
    except PermissionError as exc:
        raise ImageError(f"{path}: cannot read ({describe_os_error(exc)})") from exc
    except _DECODE_ERRORS as exc:
        raise ImageError(f"{path}: corrupt {what} header ({exc})") from exc
    width, height = image.size
    if width <= 0 or height <= 0:
        image.close()
        raise ImageError(f"{path}: the {what} has zero size ({width}x{height})")
    if width * height > max_pixels:
        image.close()
        raise ImageError(
            f"{path}: {width}x{height} = {width * height / 1e6:.1f} megapixels is over the limit of "
            f"{max_pixels / 1e6:.1f}; crop or downscale it first"
        )
    return image


def _decode(image: Image.Image, path: Path, what: str = "image") -> None:
    try:
        image.load()
    except _DECODE_ERRORS as exc:
        raise ImageError(f"{path}: corrupt or truncated {what} data ({exc})") from exc


def _gray_to_rgb(gray: np.ndarray) -> np.ndarray:
    return np.repeat(gray[:, :, None], 3, axis=2)


def _luminance(rgb: np.ndarray) -> np.ndarray:
    """ITU-R 601-2 luma with PIL's rounding, so gray in gives the same gray out."""
    r, g, b = (rgb[..., i].astype(np.int32) for i in range(3))
    return ((r * 299 + g * 587 + b * 114 + 500) // 1000).astype(np.uint8)


def _wide_gray_scale(values: np.ndarray) -> int:
    top = int(values.max()) if values.size else 0
    return max(255, (1 << max(top, 1).bit_length()) - 1)


def _from_pil(image: Image.Image, path: Path) -> LoadedImage:
    mode = image.mode
    transparency = image.info.get("transparency")
    if mode in ("1", "L", "LA"):
        gray = np.asarray(image.convert("L") if mode == "1" else image.getchannel("L"), dtype=np.uint8).copy()
        alpha = np.asarray(image.getchannel("A"), dtype=np.uint8).copy() if mode == "LA" else None
        return LoadedImage(
            path, _gray_to_rgb(gray), mode, 1 if mode == "1" else 8, alpha=alpha, values=gray, transparency=transparency
        )
    if mode in ("RGB", "RGBA"):
        array = np.asarray(image, dtype=np.uint8)
        alpha = array[..., 3].copy() if mode == "RGBA" else None
        return LoadedImage(path, np.ascontiguousarray(array[..., :3]), mode, 8, alpha=alpha)
    if mode == "P":
        indices = np.asarray(image, dtype=np.uint8).copy()
        palette = np.asarray(image.getpalette("RGB") or [], dtype=np.uint8).reshape(-1, 3)
        rgba = np.asarray(image.convert("RGBA"), dtype=np.uint8)
        alpha = rgba[..., 3].copy() if transparency is not None else None
        return LoadedImage(
            path,
            np.ascontiguousarray(rgba[..., :3]),
            mode,
            8,
            alpha=alpha,
            palette=palette,
            indices=indices,
            transparency=transparency,
        )
    if mode in _WIDE_GRAY:
        values = np.asarray(image)
        if mode == "I" and values.size and (int(values.min()) < 0 or int(values.max()) > 0xFFFF):
            raise ImageError(
                f"{path}: 32-bit gray with values outside 0..65535 is not supported (PNG cannot "
                "hold it); save it as 8- or 16-bit gray"
            )
        values = values.astype(np.uint16)
        value_max = _wide_gray_scale(values)
        gray = np.clip(np.rint(values.astype(np.float64) * (255.0 / value_max)), 0, 255).astype(np.uint8)
        return LoadedImage(
            path, _gray_to_rgb(gray), mode, 16, values=values, value_max=value_max, transparency=transparency
        )
    raise ImageError(
        f"{path}: unsupported colour mode {mode}; save it as gray, RGB, RGBA, palette or 16-bit gray "
        f"(supported: {', '.join(SUPPORTED_MODES)})"
    )


def _orientation(image: Image.Image) -> int:
    """The EXIF orientation tag (1..8), 1 when there is none or it is unreadable (a damaged tag must not cost the
    picture)."""
    try:
        value = int(image.getexif().get(0x0112, 1))
    except _DECODE_ERRORS + (TypeError,):
        return 1
    return value if 1 <= value <= 8 else 1


def load_image(path: Path | str, max_pixels: int = DEFAULT_MAX_PIXELS) -> LoadedImage:
    """PNG, JPEG, BMP (incl. 8-bit palette), TIFF (incl. 16-bit): an RGB working copy plus all it takes to
    write the result back in the source mode; upright (EXIF orientation applied). Raises ImageError for anything
    unusable."""
    path = Path(path)
    image = _open_header(path, max_pixels)
    with image:
        _decode(image, path)
        orientation = _orientation(image)
        upright = ImageOps.exif_transpose(image) if orientation != 1 else image
        loaded = _from_pil(upright, path)
        loaded.format = image.format
        loaded.orientation = orientation
    try:
        loaded.sha256 = sha256_file(path)
    except OSError as exc:
        raise ImageError(f"{path}: cannot read ({describe_os_error(exc)})") from exc
    log.debug("loaded %s: %dx%d %s, %d-bit", path, *loaded.size, loaded.mode, loaded.bit_depth)
    return loaded


def image_size(path: Path | str, what: str = "image") -> tuple[int, int]:
    """(width, height) from the file's header alone; ImageError for a file that is not a readable image."""
    path = Path(path)
    with _open_header(path, DEFAULT_MAX_PIXELS, what=what) as image:
        return image.size


def load_mask(path: Path | str, size: tuple[int, int] | None = None) -> np.ndarray:
    """A mask file as (H, W) bool, by one rule for every file, whether a user painted it or a dataset shipped it:

    a pixel is in the mask when its brightest channel is more than half of the brightest value in the file.
    So 0/1 label masks (1 > 0.5) and 0/255 masks both read as drawn, and the faint values JPEG leaves around a
    0/255 edge (a few levels above 0, a few below 255) fall on the side they came from; an all-black file is
    an empty mask. A fully transparent pixel (alpha 0, or a palette's transparent entry) is never in the mask
    and does not count towards the brightest value. Palette images hold labels, not brightness: a pixel is in
    the mask when its palette colour is not black (dark class colours such as VOC's count). 16-bit gray
    follows the brightness rule on its own values.

    `size` is the image's (width, height): a mask of another size is an ImageError. None: any size.
    """
    path = Path(path)
    limit = max(size[0] * size[1], DEFAULT_MAX_PIXELS) if size is not None else DEFAULT_MAX_PIXELS
    image = _open_header(path, limit, what="mask")
    with image:
        problem = mask_size_problem(image.size, size) if size is not None else None
        if problem:
            raise ImageError(f"mask {path} {problem}")
        _decode(image, path, what="mask")
        if image.mode not in SUPPORTED_MODES:
            raise ImageError(f"mask {path}: unsupported colour mode {image.mode}")
        if image.mode in _WIDE_GRAY:
            return _brighter_than_half(np.asarray(image).astype(np.int64), None)
        has_alpha = image.mode in ("RGBA", "LA") or image.info.get("transparency") is not None
        rgba = np.asarray(image.convert("RGBA"), dtype=np.uint8)
        opaque = rgba[..., 3] > 0 if has_alpha else None
        if image.mode == "P":
            mask = rgba[..., :3].any(axis=2)
            return mask & opaque if opaque is not None else mask
    return _brighter_than_half(rgba[..., :3].max(axis=2), opaque)


def _brighter_than_half(values: np.ndarray, opaque: np.ndarray | None) -> np.ndarray:
    """`values` > half of the largest of them (over the opaque pixels only, when `opaque` is given)."""
    seen = values[opaque] if opaque is not None else values
    top = int(seen.max()) if seen.size else 0
    # 2 * v > top, in integers: no rounding question at the half.
    mask = 2 * values.astype(np.int64) > top
    return mask & opaque if opaque is not None else mask


def _nearest_palette_indices(colours: np.ndarray, palette: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """Index of the nearest allowed palette entry for each (m, 3) colour, in chunks to bound memory."""
    candidates = np.flatnonzero(allowed)
    entries = palette[candidates].astype(np.int32)
    out = np.empty(len(colours), dtype=np.uint8)
    for start in range(0, len(colours), 16384):
        chunk = colours[start : start + 16384].astype(np.int32)
        dist = ((chunk[:, None, :] - entries[None, :, :]) ** 2).sum(axis=2)
        out[start : start + 16384] = candidates[dist.argmin(axis=1)]
    return out


def _opaque_palette_entries(loaded: LoadedImage) -> np.ndarray:
    count = len(loaded.palette)
    allowed = np.ones(count, dtype=bool)
    transparency = loaded.transparency
    if isinstance(transparency, int) and 0 <= transparency < count:
        allowed[transparency] = False
    elif isinstance(transparency, bytes | bytearray):
        table = np.frombuffer(bytes(transparency), dtype=np.uint8)[:count]
        allowed[: len(table)] &= table > 0
    if not allowed.any():
        allowed[:] = True
    return allowed


def _with_info(image: Image.Image, loaded: LoadedImage) -> Image.Image:
    if loaded.transparency is not None and image.mode in ("L", "P", "I;16", "I"):
        image.info["transparency"] = loaded.transparency
    return image


def to_source_mode(loaded: LoadedImage, rgb: np.ndarray) -> Image.Image:
    """`rgb` (a result the size of `loaded`) as a PIL image in the source's mode and bit depth."""
    if rgb.shape != loaded.rgb.shape or rgb.dtype != np.uint8:
        raise ImageError(f"{_name(loaded.path)}: result is {rgb.shape} {rgb.dtype}, expected {loaded.rgb.shape} uint8")
    changed = np.any(rgb != loaded.rgb, axis=2)
    mode = loaded.mode
    if mode in ("RGB", "RGBA"):
        out = np.ascontiguousarray(rgb)
        if mode == "RGBA":
            out = np.dstack([out, loaded.alpha])
        return Image.fromarray(out)
    if mode == "P":
        indices = loaded.indices.copy()
        if changed.any():
            indices[changed] = _nearest_palette_indices(rgb[changed], loaded.palette, _opaque_palette_entries(loaded))
        image = Image.frombytes("P", loaded.size, np.ascontiguousarray(indices).tobytes())
        image.putpalette(loaded.palette.reshape(-1).tolist(), "RGB")
        return _with_info(image, loaded)
    if mode in ("1", "L", "LA"):
        gray = loaded.values.copy()
        gray[changed] = _luminance(rgb[changed])
        if mode == "LA":
            return Image.fromarray(np.dstack([gray, loaded.alpha]))
        image = Image.fromarray(gray)
        if mode == "1":
            return image.point(lambda v: 255 if v >= 128 else 0).convert("1", dither=Image.Dither.NONE)
        return _with_info(image, loaded)
    if mode in _WIDE_GRAY:
        values = loaded.values.copy()
        scaled = np.rint(_luminance(rgb[changed]).astype(np.float64) * (loaded.value_max / 255.0))
        values[changed] = scaled.astype(values.dtype)
        return _with_info(Image.fromarray(values), loaded)
    raise ImageError(f"{_name(loaded.path)}: cannot write back colour mode {mode}")
