"""`defectforge train maskgit`: the transformer learns, writes a bundle with provenance, starts from upstream
weights. (Resume and torch.distributed: test_training_maskgit_resume.py.)"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import torch

from core.bundle import load_bundle
from core.config import transformer_preset
from core.sampler import HaltonSampler
from core.transformer import MaskTransformer
from tests.training_fixtures import CLASSES, make_token_cache, maskgit_config, read_log
from training.jobs import JobError
from training.tokenize import TokenCache
from training.train_maskgit import build_model, train_maskgit


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return make_token_cache(tmp_path_factory.mktemp("maskgit"))


def test_maskgit_loss_falls_on_a_tiny_overfittable_set(cache, tmp_path):
    run = tmp_path / "run"
    bundle = train_maskgit(
        maskgit_config(
            cache,
            run,
            steps=24,
            log_every=4,
            eval_every=24,
            checkpoint_every=24,
            defect_share=0.0,
            box_share=0.0,
            label_drop=0.0,
            lr=4e-3,
        )
    )
    losses = [float(r["loss"]) for r in read_log(run)]
    assert losses[-1] < losses[0] - 0.3, losses
    for name in ("loss.png", "accuracy.png", "config.yaml", "job.log"):
        assert (run / name).is_file(), name
    assert any((run / "tensorboard").iterdir())
    assert float(read_log(run)[-1]["peak_rss_mb"]) > 0
    assert bundle == run / "bundle"


def test_final_bundle_loads_samples_and_records_provenance(cache, tmp_path):
    bundle_dir = train_maskgit(
        maskgit_config(cache, tmp_path / "run", steps=3), command="defectforge train maskgit ..."
    )
    bundle = load_bundle(bundle_dir)
    assert bundle.class_names == CLASSES
    assert bundle.info.image_size == 64 and bundle.transformer.config.input_size == 4
    prov = bundle.info.provenance
    for key in ("command", "steps", "wall_time_s", "metrics", "peak_rss_mb", "data", "seed", "split", "config"):
        assert key in prov, key
    assert prov["steps"] == 3 and prov["command"] == "defectforge train maskgit ..."
    assert "heldout_ce" in prov["metrics"] and "heldout_accuracy" in prov["metrics"]
    # The training curves travel with the model, for the app's model card.
    from core.model_card import read_curve

    curve = read_curve(bundle_dir / "train_log" / "maskgit.csv")
    assert curve is not None and "loss" in curve.train and "val_ce" in curve.heldout
    token_mask = torch.zeros(4, 4, dtype=torch.bool)
    token_mask[1:3, 1:3] = True
    *_, last = HaltonSampler(bundle.transformer, bundle.info.sampler).inpaint(
        torch.zeros(1, 4, 4), token_mask, [2], seeds=[0]
    )
    assert last.done and bool((last.codes < 64).all())


def test_a_finished_run_refuses_a_fresh_start_and_warns_when_resumed_with_other_options(cache, tmp_path, caplog):
    train_maskgit(maskgit_config(cache, tmp_path / "run", steps=2))
    with pytest.raises(JobError, match="already holds a run"):
        train_maskgit(maskgit_config(cache, tmp_path / "run", steps=2, resume=False))
    with caplog.at_level(logging.WARNING):
        train_maskgit(maskgit_config(cache, tmp_path / "run", steps=3, batch_size=4))  # more steps: fine; batch: warned
    assert "changed options batch_size 8 -> 4" in caplog.text and "steps" not in caplog.text.split("changed")[1]


def test_two_stage_training_is_unconditional_first_then_conditional(cache, tmp_path, monkeypatch):
    dropped_all = []
    forward = MaskTransformer.forward

    def recording_forward(self, codes, labels, drop_label=None, positions=None):
        if self.training:
            dropped_all.append(bool(drop_label.all()))
        return forward(self, codes, labels, drop_label, positions)

    monkeypatch.setattr(MaskTransformer, "forward", recording_forward)
    train_maskgit(maskgit_config(cache, tmp_path / "run", steps=4, uncond_steps=2, label_drop=0.1, eval_every=10))
    assert dropped_all == [True, True, False, False]


def _upstream_checkpoint(path: Path, hidden: int = 64) -> dict:
    """A checkpoint in upstream Halton-MaskGIT's layout: 1000 ImageNet classes + null, DDP 'module.' prefix."""
    torch.manual_seed(3)
    upstream = MaskTransformer(transformer_preset("test", num_classes=1000, input_size=4, hidden_dim=hidden))
    state = {f"module.{k}": v for k, v in upstream.state_dict().items()}
    torch.save({"model_state_dict": state, "iter": 100, "global_epoch": 1}, path)
    return upstream.state_dict()


def test_init_from_an_upstream_layout_checkpoint(cache, tmp_path):
    upstream = _upstream_checkpoint(tmp_path / "upstream.pth")
    cfg = maskgit_config(cache, tmp_path / "run", steps=2, init_upstream=str(tmp_path / "upstream.pth"))
    model = build_model(cfg, TokenCache(cache))
    assert model.cls_emb.weight.shape == (len(CLASSES) + 1, 64)
    assert torch.equal(model.cls_emb.weight[-1], upstream["cls_emb.weight"][-1])  # null row seeds ours
    for key, value in model.state_dict().items():
        if key != "cls_emb.weight":
            assert torch.equal(value, upstream[key]), key
    assert (train_maskgit(cfg) / "transformer.safetensors").is_file()

    _upstream_checkpoint(tmp_path / "wide.pth", hidden=128)
    with pytest.raises(JobError, match="init-upstream"):
        build_model(
            maskgit_config(cache, tmp_path / "run2", init_upstream=str(tmp_path / "wide.pth")), TokenCache(cache)
        )


def test_init_from_our_own_weights_of_another_grid_resamples_the_positions(cache, tmp_path):
    """A campaign moves its transformer to a tokenizer grid of another size (32x32 -> 25x25 tokens): every weight
    is kept, the positional embeddings resampled as an image; a packed campaign state seeds a run as well."""
    import torch.nn.functional as F
    from safetensors.torch import save_model

    from training.campaign_state import pack

    grid = TokenCache(cache).grid
    torch.manual_seed(5)
    other = MaskTransformer(transformer_preset("test", num_classes=len(CLASSES), input_size=grid * 2))
    save_model(other, str(tmp_path / "transformer.safetensors"))  # one of the tied head/embedding
    cfg = maskgit_config(cache, tmp_path / "run", steps=3, init_weights=str(tmp_path / "transformer.safetensors"))
    model = build_model(cfg, TokenCache(cache))
    source = other.state_dict()
    for key, value in model.state_dict().items():
        if key != "pos_emb.weight":
            assert torch.equal(value, source[key]), key
    image = source["pos_emb.weight"].t().reshape(1, -1, grid * 2, grid * 2)
    expected = F.interpolate(image, size=(grid, grid), mode="bicubic", align_corners=False)[0].flatten(1).t()
    assert torch.allclose(model.pos_emb.weight, expected, atol=1e-6)

    train_maskgit(cfg)
    pack(tmp_path / "run", tmp_path / "state.safetensors", keep="model")
    seeded = build_model(
        maskgit_config(cache, tmp_path / "next", init_weights=str(tmp_path / "state.safetensors")), TokenCache(cache)
    )
    trained = load_bundle(tmp_path / "run" / "bundle").transformer.state_dict()
    assert not torch.equal(seeded.pos_emb.weight, model.pos_emb.weight)  # the run's trained weights, not the file's
    assert torch.allclose(seeded.tok_emb.weight, trained["tok_emb.weight"].float(), atol=0.05)

    wide = MaskTransformer(transformer_preset("test", num_classes=len(CLASSES), input_size=grid, hidden_dim=128))
    save_model(wide, str(tmp_path / "wide.safetensors"))
    with pytest.raises(JobError, match="init-weights") as info:
        build_model(
            maskgit_config(cache, tmp_path / "r2", init_weights=str(tmp_path / "wide.safetensors")), TokenCache(cache)
        )
    assert "\n" not in str(info.value)


def test_ema_warms_up_so_a_short_run_forgets_its_random_start():
    import torch

    from training.schedules import EMA

    model = torch.nn.Linear(1, 1, bias=False)
    torch.nn.init.constant_(model.weight, 0.0)
    ema = EMA(model, 0.999)
    torch.nn.init.constant_(model.weight, 1.0)
    for step in range(1, 201):
        ema.update(model, step)
    # a plain 0.999 average would still hold 0.999 ** 200 = 82 % of the initial 0.0
    assert float(ema.model.weight) > 0.9
    assert ema.decay_at(1) < 0.2 and ema.decay_at(10**6) == 0.999
