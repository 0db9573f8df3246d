"""Small file helpers shared by image saving, dataset export and bundles: hashes, synced writes, temp names."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger(__name__)
# Filesystems without hard links (FAT, some network shares) answer with one of these.
_NO_LINKS = {
    errno.EPERM,
    errno.EXDEV,
    errno.EMLINK,
    errno.ENOSYS,
    getattr(errno, "ENOTSUP", -1),
    getattr(errno, "EOPNOTSUPP", -1),
}
# What temp_sibling makes: `.<name>.<8 hex>.tmp`.
TEMP_NAME = re.compile(r"^\..+\.[0-9a-f]{8}\.tmp$")


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


def is_temp_name(name: str) -> bool:
    """Whether `name` is a temp file temp_sibling made (left behind only by a process killed mid-write)."""
    return bool(TEMP_NAME.match(name))


@contextlib.contextmanager
def folder_lock(folder: Path, name: str = ".defectforge.lock") -> Iterator[None]:
    """Hold an exclusive lock on `folder` (a hidden lock file in it) against other processes; blocks until free.
    The OS drops the lock when its holder dies, so a killed writer never leaves the folder locked."""
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / name, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if os.name == "nt":
            import msvcrt

            while True:
                try:
                    msvcrt.locking(fd, msvcrt.LK_LOCK, 1)
                    break
                except OSError:  # LK_LOCK gives up after 10 s: keep waiting, as flock does
                    continue
            try:
                yield
            finally:
                os.lseek(fd, 0, os.SEEK_SET)
                msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


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


def link_new(tmp: Path, final: Path) -> None:
    """Move a written temp file to its final name, never replacing an existing file (FileExistsError)."""
    try:
        os.link(tmp, final)
        return
    except OSError as exc:
        if isinstance(exc, FileExistsError) or exc.errno not in _NO_LINKS:
            raise
    if final.exists():
        raise FileExistsError(errno.EEXIST, "already exists", str(final))
    os.replace(tmp, final)


def end_cut_off_line(path: Path) -> bool:
    """End a text file whose last line lost its newline (a writer killed mid-append), so the next appended line
    is not glued onto it. True if it had to; a missing file is left alone."""
    try:
        with open(path, "rb+") as fh:
            size = fh.seek(0, os.SEEK_END)
            if not size:
                return False
            fh.seek(size - 1)
            if fh.read(1) == b"\n":
                return False
            fh.write(b"\n")
            fh.flush()
            os.fsync(fh.fileno())
            return True
    except FileNotFoundError:
        return False


def append_line_synced(path: Path, text: str) -> None:
    """Append one line durably; on failure the file is cut back to its old length."""
    data = text.encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        start = os.fstat(fd).st_size
        try:
            written = os.write(fd, data)
            if written != len(data):
                raise OSError(errno.ENOSPC, "short write", str(path))
            os.fsync(fd)
        except OSError:
            try:
                os.ftruncate(fd, start)
            except OSError:
                log.error("%s may end with a partial line: could not cut it back", path)
            raise
    finally:
        os.close(fd)
