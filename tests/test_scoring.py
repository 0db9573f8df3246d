"""Variant scores as a user meets them: a critic in the bundle (or none), spill and seams measured, best first."""

from __future__ import annotations

import dataclasses
import json
import shutil

import numpy as np
import pytest
import yaml

from app.cli import main as defectforge
from core.bundle import CLASSIFIER_FILE, BundleError, load_bundle
from core.config import SamplerConfig
from core.pipeline import InpaintPipeline
from core.request import Box, InpaintRequest, InpaintResult, MaskLayer, VariantResult
from core.scoring import Critic, SmallCNN, rank, save_critic, score_variants
from tests.conftest import build_test_bundle, logging_restored
from tests.training_fixtures import CLASSES as TEST_NEU_CLASSES
from tests.training_fixtures import make_neu_dataset


def _result(variant_images: list[np.ndarray], image: np.ndarray, mask: np.ndarray) -> InpaintResult:
    request = InpaintRequest(image, [MaskLayer(mask, "patches")], seed=0, variants=len(variant_images))
    variants = [
        VariantResult(i, img, {"patches": mask.copy()}, [Box("patches", 20, 20, 40, 40)])
        for i, img in enumerate(variant_images)
    ]
    return InpaintResult(request, variants, "test", "", 0.0)


def test_a_change_outside_the_label_is_spill_and_ranks_the_variant_last():
    rng = np.random.default_rng(0)
    image = np.clip(rng.normal(128, 6, (64, 64, 1)), 0, 255).astype(np.uint8).repeat(3, axis=2)
    mask = np.zeros((64, 64), bool)
    mask[20:40, 20:40] = True
    clean = image.copy()
    clean[24:36, 24:36] = 40  # a dark defect inside the label
    spilled = clean.copy()
    spilled[50:60, 5:15] = 250  # and a bright smear outside it
    scores = score_variants(_result([spilled, clean], image, mask))
    assert scores[0].spill > 0.2 and scores[1].spill == 0
    assert scores[0].poor and any("spill" in reason for reason in scores[0].reasons)
    assert scores[1].class_fidelity is None and scores[1].realism is None  # no critic: not measured
    assert rank(scores) == [1, 0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        scores[0].score = 1.0  # type: ignore[misc]
    assert set(scores[0].to_record()) >= {"class_fidelity", "realism", "spill", "seam", "score", "poor"}


def test_realism_is_about_one_for_real_features_and_large_for_far_ones():
    rng = np.random.default_rng(1)
    real = rng.normal(0, 1, (200, 8)).astype(np.float32)
    critic = Critic(SmallCNN(2, width=4), ["a", "b"], {"a": real})
    near = critic.realism(rng.normal(0, 1, (50, 8)), "a")
    far = critic.realism(rng.normal(0, 1, (50, 8)) + 10, "a")
    assert 0.7 < float(np.median(near)) < 1.4 and float(far.min()) > 3
    assert critic.realism(real[:3], "b") is None  # no real crops of that class: not measured


def test_a_bundle_without_the_classifier_part_loads_without_a_critic(test_bundle):
    assert test_bundle.critic is None


# The few boxes of these tiny datasets measure no judge; the bar itself is tested in test_bad_input_training.py.
ANY_JUDGE = ["--min-accuracy", "0", "--min-heldout", "1"]


@pytest.fixture(scope="module")
def critic_bundle(tmp_path_factory):
    """A test bundle with a classifier added by `defectforge train classifier`, and its dataset."""
    root = tmp_path_factory.mktemp("critic")
    data = make_neu_dataset(root / "data", per_class=4)
    bundle = build_test_bundle(root / "bundle")
    with logging_restored():
        argv = ["train", "classifier", "--bundle", str(bundle), "--data", str(data), "--epochs", "2", *ANY_JUDGE]
        assert defectforge(argv) == 0
    return bundle, data


def test_train_classifier_adds_a_checked_part_that_scores_variants(critic_bundle, tmp_path):
    path, _ = critic_bundle
    meta = yaml.safe_load((path / "model.yaml").read_text())
    assert CLASSIFIER_FILE in meta["weights_sha256"]
    bundle = load_bundle(path)
    assert bundle.critic is not None and bundle.critic.classes == bundle.class_names
    assert set(bundle.critic.real_features) == set(bundle.class_names)
    assert "heldout_accuracy" in bundle.critic.info
    image = np.full((96, 96, 3), 128, np.uint8)
    mask = np.zeros((96, 96), bool)
    mask[30:60, 30:60] = True
    request = InpaintRequest(
        image, [MaskLayer(mask, "scratches")], seed=5, variants=3, sampler=SamplerConfig(steps=4, cfg_weight=1.0)
    )
    *_, last = InpaintPipeline(bundle).run(request)
    scores = score_variants(last.result, bundle.critic, bundle.info.image_size)
    assert len(scores) == 3
    # random weights paint noise: the numbers are only checked for range here
    assert all(0 <= s.class_fidelity <= 1 and s.realism > 0 and 0 <= s.spill <= 1 for s in scores)
    # a changed part is refused, naming the file
    damaged = tmp_path / "damaged"
    shutil.copytree(path, damaged)
    with open(damaged / CLASSIFIER_FILE, "r+b") as fh:
        fh.seek(-4, 2)
        fh.write(b"\0\0\0\0")
    with pytest.raises(BundleError, match=CLASSIFIER_FILE):
        load_bundle(damaged)
    # an unlisted one is left unused: nothing vouches for it
    unlisted = tmp_path / "unlisted"
    shutil.copytree(path, unlisted)
    meta["weights_sha256"].pop(CLASSIFIER_FILE)
    (unlisted / "model.yaml").write_text(yaml.safe_dump(meta, sort_keys=False))
    assert load_bundle(unlisted).critic is None


@pytest.mark.usefixtures("restore_logging")
def test_train_classifier_adopts_an_eval_judge_only_when_the_classes_match(critic_bundle, tmp_path, capsys):
    path, data = critic_bundle
    bundle = tmp_path / "bundle"
    shutil.copytree(path, bundle)
    judge = tmp_path / "judge.safetensors"
    save_critic(judge, SmallCNN(2), ["crazing", "patches"], {"heldout_accuracy": 1.0})
    before = (bundle / CLASSIFIER_FILE).read_bytes()
    assert (
        defectforge(["train", "classifier", "--bundle", str(bundle), "--data", str(data), "--judge", str(judge)]) != 0
    )
    assert "knows ['crazing', 'patches']" in capsys.readouterr().err
    assert (bundle / CLASSIFIER_FILE).read_bytes() == before  # nothing changed
    critic = load_bundle(bundle).critic
    save_critic(judge, critic.model, critic.classes, {"heldout_accuracy": 0.5})
    assert (
        defectforge(
            ["train", "classifier", "--bundle", str(bundle), "--data", str(data), "--judge", str(judge), *ANY_JUDGE]
        )
        == 0
    )
    adopted = load_bundle(bundle).critic
    assert adopted.info["adopted_from"] == str(judge.resolve())


@pytest.fixture(scope="module")
def fixture_defects(tmp_path_factory):
    """Real-looking defects of every class (the procedural NEU fixture at 64 px): (train, held-out) examples."""
    from training.datasets import open_dataset, prepare
    from training.eval_boxes import Example

    data = make_neu_dataset(tmp_path_factory.mktemp("grain") / "data", per_class=8)
    prepared = [prepare(sample, 64) for sample in open_dataset(data).samples]
    train = [p for n, p in enumerate(prepared) if n % 2 == 0]
    held = [Example(p, 0, None) for n, p in enumerate(prepared) if n % 2 == 1]
    return train, held


def test_a_flat_smooth_or_blurred_fill_is_flagged_as_too_smooth_and_real_defects_are_not(fixture_defects):
    """The variant score judges the painted region itself against real defects of its class: a fill with no
    grain is poor however well the surface around it fits, a real defect re-pasted is not."""
    from training.classifier import real_grain
    from training.eval_critic import bad_and_good_variants, score_one

    train, held = fixture_defects
    # One-class critics: class fidelity is always 1, so whatever is flagged here, the grain flagged it.
    model = SmallCNN(1, width=4).eval()
    critics = {name: Critic(model, [name], real_grain=real_grain(train, [name])) for name in TEST_NEU_CLASSES}
    chosen = [(e, (b.x0, b.y0, b.x1, b.y1)) for e in held for b in e.prepared.boxes[:1]]
    scored: dict[str, list] = {}
    for kind, name, variant, box, image in bad_and_good_variants(chosen):
        if kind != "other_class":
            scored.setdefault(kind, []).append(score_one(critics[name], image, variant, box, name, 64))
    assert set(scored) == {"real", "smooth_fill", "flat_fill", "blurred"} and len(scored["real"]) == 24
    for kind in ("smooth_fill", "flat_fill", "blurred"):
        assert all(s.poor and any(r.startswith("grain") for r in s.reasons) for s in scored[kind]), kind
        assert max(s.grain for s in scored[kind]) < 0.5
    assert np.mean([not s.poor for s in scored["real"]]) >= 0.9, [(s.reasons, s.grain) for s in scored["real"]]
    assert 0.7 < np.median([s.grain for s in scored["real"]]) < 1.4
    # a smooth fill ranks below the real defect it replaced
    assert np.median([s.score for s in scored["flat_fill"]]) < np.median([s.score for s in scored["real"]])


def test_every_limit_is_compared_as_it_is_shown():
    """A reason never contradicts itself ("0.50 < 0.5"): a figure that reads as the limit is not past it."""
    from core.scoring import poor_reasons

    assert poor_reasons(0.4986, 1.0, 0.0, 1.0) == ()  # shown as 0.50, the limit
    assert poor_reasons(0.4949, 1.0, 0.0, 1.0) == ("class fidelity 0.49 < 0.50",)
    assert poor_reasons(0.9, 2.004, 0.0, 1.504) == ()  # 2.00 and 1.50 are the limits themselves
    assert poor_reasons(0.9, 2.006, 0.0, 1.53) == ("realism 2.01 > 2.00", "seam 1.53 > 1.50")
    assert poor_reasons(0.9, 1.0, 0.0204, None) == ()  # 2.0 %, the limit
    assert poor_reasons(0.9, 1.0, 0.0, None, grain=0.404, grain_floor=0.40) == ()
    assert poor_reasons(0.9, 1.0, 0.0, None, grain=0.1, grain_floor=0.40)[0].startswith("grain 0.10 < 0.40")


def test_an_unflagged_variant_ranks_above_a_flagged_one_with_the_same_score():
    from core.scoring import VariantScore

    flagged = VariantScore(0.9, 1.0, 0.0, 1.6, 0.8, True, ("seam 1.60 > 1.50",))
    clean = VariantScore(0.9, 1.0, 0.0, 1.0, 0.8, False)
    better_but_flagged = VariantScore(0.99, 1.0, 0.0, 1.6, 0.95, True, ("seam 1.60 > 1.50",))
    assert rank([flagged, clean]) == [1, 0]
    assert rank([better_but_flagged, clean, flagged]) == [1, 0, 2]


def test_eval_reports_the_critics_accuracy_on_known_bad_and_known_good_variants(critic_bundle, tmp_path):
    path, data = critic_bundle
    out = tmp_path / "report"
    with logging_restored():
        args = ["eval", str(path), "--data", str(data), "--sections", "critic", "--out", str(out), "--val-fraction"]
        assert defectforge([*args, "0.5", "--fidelity-per-class", "2"]) == 0
    report = json.loads((out / "report.json").read_text())["critic"]
    assert set(report["per_kind"]) == {"smooth_fill", "flat_fill", "blurred", "other_class", "real"}
    assert report["bad"]["variants"] == 4 * report["boxes"] and report["good"]["variants"] == report["boxes"]
    assert 0 <= report["bad"]["accuracy"] <= 1 and 0 <= report["good"]["accuracy"] <= 1
    assert report["per_kind"]["flat_fill"]["flagged"] == 1.0  # no grain at all, whatever the classifier says
    assert "known-bad variants flagged" in (out / "report.md").read_text()


def test_the_seam_is_measured_where_the_feather_is_half_way_and_a_hard_edge_shows_there():
    from core.scoring import seam_region, seam_score

    painted = np.zeros((64, 64), bool)
    painted[20:44, 20:44] = True
    middle, band = seam_region(painted, feather_px=6)
    assert band == 5 and middle[20:44, 20:44].all()  # the painted pixels and half the feather around them
    assert middle.sum() > painted.sum() and not middle[:14].any()
    surface = np.random.default_rng(0).integers(100, 140, (64, 64, 3), dtype=np.uint8)
    pasted = surface.copy()
    pasted[middle] = np.clip(pasted[middle].astype(int) + 60, 0, 255).astype(np.uint8)
    assert seam_score(pasted, middle, band) > 1.5 * seam_score(surface, middle, band)
    assert seam_region(painted, feather_px=0)[1] == seam_region(painted, feather_px=1)[1]  # no feather: one pixel
