"""`defectforge train vq`: the tokenizer learns, resumes exactly, and fine-tunes from a LlamaGen-layout checkpoint."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from core.bundle import BundleError, load_bundle
from core.config import ConfigError, vq_preset
from core.vq import VQModel
from tests.training_fixtures import CLASSES, make_neu_dataset, read_log
from training.jobs import JobError
from training.train_vq import VQTrainConfig, train_vq


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return make_neu_dataset(tmp_path_factory.mktemp("vq") / "data", per_class=2)


def _config(data: Path, out: Path, **overrides) -> VQTrainConfig:
    values = dict(
        data=str(data),
        out=str(out),
        preset="vq16-test",
        image_size=64,
        steps=8,
        batch_size=4,
        lr=2e-3,
        disc_start=4,
        disc_ndf=8,
        disc_adaptive=True,
        checkpoint_every=3,
        eval_every=4,
        eval_images=2,
        log_every=2,
        val_fraction=0.2,
    )
    return VQTrainConfig(**(values | overrides))


class Killed(Exception):
    pass


def test_vq_loss_falls_and_the_run_leaves_logs_plots_samples_and_a_bundle(data, tmp_path):
    run = tmp_path / "run"
    bundle_dir = train_vq(
        _config(data, run, steps=16, disc_start=100, log_every=4, eval_every=16, checkpoint_every=16),
        command="defectforge train vq ...",
    )
    rows = read_log(run)
    assert float(rows[-1]["recon_loss"]) < 0.5 * float(rows[0]["recon_loss"])
    for name in (
        "loss.png",
        "gan.png",
        "quality.png",
        "log.csv",
        "config.yaml",
        "job.log",
        "samples/step_00000016.png",
    ):
        assert (run / name).is_file(), name
    # the app, synth and eval refuse it (its transformer is untrained); the training jobs take its VQ
    with pytest.raises(BundleError, match="only a trained tokenizer"):
        load_bundle(bundle_dir)
    bundle = load_bundle(bundle_dir, tokenizer_only_ok=True)
    assert bundle.info.tokenizer_only
    assert bundle.class_names == CLASSES and bundle.info.image_size == 64
    prov = bundle.info.provenance
    for key in ("ssim", "psnr", "edge_iou", "codebook_usage", "heldout_codebook_usage"):
        assert key in prov["metrics"], key
    assert prov["command"] == "defectforge train vq ..." and prov["steps"] == 16 and prov["peak_rss_mb"] > 0
    assert prov["perceptual"] in ("lpips", "ssim")


def test_vq_resume_after_a_kill_matches_an_uninterrupted_run_gan_included(data, tmp_path):
    """GAN from step 4 and codebook restarts every 2 steps: both draw randomness, and both resume exactly."""
    train_vq(_config(data, tmp_path / "straight", codebook_restart=2))

    def kill_at_5(step, model):
        if step == 5:  # checkpoint at 3; the discriminator started at 4
            raise Killed

    with pytest.raises(Killed):
        train_vq(_config(data, tmp_path / "killed", codebook_restart=2), on_step=kill_at_5)
    train_vq(_config(data, tmp_path / "killed", codebook_restart=2))
    for name in ("vq", "disc", "opt_g", "opt_d"):
        a = load_file(str(tmp_path / "straight/checkpoints/step_00000008" / f"{name}.safetensors"))
        b = load_file(str(tmp_path / "killed/checkpoints/step_00000008" / f"{name}.safetensors"))
        for key in a:
            assert torch.equal(a[key], b[key]), (name, key)
    assert read_log(tmp_path / "straight") == [
        {**r, "seconds": s["seconds"], "peak_rss_mb": s["peak_rss_mb"]}
        for r, s in zip(read_log(tmp_path / "killed"), read_log(tmp_path / "straight"), strict=True)
    ]
    assert read_log(tmp_path / "straight")[-1]["disc_loss"] != ""
    assert any(row["codebook_restarts"] not in ("", "0") for row in read_log(tmp_path / "straight"))


def test_dead_codes_restart_on_encoder_outputs_and_used_codes_stay():
    from training.distributed import DistInfo
    from training.train_vq import restart_dead_codes

    torch.manual_seed(0)
    vq = VQModel(vq_preset("vq16-test"))
    vq.quantize.codebook_used.fill_(5)  # lately only code 5 was used
    before = vq.quantize.embedding.weight.clone()
    latents = torch.randn(2, 4, 3, 3)
    moved = restart_dead_codes(vq, latents, DistInfo(0, 1, 0, torch.device("cpu")))
    after = vq.quantize.embedding.weight
    assert moved == 63 and torch.equal(after[5], before[5])
    candidates = torch.nn.functional.normalize(latents.permute(0, 2, 3, 1).reshape(-1, 4), dim=-1)
    nearest = torch.cdist(after[[0, 1, 63]], candidates).min(dim=1).values
    assert bool((nearest < 0.1).all())  # each restarted code sits on (near) an encoder output


def test_fine_tune_from_a_llamagen_layout_checkpoint_decoder_only_keeps_the_codes(data, tmp_path):
    torch.manual_seed(1)
    upstream = VQModel(vq_preset("vq16-test"))
    torch.save({"model": upstream.state_dict(), "optimizer": {}, "steps": 1000}, tmp_path / "vq_ds16_c2i.pt")
    seen = {}

    def keep(step, model):
        seen["model"] = model

    train_vq(
        _config(
            data,
            tmp_path / "run",
            steps=2,
            disc_start=100,
            init_llamagen=str(tmp_path / "vq_ds16_c2i.pt"),
            train="decoder",
        ),
        on_step=keep,
    )
    tuned = seen["model"]
    for prefix in ("encoder.", "quant_conv.", "quantize.embedding"):
        for key, value in upstream.state_dict().items():
            if key.startswith(prefix):
                assert torch.equal(value, tuned.state_dict()[key]), key
    changed = [
        k
        for k, v in upstream.state_dict().items()
        if k.startswith("decoder.") and not torch.equal(v, tuned.state_dict()[k])
    ]
    assert changed
    x = torch.rand(1, 3, 64, 64) * 2 - 1
    assert torch.equal(upstream.eval().encode(x), tuned.eval().encode(x))


def test_a_checkpoint_of_another_shape_is_a_one_line_error(data, tmp_path):
    torch.save({"model": VQModel(vq_preset("vq16-test")).state_dict()}, tmp_path / "small.pt")
    with pytest.raises(JobError, match="init-llamagen") as info:
        train_vq(_config(data, tmp_path / "run", preset="vq16-cpu", init_llamagen=str(tmp_path / "small.pt")))
    assert "\n" not in str(info.value)
    with pytest.raises(JobError, match="needs pretrained"):
        train_vq(_config(data, tmp_path / "run2", train="decoder"))


def test_warm_start_from_a_bundle_folds_rgb_to_gray_and_kmeans_a_smaller_codebook(data, tmp_path):
    """A gray, 16-code tokenizer seeded from an RGB 64-code bundle: the same function of a gray image before the
    codebook (first conv folded), every new code in use, and the run goes on from there."""
    import dataclasses

    from tests.training_fixtures import make_vq_bundle
    from training.vq_init import warm_start

    source = load_bundle(make_vq_bundle(tmp_path / "src"), tokenizer_only_ok=True).vq
    target = VQModel(dataclasses.replace(source.config, in_channels=1, codebook_size=16))
    rng = torch.Generator().manual_seed(0)
    gray = torch.randint(0, 256, (4, 64, 64, 1), generator=rng, dtype=torch.uint8).expand(-1, -1, -1, 3).numpy()
    report = warm_start(target, source, gray, iterations=5)
    assert report["folded"] == 3 and "k-means" in report["codebook"]
    x = torch.from_numpy(gray.copy()).permute(0, 3, 1, 2).float() / 127.5 - 1
    with torch.no_grad():
        assert torch.allclose(target.encoder(x.mean(1, keepdim=True)), source.encoder(x), atol=1e-4)
        codes = target.encode(x)
    assert codes.max() < 16 and target.quantize.usage() == 1.0
    assert target.decode_codes(codes).shape == (4, 3, 64, 64)

    bundle = train_vq(
        _config(data, tmp_path / "run", steps=2, init_bundle=str(tmp_path / "src"), disc_start=100),
        command="defectforge train vq ...",
    )
    assert load_bundle(bundle, tokenizer_only_ok=True).vq.config == vq_preset("vq16-test")
    with pytest.raises(JobError, match="init-bundle") as info:
        train_vq(_config(data, tmp_path / "run2", preset="vq8-cpu", init_bundle=str(tmp_path / "src")))
    assert "\n" not in str(info.value)


def test_warm_start_from_a_vq_weights_file_of_the_same_preset_starts_from_exactly_those_weights(data, tmp_path):
    """A campaign commits only its tokenizer's bf16 weights: `--init-bundle FILE` starts a run from them (every
    weight and the codebook copied, nothing re-drawn), on any machine."""
    from safetensors.torch import load_file, save_file

    first = train_vq(_config(data, tmp_path / "first", steps=2, disc_start=100))
    weights = {k: v.to(torch.bfloat16) for k, v in load_file(str(Path(first) / "vq.safetensors")).items()}
    save_file(weights, str(tmp_path / "vq-weights.safetensors"))

    seen: list[dict[str, torch.Tensor]] = []
    train_vq(
        _config(data, tmp_path / "next", steps=1, disc_start=100, init_bundle=str(tmp_path / "vq-weights.safetensors")),
        on_step=lambda step, vq: seen.append({k: v.clone() for k, v in vq.state_dict().items()}) if not seen else None,
    )
    # after one step at lr 2e-3 the weights moved a little from the file's, and the codebook is the file's own
    for key in ("quantize.embedding.weight", "encoder.conv_in.weight", "decoder.conv_out.weight"):
        assert torch.allclose(seen[0][key].float(), weights[key].float(), atol=0.02), key
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(ConfigError, match="bundle folder or a VQ .safetensors"):
        _config(data, tmp_path / "bad", init_bundle=str(tmp_path / "notes.txt")).validate()


def test_a_vq_weights_file_with_another_codebook_and_channels_seeds_a_run_by_kmeans_and_folding(data, tmp_path):
    """Campaign weights of a sibling preset (a gray 128-code file) start a run of another codebook size and channel
    count: the encoder's weights are the file's (folded gray -> RGB), the codebook a k-means of their latents."""
    import dataclasses

    from safetensors.torch import save_file

    source = VQModel(dataclasses.replace(vq_preset("vq16-test"), in_channels=1, codebook_size=128))
    weights = {k: v.to(torch.bfloat16) for k, v in source.state_dict().items()}
    save_file(weights, str(tmp_path / "gray128.safetensors"))

    seen: list[dict[str, torch.Tensor]] = []
    train_vq(
        _config(data, tmp_path / "run", steps=1, disc_start=100, init_bundle=str(tmp_path / "gray128.safetensors")),
        on_step=lambda step, vq: seen.append({k: v.clone() for k, v in vq.state_dict().items()}) if not seen else None,
    )
    assert seen[0]["quantize.embedding.weight"].shape == (64, 4)
    folded = weights["encoder.conv_in.weight"].float().expand(-1, 3, -1, -1) / 3
    assert torch.allclose(seen[0]["encoder.conv_in.weight"], folded, atol=0.02)
    assert torch.allclose(seen[0]["encoder.conv_out.weight"], weights["encoder.conv_out.weight"].float(), atol=0.02)


def test_a_vq_trains_with_the_features_of_a_defect_classifier_as_its_perceptual_loss(data, tmp_path):
    from core.scoring import SmallCNN, save_critic

    save_critic(tmp_path / "judge.safetensors", SmallCNN(len(CLASSES)), CLASSES, {"heldout_accuracy": 1.0})
    cfg = _config(
        data,
        tmp_path / "run",
        steps=2,
        disc_start=100,
        perceptual="critic",
        perceptual_critic=str(tmp_path / "judge.safetensors"),
    )
    bundle = train_vq(cfg)
    rows = read_log(tmp_path / "run")
    assert rows and all(float(row["perceptual_loss"]) > 0 for row in rows)
    assert "critic" in (Path(bundle) / "model.yaml").read_text()
    with pytest.raises(ConfigError, match="needs --perceptual-critic"):
        _config(data, tmp_path / "run2", perceptual="critic").validate()
