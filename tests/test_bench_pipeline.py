"""`defectforge bench pipeline` reports both scenarios as JSON-ready records, with any bundle or none."""

from __future__ import annotations

import argparse
import json

import torch

from training.bench import timed
from training.bench_pipeline import bench_bundle, bench_pipeline


def test_bench_pipeline_reports_both_scenarios(test_bundle_path):
    records: list[dict] = []
    args = argparse.Namespace(model=str(test_bundle_path), repeats=1, device="cpu")
    bench_pipeline(args, records.append, timed)
    assert [r["scenario"] for r in records] == ["pipeline.neu_200x200_mask15pct", "pipeline.gc10_2048x1000_small_mask"]
    neu, gc10 = records
    assert neu["image"] == [200, 200] and abs(neu["mask_share"] - 0.15) < 0.01
    assert gc10["image"] == [2048, 1000] and gc10["mask_share"] < 0.01
    for record in records:
        assert record["weights"] == "bundle" and record["bundle"] == "test-bundle"
        assert 0 < record["first_preview_s"] <= record["max_s"] and record["steps_run"] >= 1
        json.dumps(record)


def test_without_any_bundle_the_bench_says_its_weights_are_random(monkeypatch, tmp_path):
    monkeypatch.setattr("training.bench_pipeline.default_model_path", lambda: tmp_path / "missing")
    bundle, weights = bench_bundle(None, torch.device("cpu"))
    assert weights == "random"
    # the default model's shape: vq8-cpu / cpu-small at 200 px, 25x25 tokens
    assert bundle.info.vq.downsample == 8 and bundle.info.transformer.hidden_dim == 192
    assert bundle.info.image_size == 200 and bundle.info.grid_size == bundle.info.transformer.input_size == 25
    assert len(bundle.class_names) == 6
