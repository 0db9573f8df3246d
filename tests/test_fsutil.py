"""Files and folders are replaced whole or not at all: the one atomic writer and the one staged-folder helper."""

from __future__ import annotations

import errno

import numpy as np
import pytest
from PIL import Image

from core.fsutil import is_temp_name, staged_folder, stale_temps, write_atomic


def _names(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_write_atomic_replaces_bytes_text_and_writer_output_and_leaves_no_temp_files(tmp_path):
    write_atomic(tmp_path / "a.bin", b"old")
    write_atomic(tmp_path / "a.bin", b"new")
    write_atomic(tmp_path / "b.txt", "größe")
    image = np.arange(48 * 64, dtype=np.uint32).reshape(48, 64).astype(np.uint8)
    write_atomic(tmp_path / "c.png", lambda tmp: Image.fromarray(image).save(tmp, format="PNG"))
    assert (tmp_path / "a.bin").read_bytes() == b"new"
    assert (tmp_path / "b.txt").read_text(encoding="utf-8") == "größe"
    assert np.array_equal(np.asarray(Image.open(tmp_path / "c.png")), image)
    assert _names(tmp_path) == ["a.bin", "b.txt", "c.png"]


def test_write_atomic_on_a_full_disk_keeps_the_old_file(tmp_path, monkeypatch):
    write_atomic(tmp_path / "x.json", "{}")

    def full_disk(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("core.fsutil.os.fsync", full_disk)
    with pytest.raises(OSError, match="No space left"):
        write_atomic(tmp_path / "x.json", '{"new": 1}')
    with pytest.raises(OSError, match="No space left"):
        write_atomic(tmp_path / "x.json", lambda tmp: tmp.write_text("half"))
    assert (tmp_path / "x.json").read_text() == "{}"
    assert _names(tmp_path) == ["x.json"]


def test_write_atomic_whose_writer_fails_leaves_nothing(tmp_path):
    with pytest.raises(OSError):  # JPEG cannot hold RGBA: PIL fails after opening the file
        write_atomic(tmp_path / "x.jpg", lambda tmp: Image.new("RGBA", (4, 4)).save(tmp, format="JPEG"))
    assert _names(tmp_path) == []


def test_write_atomic_into_a_missing_folder_is_an_error_not_a_new_folder(tmp_path):
    with pytest.raises(FileNotFoundError):
        write_atomic(tmp_path / "nope" / "x.txt", "text")
    assert _names(tmp_path) == []


def test_staged_folder_appears_whole_at_the_end(tmp_path):
    final = tmp_path / "cache"
    with staged_folder(final) as stage:
        (stage / "sub").mkdir()
        (stage / "sub" / "a.txt").write_text("a")
        assert not final.exists()  # nothing under the name asked for while it is being built
        assert [p.name for p in stale_temps(final)] == [stage.name] and is_temp_name(stage.name)
    assert (final / "sub" / "a.txt").read_text() == "a"
    assert _names(tmp_path) == ["cache"]


def test_staged_folder_interrupted_leaves_nothing_and_keeps_the_old_folder(tmp_path):
    final = tmp_path / "bundle"
    final.mkdir()
    (final / "old.txt").write_text("old")
    with pytest.raises(KeyboardInterrupt), staged_folder(final, replace=True) as stage:
        (stage / "new.txt").write_text("new")
        raise KeyboardInterrupt
    assert _names(tmp_path) == ["bundle"] and _names(final) == ["old.txt"]


def test_staged_folder_replaces_only_when_asked(tmp_path):
    final = tmp_path / "out"
    final.mkdir()
    (final / "old.txt").write_text("old")
    with pytest.raises(FileExistsError), staged_folder(final) as stage:
        (stage / "new.txt").write_text("new")
    assert _names(final) == ["old.txt"] and _names(tmp_path) == ["out"]
    with staged_folder(final, replace=True) as stage:
        (stage / "new.txt").write_text("new")
    assert _names(final) == ["new.txt"] and _names(tmp_path) == ["out"]


def test_stale_temps_finds_what_a_killed_writer_left_beside_its_target_only(tmp_path):
    (tmp_path / ".out.0123abcd.tmp").mkdir()
    (tmp_path / ".out.deadbeef.tmp").write_text("half")
    (tmp_path / ".out.k2_x9qzr.tmp").mkdir()  # an earlier version's mkdtemp name
    for other in (".other.0123abcd.tmp", ".out.keep", "out.0123abcd.tmp"):
        (tmp_path / other).mkdir()
    (tmp_path / "out").mkdir()
    found = [p.name for p in stale_temps(tmp_path / "out")]
    assert found == [".out.0123abcd.tmp", ".out.deadbeef.tmp", ".out.k2_x9qzr.tmp"]
