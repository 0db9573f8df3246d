"""Small durable-file helpers shared by image saving and dataset export: synced writes, temp names, cleanup."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path


def temp_sibling(path: Path) -> Path:
    """A hidden, unique temp name in the same folder, so the final rename never crosses filesystems."""
    return path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")


def write_synced(path: Path, data: bytes) -> None:
    """Create `path` (must not exist) with `data`, flushed to disk before returning."""
    with open(path, "xb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def fsync_dir(folder: Path) -> None:
    """Make a rename in `folder` durable; a no-op where directories cannot be opened (Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def remove_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def describe_os_error(exc: OSError) -> str:
    """'permission denied', 'no space left on device'... without Python's errno prefix."""
    return exc.strerror.lower() if exc.strerror else str(exc)
