"""`defectforge eval downstream` on a tiny dataset and bundle: the protocol runs end to end and reports honestly."""

from __future__ import annotations

import json
import os
import sys

import pytest
from PIL import Image

from app.cli import main as defectforge
from tests.training_fixtures import make_neu_dataset
from training.downstream_yolo import MISSING, unavailable

pytestmark = pytest.mark.usefixtures("restore_logging")


def test_downstream_compares_real_only_copy_paste_and_synthetic_per_k_over_seeds(
    tmp_path, test_bundle_path, monkeypatch
):
    monkeypatch.setitem(sys.modules, "ultralytics", None)  # as on a machine without the yolo extra
    data = make_neu_dataset(tmp_path / "data", per_class=5)
    out = tmp_path / "report"
    assert (
        defectforge(
            [
                "eval",
                "downstream",
                str(test_bundle_path),
                "--data",
                str(data),
                "--out",
                str(out),
                "--shots",
                "1",
                "2",
                "--seeds",
                "2",
                "--synthetic-per-real",
                "1",
                "--classifier-steps",
                "2",
                "--val-fraction",
                "0.3",
                "--sampler-steps",
                "4",
            ]
        )
        == 0
    )
    report = json.loads((out / "downstream.json").read_text())
    assert set(report["classifier"]) == {"1", "2"}
    for row in report["classifier"].values():
        assert row["seeds"] == 2
        for arm in ("real_only", "with_copy_paste", "with_synthetic"):
            assert 0 <= row[arm]["mean"] <= 1 and row[arm]["std"] >= 0
        assert {"gain", "gain_vs_copy_paste"} <= set(row)
    runs = report["runs"]
    assert len(runs) == 4 and {(r["seed"], r["k"]) for r in runs} == {(0, 1), (0, 2), (1, 1), (1, 2)}
    # k boxes per class, one synthetic and one copy-paste each
    assert all(r["real_boxes"] == 6 * r["k"] and r["synthetic_boxes"] == r["real_boxes"] for r in runs)
    assert all(r["copy_paste_boxes"] == r["synthetic_boxes"] for r in runs)
    for r in runs:
        assert report["classifier"][str(r["k"])]["gain_vs_copy_paste"]["mean"] == pytest.approx(
            sum(x["with_synthetic"] - x["with_copy_paste"] for x in runs if x["k"] == r["k"]) / 2, abs=1e-5
        )
    assert report["data"]["test_boxes"] > 0 and "caveat" in report["protocol"]
    assert report["yolo"] == {"skipped": MISSING}  # said, with how to install it
    markdown = (out / "downstream.md").read_text()
    assert "| k per class | real only | real + copy-paste | real + synthetic |" in markdown
    assert f"Skipped: {MISSING}." in markdown
    assert Image.open(out / "downstream.png").size[0] > 100


def test_downstream_refuses_nonsense_shots_in_one_line(tmp_path, test_bundle_path, capsys):
    data = make_neu_dataset(tmp_path / "data", per_class=2)
    assert defectforge(["eval", "downstream", str(test_bundle_path), "--data", str(data), "--shots", "0"]) != 0
    assert "--shots must be" in capsys.readouterr().err


class _Payload:
    """Unpickling this creates the file it names: proof that a pickle ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_a_pickle_yolo_model_is_refused_in_one_line_before_ultralytics_opens_it(tmp_path, test_bundle_path, capsys):
    import pickle

    data = make_neu_dataset(tmp_path / "data", per_class=2)
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.pt"
    evil.write_bytes(pickle.dumps(_Payload(marker)))
    argv = ["eval", "downstream", str(test_bundle_path), "--data", str(data), "--out", str(tmp_path / "report")]
    argv += ["--shots", "1", "--seeds", "1", "--synthetic-per-real", "1", "--classifier-steps", "1"]
    argv += ["--sampler-steps", "1", "--yolo-epochs", "1", "--yolo-model", str(evil)]
    assert defectforge(argv) != 0
    err = capsys.readouterr().err.strip()
    assert "pickle" in err and len(err.splitlines()) == 1
    assert not marker.exists()
    assert not (tmp_path / "report" / "downstream.json").exists()


def test_the_yolo_model_may_be_an_architecture_yaml_by_name_or_file(tmp_path):
    from core.config import ConfigError
    from training.downstream_checks import check_yolo_model

    check_yolo_model("yolov8n.yaml")
    arch = tmp_path / "mine.yaml"
    arch.write_text("nc: 6\nbackbone: []\nhead: []\n")
    check_yolo_model(str(arch))
    for bad in ("yolov8n.pt", str(tmp_path / "missing" / "x.yaml"), str(tmp_path / "model")):
        with pytest.raises(ConfigError):
            check_yolo_model(bad)


def test_the_yolo_arm_trains_a_detector_on_each_arms_yolo_folder_and_reports_map50(tmp_path, test_bundle_path):
    if unavailable():  # not importorskip: importing ultralytics here would patch PIL for every later test
        pytest.skip(unavailable())
    data = make_neu_dataset(tmp_path / "data", per_class=3)
    out = tmp_path / "report"
    before = os.environ.get("YOLO_CONFIG_DIR")
    args = ["eval", "downstream", str(test_bundle_path), "--data", str(data), "--out", str(out), "--shots", "1"]
    args += ["--seeds", "1", "--synthetic-per-real", "1", "--classifier-steps", "1", "--val-fraction", "0.3"]
    args += ["--sampler-steps", "2", "--yolo-epochs", "1", "--yolo-imgsz", "64", "--yolo-batch", "4"]
    assert defectforge(args) == 0
    yolo = json.loads((out / "downstream.json").read_text())["yolo"]
    assert "skipped" not in yolo and yolo["epochs"] == 1 and yolo["from_scratch"]
    (run,) = yolo["runs"]
    # one image per class for k=1 (the fixture's images hold one class each), one variant of each
    assert run["real_images"] == 6 and run["synthetic_images"] == 6 and run["copy_paste_images"] == 6
    assert all(0 <= run[arm] <= 1 for arm in ("real_only", "with_copy_paste", "with_synthetic"))
    assert yolo["map50"]["1"]["gain"]["mean"] == pytest.approx(run["with_synthetic"] - run["real_only"])
    assert "| 1 | " in (out / "downstream.md").read_text().split("## YOLO detector")[1]
    # Ultralytics' settings, caches and weights lived in a temporary folder inside the report folder
    assert sorted(p.name for p in out.iterdir()) == ["downstream.json", "downstream.md", "downstream.png"]
    assert os.environ.get("YOLO_CONFIG_DIR") == before
    # Ultralytics ran in a child process: its process-wide patches of PIL and torch never reached ours
    assert "ultralytics" not in sys.modules and Image.open.__module__ == "PIL.Image"


def test_the_real_only_detector_trains_for_as_many_steps_as_the_one_with_synthetic_images():
    import numpy as np

    from core.request import Box
    from training.downstream_yolo import LabelledImage, same_length

    real = [
        LabelledImage(f"img{i}", np.full((8, 8, 3), i, np.uint8), (Box("scratches", 0, 0, 4, 4),)) for i in range(3)
    ]
    padded = same_length(real, 8)  # 3 real + 5 synthetic in the other arm
    assert len(padded) == 8 and len({item.name for item in padded}) == 8  # each copy its own file
    assert [int(item.image[0, 0, 0]) for item in padded] == [0, 1, 2, 0, 1, 2, 0, 1]
    assert all(item.boxes == real[0].boxes for item in padded)


def test_an_image_drawn_for_two_classes_is_one_detector_image_with_both_classes_variants():
    from pathlib import Path

    import numpy as np

    from core.request import Box
    from training.datasets import PreparedImage
    from training.downstream import Shot, detector_images

    boxes = (Box("scratches", 0, 0, 4, 4), Box("patches", 4, 4, 8, 8))

    def shot(label: int, box: tuple[int, int, int, int]) -> Shot:
        # the reader prepares the image once per draw: two objects, one file
        prepared = PreparedImage(np.zeros((8, 8, 3), np.uint8), np.zeros((8, 8), bool), None, boxes)
        made = Shot(Path("plate.png"), prepared, box, label, np.zeros((64, 64, 3), np.uint8))
        made.variants = np.zeros((2, 8, 8, 3), np.uint8)
        return made

    real, synthetic, pasted = detector_images([shot(5, (0, 0, 4, 4)), shot(2, (4, 4, 8, 8))], [], seed=0)
    assert len(real) == 1 and real[0].boxes == boxes
    assert len(synthetic) == 4 and len({item.name for item in synthetic}) == 4


def test_copy_paste_blends_a_real_defect_into_another_image_inside_its_label():
    """The model-free baseline: the pasted defect shows (Poisson keeps its gradients), every changed pixel is
    inside the pasted crop, a target box the paste covers is dropped and the pasted box is labelled."""
    import numpy as np

    from core.request import Box
    from training.copy_paste import MARGIN, paste_defect

    rng = np.random.default_rng(0)
    target = (120 + rng.integers(0, 10, (100, 100, 3))).astype(np.uint8)
    source = np.full((100, 100, 3), 120, np.uint8)
    source[40:60, 30:70] = 20  # a dark bar: the defect
    whole = Box("patches", 0, 0, 100, 100)  # the paste covers little of it: kept
    image, boxes, (x0, y0, x1, y1) = paste_defect(target, (whole,), source, (30, 40, 70, 60), "scratches", rng)
    assert (x1 - x0, y1 - y0) == (40, 20) and boxes == (whole, Box("scratches", x0, y0, x1, y1))
    assert image[y0:y1, x0:x1].mean() < target[y0:y1, x0:x1].mean() - 30  # the defect is there, dark
    ys, xs = np.nonzero((image != target).any(axis=2))
    assert xs.min() >= x0 - MARGIN and xs.max() < x1 + MARGIN and ys.min() >= y0 - MARGIN and ys.max() < y1 + MARGIN
    # a target exactly the crop's size: the paste lands on its one box, which no longer shows, so it is dropped
    small = target[: 20 + 2 * MARGIN, : 40 + 2 * MARGIN]
    _, boxes, pasted = paste_defect(small, (Box("inclusion", 10, 10, 20, 20),), source, (30, 40, 70, 60), "s", rng)
    assert boxes == (Box("s", *pasted),) and pasted == (MARGIN, MARGIN, 40 + MARGIN, 20 + MARGIN)


def test_a_k_larger_than_the_real_boxes_is_said_to_be_capped(tmp_path, test_bundle_path, caplog):
    data = make_neu_dataset(tmp_path / "data", per_class=3)
    out = tmp_path / "report"
    argv = ["eval", "downstream", str(test_bundle_path), "--data", str(data), "--out", str(out), "--shots", "1"]
    argv += ["100000", "--seeds", "1", "--synthetic-per-real", "1", "--classifier-steps", "1", "--sampler-steps", "1"]
    assert defectforge([*argv, "--yolo-epochs", "0"]) == 0
    runs = {r["k"]: r for r in json.loads((out / "downstream.json").read_text())["runs"]}
    assert runs[1]["capped"] == {}
    capped = runs[100000]["capped"]
    assert capped and all(0 < count < 100000 for count in capped.values())
    assert runs[100000]["real_boxes"] == sum(capped.values())
    assert "the draw was capped" in caplog.text


def _disk_fills_mid_write(written: list[bytes]):
    def write(path, data):
        with open(path, "xb") as fh:
            fh.write(data[: len(data) // 2])
        written.append(data)
        raise OSError(28, "No space left on device", str(path))

    return write


def test_a_plot_that_fails_mid_write_leaves_no_half_file(tmp_path, monkeypatch):
    from matplotlib.figure import Figure

    from training.downstream import plot_report

    def half_then_fail(self, target, **kwargs):
        with open(target, "wb") as fh:
            fh.write(b"\x89PNG half")
        raise OSError(28, "No space left on device", str(target))

    monkeypatch.setattr(Figure, "savefig", half_then_fail)
    arms = {arm: {"mean": 0.5, "std": 0.1} for arm in ("real_only", "with_copy_paste", "with_synthetic")}
    report = {"classifier": {"1": arms, "2": arms}, "yolo": {}, "bundle": {"name": "tiny"}}
    with pytest.raises(OSError, match="No space"):
        plot_report(tmp_path / "downstream.png", report)
    assert list(tmp_path.iterdir()) == []


def test_the_yolo_child_writes_its_result_whole_or_not_at_all(tmp_path, monkeypatch):
    import types

    import core.fsutil
    from training import yolo_job

    class FakeYolo:  # ultralytics' YOLO, as far as the child uses it
        def __init__(self, model):
            pass

        def train(self, **kwargs):
            return types.SimpleNamespace(box=types.SimpleNamespace(map50=0.25))

    monkeypatch.setitem(sys.modules, "ultralytics", types.SimpleNamespace(YOLO=FakeYolo))
    result = tmp_path / "result.json"
    job = {"model": "yolo.yaml", "threads": 0, "result": str(result)}
    job.update({key: None for key in ("data", "epochs", "imgsz", "batch", "device", "seed", "project")})
    written: list[bytes] = []
    monkeypatch.setattr(core.fsutil, "write_synced", _disk_fills_mid_write(written))
    with pytest.raises(OSError, match="No space"):
        yolo_job.main([json.dumps(job)])
    assert written and list(tmp_path.iterdir()) == []  # the disk filled mid-write: no half result.json
    monkeypatch.undo()
    monkeypatch.setitem(sys.modules, "ultralytics", types.SimpleNamespace(YOLO=FakeYolo))
    assert yolo_job.main([json.dumps(job)]) == 0
    assert json.loads(result.read_text()) == {"map50": 0.25}
    assert [p.name for p in tmp_path.iterdir()] == ["result.json"]
