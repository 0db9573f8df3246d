"""Perceptual loss offline: LPIPS from VGG16 weights found on disk, a logged 1 - SSIM fallback when there are none."""

from __future__ import annotations

import logging

import pytest
import torch

from training import perceptual
from training.metrics import edge_iou, psnr, seam_score, ssim
from training.perceptual import PerceptualError, PerceptualLoss

# torchvision's VGG16 `features` conv layers: (index, in, out)
VGG16_CONVS = [
    (0, 3, 64),
    (2, 64, 64),
    (5, 64, 128),
    (7, 128, 128),
    (10, 128, 256),
    (12, 256, 256),
    (14, 256, 256),
    (17, 256, 512),
    (19, 512, 512),
    (21, 512, 512),
    (24, 512, 512),
    (26, 512, 512),
    (28, 512, 512),
]


@pytest.fixture()
def no_vgg(tmp_path, monkeypatch):
    monkeypatch.delenv(perceptual.ENV_VAR, raising=False)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))


def test_without_vgg_weights_auto_falls_back_to_ssim_and_says_so(no_vgg, caplog):
    with caplog.at_level(logging.WARNING):
        loss = PerceptualLoss("auto")
    assert loss.mode == "ssim"
    assert "falling back to 1 - SSIM" in caplog.text
    a = torch.rand(2, 3, 32, 32) * 2 - 1
    assert float(loss(a, a)) == pytest.approx(0.0, abs=1e-5)
    assert float(loss(a, -a)) > 0.5
    with pytest.raises(PerceptualError, match="VGG16 weights"):
        PerceptualLoss("lpips")
    assert float(PerceptualLoss("none")(a, -a)) == 0.0


def test_lpips_is_built_from_local_vgg_weights_only(tmp_path, monkeypatch):
    generator = torch.Generator().manual_seed(0)
    state = {}
    for index, cin, cout in VGG16_CONVS:
        state[f"features.{index}.weight"] = torch.randn(cout, cin, 3, 3, generator=generator) * 0.05
        state[f"features.{index}.bias"] = torch.zeros(cout)
    weights = tmp_path / "vgg16-397923af.pth"
    torch.save(state, weights)
    monkeypatch.setenv(perceptual.ENV_VAR, str(weights))
    loss = PerceptualLoss("auto")
    assert loss.mode == "lpips"
    conv0 = loss.lpips.net.slice1[0]
    assert torch.equal(conv0.weight, state["features.0.weight"])
    assert not any(p.requires_grad for p in loss.lpips.parameters())
    a = torch.rand(2, 3, 32, 32) * 2 - 1
    b = torch.rand(2, 3, 32, 32) * 2 - 1
    assert float(loss(a, a)) == pytest.approx(0.0, abs=1e-6)
    assert float(loss(a, b)) > 0
    assert loss.pairwise(a, b).shape == (2,)


def test_image_measures_behave_at_their_ends():
    import numpy as np

    a = torch.rand(1, 3, 32, 32)
    assert float(ssim(a, a)) == pytest.approx(1.0, abs=1e-5)
    assert float(psnr(a, a.clamp(0, 1))) > 90
    img = np.zeros((32, 32, 3), np.uint8)
    img[8:24, 8:24] = 255
    assert edge_iou(img, img) == 1.0
    assert edge_iou(img, np.zeros_like(img)) == 0.0
    region = np.zeros((64, 64), bool)
    region[16:48, 16:48] = True
    flat = np.full((64, 64, 3), 128, np.uint8)
    rng = np.random.default_rng(0)
    textured = np.clip(flat + rng.normal(0, 10, flat.shape), 0, 255).astype(np.uint8)
    seamed = textured.copy()
    seamed[region] = np.clip(seamed[region].astype(int) + 60, 0, 255)
    assert seam_score(seamed, region) > 2 * seam_score(textured, region)


def test_critic_mode_compares_a_defect_classifier_s_feature_maps_and_trains_nothing_of_it(tmp_path):
    """Where LPIPS's VGG is not on disk, a classifier trained on the user's own surfaces gives the perceptual
    distance: zero for the same image, larger the more the picture changes, and gradients reach the image only."""
    from core.scoring import SmallCNN, save_critic

    torch.manual_seed(0)
    net = SmallCNN(2)
    for module in net.modules():  # batch norm with statistics of its own, as a trained classifier has
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.1, 0.1)
            module.running_var.uniform_(0.5, 1.5)
    save_critic(tmp_path / "judge.safetensors", net, ["crazing", "patches"], {"heldout_accuracy": 1.0})
    loss = PerceptualLoss("critic", tmp_path / "judge.safetensors")
    assert loss.mode == "critic" and len(loss.critic.stages) == 4
    assert not any(p.requires_grad for p in loss.parameters())
    loss.train()
    assert not loss.critic.training  # frozen batch norm, whatever the training loop asks

    a = (torch.rand(2, 3, 64, 64) * 2 - 1).requires_grad_(True)
    near, far = (a + 0.05 * torch.randn_like(a)).detach(), torch.rand(2, 3, 64, 64) * 2 - 1
    with torch.no_grad():
        assert float(loss(a, a)) == pytest.approx(0.0, abs=1e-6)
        assert 0 < float(loss(a, near)) < float(loss(a, far))
    loss(a, far).backward()
    assert a.grad is not None and float(a.grad.abs().sum()) > 0
    assert loss.pairwise(a.detach(), far).shape == (2,)


def test_critic_mode_without_a_usable_classifier_is_one_line(tmp_path):
    with pytest.raises(PerceptualError, match="needs --perceptual-critic"):
        PerceptualLoss("critic")
    (tmp_path / "x.safetensors").write_bytes(b"not a file")
    with pytest.raises(PerceptualError, match="not a DefectForge classifier") as info:
        PerceptualLoss("critic", tmp_path / "x.safetensors")
    assert "\n" not in str(info.value)
