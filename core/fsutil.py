"""Small file helpers shared by image saving, dataset export and bundles: hashes, synced writes, temp names."""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from pathlib import Path


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes, read in 1 MiB chunks (weights and images can be large)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


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
