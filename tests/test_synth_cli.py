"""`defectforge synth` end to end, as a user runs it: files in, a labeled dataset out, resumable, clear failures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from app.synth import main

ROOT = Path(__file__).resolve().parent.parent


def _surface(path: Path, size=(200, 200), seed=0) -> Path:
    rng = np.random.default_rng(seed)
    gray = np.clip(rng.normal(128, 20, (size[1], 1)) + rng.normal(0, 8, (size[1], size[0])), 0, 255)
    Image.fromarray(gray.astype(np.uint8)).save(path)
    return path


def _mask(path: Path, box=(60, 70, 120, 100), size=(200, 200)) -> Path:
    mask = np.zeros((size[1], size[0]), np.uint8)
    mask[box[1] : box[3], box[0] : box[2]] = 255
    Image.fromarray(mask).save(path)
    return path


def _manifest(out: Path) -> list[dict]:
    path = out / "manifest.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.fixture()
def model_args(test_bundle_path):
    return ["--model", str(test_bundle_path), "--steps", "8"]


def test_one_image_with_a_mask_exports_every_variant(tmp_path, model_args, capsys):
    image, mask = _surface(tmp_path / "plate.png"), _mask(tmp_path / "plate_mask.png")
    out = tmp_path / "out"
    code = main(
        [
            "--image",
            str(image),
            "--mask",
            str(mask),
            "--class",
            "scratches",
            "-n",
            "2",
            "--seed",
            "3",
            "--out",
            str(out),
            *model_args,
        ]
    )
    assert code == 0
    records = _manifest(out)
    assert [r["seed"] for r in records] == [3, 4]
    assert all(r["class"] == "scratches" and r["image_mode"] == "L" for r in records)
    assert sorted(p.name for p in (out / "images" / "scratches").iterdir()) == [
        "plate_scratches_s3.png",
        "plate_scratches_s4.png",
    ]
    written = Image.open(out / "images" / "scratches" / "plate_scratches_s3.png")
    assert written.mode == "L" and written.size == (200, 200)  # the source's mode and size
    assert "exported 2 sample(s)" in capsys.readouterr().out


def test_rerunning_the_same_command_resumes(tmp_path, model_args, capsys):
    image, mask = _surface(tmp_path / "plate.png"), _mask(tmp_path / "m.png")
    out = tmp_path / "out"
    argv = [
        "--image",
        str(image),
        "--mask",
        str(mask),
        "--class",
        "patches",
        "--class",
        "crazing",
        "--seed",
        "9",
        "--out",
        str(out),
        *model_args,
    ]
    assert main(argv) == 0
    first = _manifest(out)
    assert sorted(r["class"] for r in first) == ["crazing", "patches"]
    capsys.readouterr()
    assert main(argv) == 0
    assert _manifest(out) == first
    assert "exported 0 sample(s)" in capsys.readouterr().out


def test_batch_with_auto_masks_rotates_classes_and_resumes_with_the_printed_seed(tmp_path, model_args, capsys):
    folder = tmp_path / "clean"
    folder.mkdir()
    for index in range(3):
        _surface(folder / f"plate{index}.png", seed=index)
    out = tmp_path / "out"
    argv = [
        "--images",
        str(folder),
        "--auto-mask",
        "--class",
        "pitted_surface",
        "--class",
        "inclusion",
        "--out",
        str(out),
        *model_args,
    ]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "seed " in err and "random" in err
    records = _manifest(out)
    assert [r["class"] for r in records] == ["pitted_surface", "inclusion", "pitted_surface"]
    assert len({r["mask_sha256"] for r in records}) == 3
    assert main(argv) == 0
    assert "resuming with seed" in capsys.readouterr().err
    assert len(_manifest(out)) == 3


def test_batch_with_masks_matched_by_stem_reports_the_missing_one(tmp_path, model_args, capsys):
    images, masks = tmp_path / "images", tmp_path / "masks"
    images.mkdir()
    masks.mkdir()
    for name in ("a", "b", "c"):
        _surface(images / f"{name}.bmp")
    _mask(masks / "a.png")
    _mask(masks / "c.png", box=(10, 10, 40, 40))
    out = tmp_path / "out"
    code = main(
        [
            "--images",
            str(images),
            "--masks",
            str(masks),
            "--class",
            "scratches",
            "--seed",
            "1",
            "--out",
            str(out),
            *model_args,
        ]
    )
    assert code == 1
    captured = capsys.readouterr()
    assert "no mask for b.bmp" in captured.err
    assert "1 image(s) failed" in captured.out
    assert sorted(Path(r["source_path"]).name for r in _manifest(out)) == ["a.bmp", "c.bmp"]


def _fails(argv: list[str], capsys, code: int = 1) -> str:
    assert main(argv) == code
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err
    return err


def test_user_errors_are_one_line_and_a_nonzero_exit(tmp_path, model_args, capsys):
    image, mask = _surface(tmp_path / "plate.png"), _mask(tmp_path / "m.png")
    out = str(tmp_path / "out")
    base = ["--image", str(image), "--out", out, *model_args]

    err = _fails([*base, "--mask", str(mask), "--class", "rust"], capsys)
    assert err.count("\n") == 0 and "unknown class 'rust'" in err and "scratches" in err

    _mask(tmp_path / "small.png", size=(100, 100))
    err = _fails([*base, "--mask", str(tmp_path / "small.png"), "--class", "patches"], capsys)
    assert "is 100x100 but the image is 200x200" in err

    Image.fromarray(np.zeros((200, 200), np.uint8)).save(tmp_path / "empty.png")
    assert "empty" in _fails([*base, "--mask", str(tmp_path / "empty.png"), "--class", "patches"], capsys)

    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    err = _fails(
        ["--image", str(tmp_path / "broken.png"), "--mask", str(mask), "--class", "patches", "--out", out, *model_args],
        capsys,
    )
    assert "broken.png" in err

    assert "no such file" in _fails([*base, "--mask", str(tmp_path / "nope.png"), "--class", "patches"], capsys)
    assert "--temperature" in _fails([*base, "--auto-mask", "--class", "patches", "--temperature", "hot"], capsys)
    _fails(["--image", str(image), "--auto-mask", "--class", "patches"], capsys, code=2)  # no --out: usage
    assert not (tmp_path / "out" / "manifest.jsonl").exists()


def test_missing_default_model_says_so(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("core.resources.default_model_path", lambda: tmp_path / "models" / "default")
    image = _surface(tmp_path / "plate.png")
    err = _fails(["--image", str(image), "--auto-mask", "--class", "patches", "--out", str(tmp_path / "o")], capsys)
    assert "no default model bundle" in err and "--model" in err


def test_synth_never_imports_qt():
    code = (
        "import sys, app.synth; bad = [m for m in sys.modules if m.startswith('PySide6')]; "
        "assert not bad, bad; assert app.synth.main(['--help']) == 0"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "--auto-mask" in result.stdout


def test_synth_writes_coco_yolo_polygons_data_yaml_and_a_split_then_dataset_build_redoes_them(
    tmp_path, model_args, capsys
):
    import yaml

    from app.dataset_cli import main as dataset_main

    image, mask = _surface(tmp_path / "plate.png"), _mask(tmp_path / "m.png")
    out = tmp_path / "out"
    code = main(
        [
            "--image",
            str(image),
            "--mask",
            str(mask),
            "--class",
            "scratches",
            "-n",
            "4",
            "--seed",
            "3",
            "--out",
            str(out),
            "--formats",
            "voc,yolo,yolo-seg,coco",
            "--val-fraction",
            "0.5",
            "--split-seed",
            "2",
            *model_args,
        ]
    )
    assert code == 0
    ids = sorted(r["id"] for r in _manifest(out))
    listed = {
        side: [Path(line).stem for line in (out / f"{side}.txt").read_text().splitlines()] for side in ("train", "val")
    }
    assert sorted(listed["train"] + listed["val"]) == ids
    coco = json.loads((out / "annotations" / "instances.json").read_text())
    names = {c["id"]: c["name"] for c in coco["categories"]}
    assert len(coco["images"]) == 4 and {names[a["category_id"]] for a in coco["annotations"]} == {"scratches"}
    assert all((out / "labels" / "scratches" / f"{i}.txt").is_file() for i in ids)
    assert yaml.safe_load((out / "data.yaml").read_text())["val"] == "val.txt"

    assert dataset_main(["build", str(out), "--formats", "yolo-seg,coco"]) == 0
    assert "built" in capsys.readouterr().out and not (out / "val.txt").exists()
    assert yaml.safe_load((out / "data.yaml").read_text())["val"] == "train.txt"
    assert (
        main(
            [
                "--image",
                str(image),
                "--mask",
                str(mask),
                "--class",
                "scratches",
                "--out",
                str(out),
                "--formats",
                "voc,yolov8",
                *model_args,
            ]
        )
        == 2
    )
    assert "unknown export format 'yolov8'" in capsys.readouterr().err


def test_best_of_exports_the_best_candidates_and_records_every_score(tmp_path, test_bundle_path, capsys):
    import shutil

    from core.bundle import CLASSIFIER_FILE, add_part, read_bundle_info
    from core.scoring import SmallCNN, save_critic

    image, mask = _surface(tmp_path / "plate.png"), _mask(tmp_path / "m.png")
    argv = [
        "--image",
        str(image),
        "--mask",
        str(mask),
        "--class",
        "patches",
        "--best-of",
        "4",
        "-n",
        "2",
        "--seed",
        "10",
        "--steps",
        "8",
    ]
    # without a classifier in the bundle: ranked by spill and seam, said once
    plain = tmp_path / "plain"
    assert main([*argv, "--model", str(test_bundle_path), "--out", str(plain)]) == 0
    captured = capsys.readouterr()
    assert captured.err.count("ranks candidates by spill and seam only") == 1
    assert "2 lower-scored candidate(s) discarded" in captured.out
    # with one: every candidate's class fidelity and realism are recorded
    bundle = tmp_path / "bundle"
    shutil.copytree(test_bundle_path, bundle)
    classes = read_bundle_info(bundle).class_names
    rng = np.random.default_rng(0)
    add_part(
        bundle,
        CLASSIFIER_FILE,
        lambda tmp: save_critic(
            tmp, SmallCNN(len(classes), width=8), classes, {}, {"patches": rng.normal(0, 1, (8, 32)).astype(np.float32)}
        ),
    )
    out = tmp_path / "out"
    assert main([*argv, "--model", str(bundle), "--out", str(out)]) == 0
    assert "spill and seam only" not in capsys.readouterr().err
    records = _manifest(out)
    assert len(records) == 2
    best_of = [r["extra"]["best_of"] for r in records]
    assert [b["rank"] for b in best_of] == [1, 2] and all(b["k"] == 4 and b["discarded"] == 2 for b in best_of)
    candidates = best_of[0]["candidates"]
    assert [c["seed"] for c in candidates] == [10, 11, 12, 13]
    assert all(c["class_fidelity"] is not None and c["realism"] is not None for c in candidates)
    exported = {c["seed"]: c["score"] for c in candidates if c["exported"]}
    assert set(exported) == {r["seed"] for r in records}  # the two best...
    assert exported[records[0]["seed"]] >= exported[records[1]["seed"]]  # ...best first (recorded scores are rounded)
    assert min(exported.values()) >= max(c["score"] for c in candidates if not c["exported"])
    # the same command again resumes: nothing new
    assert main([*argv, "--model", str(bundle), "--out", str(out)]) == 0
    assert len(_manifest(out)) == 2
    # K below -n is refused
    assert main([*argv[:6], "--best-of", "1", "-n", "2", "--model", str(bundle), "--out", str(out)]) == 1
    assert "--best-of must be from -n (2)" in capsys.readouterr().err


def test_a_mask_of_tiny_dots_gets_a_one_line_warning_before_the_run(tmp_path, model_args, capsys):
    image = _surface(tmp_path / "plate.png")
    dots = np.zeros((200, 200), np.uint8)
    dots[5:195:12, 5:195:12] = 255  # 16 x 16 one-pixel dots
    Image.fromarray(dots).save(tmp_path / "dots.png")
    plain = _mask(tmp_path / "plain.png")
    base = ["--image", str(image), "--class", "patches", "--seed", "1", *model_args]
    assert main([*base, "--mask", str(tmp_path / "dots.png"), "--out", str(tmp_path / "a")]) == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert len(warnings) == 1 and "plate.png: the mask is mostly specks: 256 of its 256 regions" in warnings[0]
    assert " windows (" in warnings[0]
    assert main([*base, "--mask", str(plain), "--out", str(tmp_path / "b")]) == 0
    assert "specks" not in capsys.readouterr().err
