"""`defectforge data procedural` and `defectforge data inspect`, as a user runs them."""

from __future__ import annotations

import json

from PIL import Image

from app.cli import main as defectforge
from tests import dataset_layouts as layouts
from training.data_cli import main


def test_procedural_writes_a_dataset_and_shows_progress(tmp_path, capsys):
    assert main(["procedural", "--out", str(tmp_path / "proc"), "--per-class", "1", "--size", "48"]) == 0
    assert len(list((tmp_path / "proc" / "IMAGES").glob("*.jpg"))) == 6
    err = capsys.readouterr().err
    assert "6/6" in err and "wrote 6 images" in err


def test_procedural_preview_writes_the_contact_sheet(tmp_path):
    assert defectforge(["data", "procedural", "--preview", str(tmp_path / "sheet.png"), "--size", "48"]) == 0
    width, height = Image.open(tmp_path / "sheet.png").size
    assert height >= 6 * 48 and width >= 8 * 48


def test_procedural_refuses_a_folder_in_use(tmp_path, capsys):
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "x").write_text("x")
    assert main(["procedural", "--out", str(tmp_path / "used"), "--per-class", "1", "--size", "48"]) == 1
    assert "exists" in capsys.readouterr().err


def test_inspect_prints_counts_sizes_and_every_problem(tmp_path, capsys):
    root = layouts.neu_det_flat(tmp_path / "NEU-DET")
    assert main(["inspect", str(root)]) == 0  # problems are reported, not fatal
    out = capsys.readouterr().out
    assert "(neu-det)" in out
    assert "crazing" in out and "200x200 (5)" in out
    assert "problems: 6" in out
    for name in ("inclusion_1.xml", "patches_9.xml", "pitted_surface_1.jpg", "rolled-in_scale_1.jpg"):
        assert name in out


def test_inspect_json_with_a_class_map(tmp_path, capsys):
    (tmp_path / "map.yaml").write_text("Sc: scratches\nPa: patches\nIn: inclusion\n")
    root = layouts.sd_saliency(tmp_path / "sd")
    assert main(["inspect", str(root), "--class-map", str(tmp_path / "map.yaml"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["kind"] == "sd-saliency"
    assert report["classes"] == {
        "inclusion": {"images": 1, "boxes": 0},
        "patches": {"images": 1, "boxes": 0},
        "scratches": {"images": 1, "boxes": 0},
    }
    assert report["with_mask"] == 2 and report["image_sizes"] == {"200x200": 3}
    assert report["problems"] == [
        {"path": str(root / "Source Images" / "Pa_3.bmp"), "message": "no mask in Ground truth/"}
    ]


def test_inspect_merges_several_folders(tmp_path, capsys):
    first, second = layouts.neu_cls(tmp_path / "cls"), layouts.class_folders(tmp_path / "mine")
    assert main(["inspect", str(first), str(second), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["kind"] == "merged" and report["samples"] == 9
    assert report["classes"]["scratches"]["images"] == 3


def test_inspect_fails_with_one_line_only_when_the_folder_cannot_be_read(tmp_path, capsys):
    assert main(["inspect", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "does not exist" in err and "\n" not in err
