"""The model card: what a bundle was trained on, how it measures per class, its training curves, read from the
bundle folder; anything missing reads as not recorded."""

from __future__ import annotations

import json

from core.bundle import read_bundle_info
from core.model_card import read_model_card
from tests.conftest import TEST_CLASSES, build_test_bundle


def _report(bundle, per_class: dict[str, float]) -> None:
    (bundle / "eval").mkdir()
    (bundle / "eval" / "report.json").write_text(
        json.dumps(
            {
                "bundle": {"trained_steps": 1500},
                "vq": {"ssim": 0.65},
                "class_fidelity": {"overall": 0.5, "per_class": per_class},
                "seam": {"ratio": "not a number"},
            }
        )
    )


def test_the_card_reads_figures_per_class_curves_and_warns_about_weak_classes(tmp_path):
    bundle = build_test_bundle(tmp_path / "b")
    _report(bundle, {TEST_CLASSES[0]: 0.0, TEST_CLASSES[1]: 1.0})
    (bundle / "train_log").mkdir()
    (bundle / "train_log" / "maskgit.csv").write_text(
        "step,loss,accuracy,val_ce,lr,seconds\n10,6.0,0.1,,0.001,1\n20,5.0,0.2,5.5,0.001,2\n30,4.5,0.3,,0.001,3\n"
    )
    card = read_model_card(read_bundle_info(bundle))
    assert card.trained_steps == 1500 and card.class_fidelity[TEST_CLASSES[1]] == 1.0
    assert card.weak_classes == [TEST_CLASSES[0]]
    assert card.figures == {"class_fidelity": 0.5, "vq_ssim": 0.65}  # an odd value is skipped, not an error
    assert card.data == "random weights for tests"
    (curve,) = card.curves
    assert curve.train["loss"] == [(10, 6.0), (20, 5.0), (30, 4.5)] and curve.heldout == {"val_ce": [(20, 5.5)]}
    assert "lr" not in curve.train


def test_a_bundle_without_report_or_logs_gives_an_empty_card(tmp_path):
    bundle = build_test_bundle(tmp_path / "b")
    (bundle / "eval").mkdir()
    (bundle / "eval" / "report.json").write_text("{broken")
    card = read_model_card(read_bundle_info(bundle))
    assert card.figures == {} and card.class_fidelity == {} and card.curves == [] and card.weak_classes == []


def test_trained_on_names_the_dataset_and_its_credit_not_the_training_machines_path(tmp_path):
    import yaml

    bundle = build_test_bundle(tmp_path / "b")
    meta = yaml.safe_load((bundle / "model.yaml").read_text())
    for data, expected in (
        ({"root": "/home/trainer/datasets/NEU-DET", "kind": "neu-det", "samples": 1650}, "NEU-DET"),
        ({"root": "C:\\Users\\qa\\data\\NEU-DET"}, "NEU-DET"),
        ("/home/someone/specs/steel-mix.yaml", "steel-mix"),
    ):
        meta["provenance"]["data"] = data
        (bundle / "model.yaml").write_text(yaml.safe_dump(meta, sort_keys=False))
        card = read_model_card(read_bundle_info(bundle))
        assert card.data == expected and "/" not in card.data and "\\" not in card.data
    meta["provenance"]["data"] = {"root": "/home/trainer/datasets/NEU-DET", "kind": "neu-det"}
    (bundle / "model.yaml").write_text(yaml.safe_dump(meta, sort_keys=False))
    assert "Northeastern University" in read_model_card(read_bundle_info(bundle)).credit
