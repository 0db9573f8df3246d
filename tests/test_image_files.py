"""Listing a folder's images has one rule (core.image_files.list_images), and every front end lists by it."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest
from PIL import Image

from core.image_files import list_images

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ("a.png", "B.PNG", "c.Jpg", "d.tif")  # what any front end must list, whatever the case of the suffix


def _tricky_folder(folder: Path) -> Path:
    """Images beside what must never be taken for one: hidden files and folders, a non-image, a folder named
    like an image, an image one folder down."""
    for name in (*IMAGES, ".hidden.png", "._a.png", "sub/e.png", ".thumbnails/f.png"):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        Image.new("L", (8, 8), 128).save(folder / name, format="PNG")
    (folder / "notes.txt").write_text("not an image")
    (folder / "photo.png.bak").write_bytes(b"not an image either")
    (folder / "folder.png").mkdir()
    return folder


@pytest.mark.parametrize(
    ("recursive", "expected"),
    [(False, ["B.PNG", "a.png", "c.Jpg", "d.tif"]), (True, ["B.PNG", "a.png", "c.Jpg", "d.tif", "sub/e.png"])],
)
def test_a_folders_images_skip_hidden_files_and_folders_and_ignore_the_suffixs_case(tmp_path, recursive, expected):
    folder = _tricky_folder(tmp_path / "shots")
    assert [p.relative_to(folder).as_posix() for p in list_images(folder, recursive=recursive)] == expected
    assert list_images(tmp_path / "missing", recursive=recursive) == []


def _app_folder(folder: Path) -> list[Path]:
    from app.session import image_files

    return image_files(folder)


def _synth_images(folder: Path) -> list[Path]:
    from app.synth import synth_images

    return synth_images(argparse.Namespace(image=None, images=folder))


def _bundled_samples(folder: Path, monkeypatch) -> list[Path]:
    import core.resources

    monkeypatch.setattr(core.resources, "resource_path", lambda *parts: folder)
    return core.resources.sample_image_paths()


def _dataset_reader(folder: Path) -> list[Path]:
    """Every image NEU-CLS's reader looked at: ours are not named by class code, so each is a problem."""
    from core.data import read_dataset

    dataset = read_dataset(folder, kind="neu-cls")
    return [s.image for s in dataset.samples] + [p.path for p in dataset.problems]


@pytest.mark.parametrize("caller", ["app folder", "synth --images", "bundled samples", "dataset reader"])
def test_every_front_end_lists_the_same_images(tmp_path, monkeypatch, caller):
    folder = _tricky_folder(tmp_path / "shots")
    listed = {
        "app folder": lambda: _app_folder(folder),
        "synth --images": lambda: _synth_images(folder),
        "bundled samples": lambda: _bundled_samples(folder, monkeypatch),
        "dataset reader": lambda: _dataset_reader(folder),
    }[caller]()
    assert sorted(p.name for p in listed) == sorted(IMAGES)


def test_no_module_filters_image_suffixes_by_hand():
    """Outside core.choices and core.image_files, a file is judged an image only through them."""
    by_hand = re.compile(r"\.suffix(\.lower\(\))?\s+(not\s+)?in\s+IMAGE_SUFFIXES|endswith\(IMAGE_SUFFIXES")
    found = [
        str(path.relative_to(ROOT))
        for folder in ("app", "core", "training")
        for path in (ROOT / folder).rglob("*.py")
        if path.name not in ("choices.py", "image_files.py") and by_hand.search(path.read_text(encoding="utf-8"))
    ]
    assert found == []
