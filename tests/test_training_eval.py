"""The whole training story through the `defectforge` command: VQ -> tokenize -> MaskGIT -> eval report."""

from __future__ import annotations

import json

from app.cli import main as defectforge
from core.bundle import load_bundle
from tests.training_fixtures import make_neu_dataset

REPORT_FIELDS = {
    "vq": {"ssim", "psnr", "edge_iou", "heldout_codebook_usage"},
    "maskgit": {"heldout_ce", "masked_token_accuracy", "region_ce", "region_accuracy"},
    "class_fidelity": {"overall", "per_class", "classifier_real_heldout_accuracy"},
    "seam": {"generated", "reference", "ratio"},
    "diversity": {"metric", "mean", "masks", "variants"},
    "speed": {"seconds_per_inpaint", "device"},
}


def test_vq_tokenize_maskgit_eval_chain_writes_a_full_json_and_markdown_report(tmp_path, capsys):
    data = make_neu_dataset(tmp_path / "data", per_class=3, clean=True)  # eval paints on the clean surfaces
    vq_run, cache, mg_run, report = tmp_path / "vq", tmp_path / "cache", tmp_path / "mg", tmp_path / "report"
    assert defectforge(["train", "vq", "--data", str(data), "--out", str(vq_run), "--preset", "vq16-test",
                        "--image-size", "64", "--steps", "3", "--batch-size", "4", "--disc-ndf", "8",
                        "--eval-images", "2", "--val-fraction", "0.25"]) == 0
    assert defectforge(["train", "tokenize", "--data", str(data), "--out", str(cache), "--vq", str(vq_run / "bundle"),
                        "--val-fraction", "0.25"]) == 0
    assert defectforge(["train", "maskgit", "--tokens", str(cache), "--out", str(mg_run), "--preset", "test",
                        "--steps", "3", "--batch-size", "8", "--sampler-steps", "4"]) == 0
    bundle = load_bundle(mg_run / "bundle")
    assert bundle.info.provenance["command"].startswith("defectforge train maskgit --tokens")
    # the MaskGIT bundle carries the VQ it was tokenized with
    assert bundle.info.weights_sha256["vq.safetensors"] == load_bundle(vq_run / "bundle").info.weights_sha256[
        "vq.safetensors"]
    capsys.readouterr()
    assert defectforge(["eval", str(mg_run / "bundle"), "--data", str(data), "--out", str(report),
                        "--fidelity-per-class", "1", "--classifier-epochs", "1", "--variants", "2",
                        "--diversity-masks", "1", "--speed-runs", "1"]) == 0
    result = json.loads((report / "report.json").read_text())
    for section, fields in REPORT_FIELDS.items():
        assert fields <= set(result[section]), (section, fields - set(result[section]))
    assert set(result["class_fidelity"]["per_class"]) == set(bundle.class_names)
    assert result["data"]["split"] == {"val_fraction": 0.25, "seed": 0}  # the bundle's own held-out split
    assert len(result["goals"]) == 3 and result["speed"]["seconds_per_inpaint"] > 0
    markdown = (report / "report.md").read_text()
    for heading in ("## Goals", "## VQ tokenizer", "## MaskGIT transformer", "## Class fidelity", "## Seam",
                    "## Diversity", "## Speed"):
        assert heading in markdown, heading
    assert (report / "generated.png").is_file()
    assert result["class_fidelity"]["base_images"] == "clean surfaces (CLEAN/)"
