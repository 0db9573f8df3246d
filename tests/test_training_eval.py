"""The whole training story through the `defectforge` command: VQ -> tokenize -> MaskGIT -> eval report."""

from __future__ import annotations

import json

import numpy as np
from PIL import Image

from app.cli import main as defectforge
from core.bundle import load_bundle, read_bundle_info
from tests.training_fixtures import make_neu_dataset

REPORT_FIELDS = {
    "vq": {"ssim", "psnr", "edge_iou", "heldout_codebook_usage"},
    "maskgit": {"heldout_ce", "masked_token_accuracy", "region_ce", "region_accuracy"},
    "class_fidelity": {"overall", "per_class", "confusion", "judge"},
    "realism_kid": {"per_class", "generated", "real_heldout", "smooth_fill", "generated_over_smooth"},
    "token_grid": {"generated", "real", "period_px"},
    "label_spill": {"changed_pixels_outside_label", "share_outside_label"},
    "cleanup": {"erased", "defect", "smooth_fill", "background"},
    "seam": {"generated", "reference", "ratio"},
    "best_of": {"n", "boxes", "scorer", "same_network", "first_fidelity", "best_fidelity", "improved", "worsened"},
    "diversity": {"metric", "mean", "masks", "variants"},
    "speed": {"seconds_per_inpaint", "device"},
    "shapes": {"per_shape", "per_class", "grain_over_real", "grain_over_around", "outline_ratio_worst_shape"},
}


def test_vq_tokenize_maskgit_eval_chain_writes_a_full_json_and_markdown_report(tmp_path, capsys):
    data = make_neu_dataset(tmp_path / "data", per_class=3, clean=True)  # eval paints on the clean surfaces
    vq_run, cache, mg_run, report = tmp_path / "vq", tmp_path / "cache", tmp_path / "mg", tmp_path / "report"
    assert (
        defectforge(
            [
                "train",
                "vq",
                "--data",
                str(data),
                "--out",
                str(vq_run),
                "--preset",
                "vq16-test",
                "--image-size",
                "64",
                "--steps",
                "3",
                "--batch-size",
                "4",
                "--disc-ndf",
                "8",
                "--eval-images",
                "2",
                "--val-fraction",
                "0.25",
            ]
        )
        == 0
    )
    assert (
        defectforge(
            [
                "train",
                "tokenize",
                "--data",
                str(data),
                "--out",
                str(cache),
                "--vq",
                str(vq_run / "bundle"),
                "--val-fraction",
                "0.25",
            ]
        )
        == 0
    )
    assert (
        defectforge(
            [
                "train",
                "maskgit",
                "--tokens",
                str(cache),
                "--out",
                str(mg_run),
                "--preset",
                "test",
                "--steps",
                "3",
                "--batch-size",
                "8",
                "--sampler-steps",
                "4",
            ]
        )
        == 0
    )
    bundle = load_bundle(mg_run / "bundle")
    assert bundle.info.provenance["command"].startswith("defectforge train maskgit --tokens")
    # the MaskGIT bundle carries the VQ it was tokenized with
    assert (
        bundle.info.weights_sha256["vq.safetensors"]
        == read_bundle_info(vq_run / "bundle").weights_sha256["vq.safetensors"]
    )
    capsys.readouterr()
    assert (
        defectforge(
            [
                "eval",
                str(mg_run / "bundle"),
                "--data",
                str(data),
                "--out",
                str(report),
                "--fidelity-per-class",
                "1",
                "--classifier-epochs",
                "1",
                "--variants",
                "2",
                "--diversity-masks",
                "1",
                "--speed-runs",
                "1",
                "--shapes-per-kind",
                "1",
            ]
        )
        == 0
    )
    result = json.loads((report / "report.json").read_text())
    for section, fields in REPORT_FIELDS.items():
        assert fields <= set(result[section]), (section, fields - set(result[section]))
    fidelity = result["class_fidelity"]
    assert set(fidelity["per_class"]) == set(bundle.class_names)
    # every held-out box was re-inpainted once per class: the confusion rows add up to the boxes
    counts = fidelity["confusion"]["counts"]
    assert len(counts) == len(bundle.class_names) and all(sum(row) == fidelity["boxes"] > 0 for row in counts)
    assert 0 <= fidelity["overall"] <= 1 and 0 <= fidelity["judge"]["heldout_accuracy"] <= 1
    assert fidelity["judge"]["train_crops"] > 0 and fidelity["judge"]["heldout_crops"] > 0
    assert result["token_grid"]["period_px"] == bundle.vq.downsample and result["token_grid"]["real"] > 0
    assert result["data"]["split"]["val_fraction"] == 0.25 and result["data"]["split"]["seed"] == 0  # the bundle's
    assert len(result["goals"]) == 12 and result["speed"]["seconds_per_inpaint"] > 0
    speed_goal = next(g for g in result["goals"] if g["measure"].startswith("seconds per inpaint"))
    assert speed_goal["value"] == result["speed"]["seconds_per_inpaint"] and speed_goal["goal"] == "<= 1.0"
    printed = capsys.readouterr().out
    assert "class fidelity, overall" in printed and "goal >= 0.85" in printed  # figures beside goals, printed
    # best-of-N: the bundle has no classifier, so the judge scores too, and the report says they are one network
    assert result["best_of"]["scorer"] == "the eval's judge" and result["best_of"]["same_network"] is True
    assert 0 <= result["best_of"]["first_fidelity"] <= 1 and 0 <= result["best_of"]["best_fidelity"] <= 1
    assert 0 < result["vq"]["ssim"] <= 1 and result["vq"]["native_px"] == 80  # measured on the 80 px originals
    markdown = (report / "report.md").read_text()
    for heading in (
        "## Figures beside their goals",
        "## VQ tokenizer",
        "## MaskGIT transformer",
        "## Class fidelity",
        "## Realism",
        "## Token grid",
        "## Label coverage",
        "## Clean-up",
        "## Seam",
        "## Best of 4",
        "## Diversity",
        "## Speed",
        "## Painted shapes",
    ):
        assert heading in markdown, heading
    sheet = np.asarray(Image.open(report / "contact_sheet.png"))
    # rows: the originals, one per class, clean-up; columns: a label, then the held-out images
    assert sheet.shape[0] >= (len(bundle.class_names) + 2) * 64
    shapes = result["shapes"]
    assert set(shapes["per_shape"]) == {"stroke", "blob", "spots", "box"} and shapes["samples"] == 4 * 6
    assert np.asarray(Image.open(report / "shapes_sheet.png")).shape[1] >= 7 * 64  # painted + one per class
    # the judge is kept, and a later eval can reuse it instead of training its own
    assert (report / "judge.safetensors").is_file()
    again = tmp_path / "again"
    assert (
        defectforge(
            [
                "eval",
                str(mg_run / "bundle"),
                "--data",
                str(data),
                "--out",
                str(again),
                "--judge",
                str(report / "judge.safetensors"),
                "--fidelity-per-class",
                "1",
                "--variants",
                "2",
                "--diversity-masks",
                "1",
                "--speed-runs",
                "1",
            ]
        )
        == 0
    )
    reused = json.loads((again / "report.json").read_text())["class_fidelity"]["judge"]
    assert reused["heldout_accuracy"] == fidelity["judge"]["heldout_accuracy"]
    # a quick look at one section only, with the saved judge
    quick = tmp_path / "quick"
    assert (
        defectforge(
            [
                "eval",
                str(mg_run / "bundle"),
                "--data",
                str(data),
                "--out",
                str(quick),
                "--sections",
                "generation",
                "--judge",
                str(report / "judge.safetensors"),
                "--fidelity-per-class",
                "1",
            ]
        )
        == 0
    )
    only = json.loads((quick / "report.json").read_text())
    assert "class_fidelity" in only and "vq" not in only and "speed" not in only
    assert "## Class fidelity" in (quick / "report.md").read_text()
