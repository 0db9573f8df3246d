"""Small file helpers shared by image saving, dataset export, bundles, checkpoints and settings: hashes, temp
names, the one atomic file writer (`write_atomic`) and the one staged-folder helper (`staged_folder`)."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import os
import re
import secrets
import shutil
from collections.abc import Callable, Iterator
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


class LinkOutError(OSError):
    """A path inside a chosen folder leads out of it through a symbolic link (or `..`): never followed."""

    def __str__(self) -> str:
        return self.strerror or super().__str__()


def inside(root: Path, path: Path) -> bool:
    """Whether `path` resolves to a place inside `root` (links followed), so a write there stays in `root`."""
    try:
        Path(path).resolve().relative_to(Path(root).resolve())
    except ValueError:
        return False
    return True


def require_inside(root: Path, path: Path) -> Path:
    """`path` itself if it stays inside `root` once every link on the way is followed (a dangling link included),
    else LinkOutError with one line naming it: every writer into a dataset folder asks this before it writes, so
    an `images/` or `annotations/` linked elsewhere is never written through."""
    path = Path(path)
    if not inside(root, path):
        raise LinkOutError(
            errno.EXDEV,
            f"{path} leads out of {root} through a symbolic link, which DefectForge never follows",
        )
    return path


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
    lock = require_inside(folder, folder / name)
    try:  # O_NOFOLLOW: a link planted as the lock file is never followed to create its target elsewhere
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
    except OSError as exc:
        if exc.errno != errno.ELOOP:
            raise
        raise LinkOutError(errno.ELOOP, f"{lock} is a symbolic link, which DefectForge never follows") from None
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


def write_atomic(path: Path, data: bytes | str | Callable[[Path], None]) -> None:
    """Replace `path` so that readers see the old file or the new one, never half of one.

    `data` is bytes, text (written as UTF-8) or a function that writes the file it is given (an image's or a
    safetensors file's own writer). It goes to a temp sibling (`temp_sibling`), is flushed to disk, renamed over
    `path`, and the rename is made durable. On any failure the temp file is removed, `path` is left as it was,
    and the error (OSError for a full disk or a locked folder) is raised.
    """
    path = Path(path)
    tmp = temp_sibling(path)
    try:
        if callable(data):
            data(tmp)
            _fsync_file(tmp)
        else:
            write_synced(tmp, data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(tmp, path)
    except BaseException:
        remove_quietly(tmp)
        raise
    fsync_dir(path.parent)


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


@contextlib.contextmanager
def staged_folder(final: Path, replace: bool = False) -> Iterator[Path]:
    """Build a folder under a hidden temp name beside `final` (the block fills the path it is given), then move
    it to `final` in one rename when the block ends: an interrupted build never leaves a half-written folder
    under the name asked for, and its temp folder is removed.

    Every file is flushed to disk before the rename. An existing `final` is a FileExistsError unless `replace`:
    then it is moved aside, the new folder renamed in, and the old one deleted (a crash in between leaves the
    old folder under a temp name, never a mix). Temp names are `temp_sibling`'s, so `stale_temps` finds those a
    killed process left behind.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_sibling(final)
    tmp.mkdir()
    try:
        yield tmp
        for file in sorted(tmp.rglob("*")):
            if file.is_file():
                _fsync_file(file)
        if final.exists() or final.is_symlink():
            if not replace:
                raise FileExistsError(errno.EEXIST, "already exists", str(final))
            old = temp_sibling(final)
            os.replace(final, old)
            os.replace(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    fsync_dir(final.parent)


def stale_temps(final: Path) -> list[Path]:
    """Temp files and folders `write_atomic` or `staged_folder` left beside `final` when their process was killed:
    hidden `.<name>.<anything>.tmp` (temp_sibling's names, and the mkdtemp names earlier versions used)."""
    final = Path(final)
    if not final.parent.is_dir():
        return []
    prefix = f".{final.name}."
    return sorted(p for p in final.parent.iterdir() if p.name.startswith(prefix) and p.name.endswith(".tmp"))


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
