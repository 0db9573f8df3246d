"""Perceptual distance: LPIPS (VGG) when its weights are on disk, a logged, documented fallback otherwise.

LPIPS needs two sets of weights. Its linear layers ship inside the `lpips` package. Its VGG16 trunk is
torchvision's ImageNet model, normally downloaded to the torch hub cache; machines without internet do not
have it. We never download: we look for `vgg16-397923af.pth` in $DEFECTFORGE_VGG16 (a file), then the torch hub
cache (`torch.hub.get_dir()/checkpoints`). Both are read with `torch.load(weights_only=True)`.

Modes: `lpips` (fail if the VGG weights are missing), `ssim` (1 - SSIM: structure, cheap, no weights),
`critic` (LPIPS's recipe on the feature maps of a defect classifier trained on the user's own surfaces: a
bundle's `classifier.safetensors` or an eval's `judge.safetensors`; VGG's ImageNet features are not needed, and a
network that learned steel grain and defect shapes is what the tokenizer should keep), `none`, and `auto` =
lpips when the weights are found, else ssim with a warning. Measure a tokenizer trained with `critic` with
another judge than the one it trained against (eval trains its own unless given --judge), or the eval's class
fidelity and KID would be scored in the space the tokenizer was fitted to.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path

import torch
from torch import nn

from training.metrics import ssim

log = logging.getLogger(__name__)

VGG16_FILE = "vgg16-397923af.pth"
ENV_VAR = "DEFECTFORGE_VGG16"
MODES = ("auto", "lpips", "ssim", "critic", "none")


class PerceptualError(RuntimeError):
    """LPIPS was asked for explicitly but cannot be built."""


def find_vgg16_weights() -> Path | None:
    candidates = []
    if os.environ.get(ENV_VAR):
        candidates.append(Path(os.environ[ENV_VAR]))
    candidates.append(Path(torch.hub.get_dir()) / "checkpoints" / VGG16_FILE)
    return next((p for p in candidates if p.is_file()), None)


def build_lpips(vgg_weights: Path) -> nn.Module:
    """lpips.LPIPS(net='vgg') with its trunk and linear layers filled from local files only."""
    import lpips

    with warnings.catch_warnings():  # lpips passes torchvision's deprecated `pretrained=` argument
        warnings.simplefilter("ignore")
        model = lpips.LPIPS(net="vgg", pretrained=False, pnet_rand=True, verbose=False)
    vgg = torch.load(vgg_weights, map_location="cpu", weights_only=True)
    if isinstance(vgg, dict) and "state_dict" in vgg:
        vgg = vgg["state_dict"]
    loaded = 0
    for slice_module in (model.net.slice1, model.net.slice2, model.net.slice3, model.net.slice4, model.net.slice5):
        for index, layer in slice_module.named_children():  # children keep torchvision's feature indices
            if isinstance(layer, nn.Conv2d):
                layer.weight.data.copy_(vgg[f"features.{index}.weight"])
                layer.bias.data.copy_(vgg[f"features.{index}.bias"])
                loaded += 1
    if loaded != 13:
        raise PerceptualError(f"{vgg_weights}: expected 13 VGG16 conv layers, loaded {loaded}")
    lin_path = Path(lpips.__file__).parent / "weights" / "v0.1" / "vgg.pth"
    model.load_state_dict(torch.load(lin_path, map_location="cpu", weights_only=True), strict=False)
    for p in model.parameters():
        p.requires_grad_(False)
    return model.eval()


class CriticFeatures(nn.Module):
    """LPIPS's distance without its learned linear layers, on a frozen classifier's feature maps: each stage's
    activations unit-normalised over channels, squared differences averaged over space, summed over stages."""

    def __init__(self, stages: list[nn.Module]):
        super().__init__()
        self.stages = nn.ModuleList(stages)
        for p in self.parameters():
            p.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> CriticFeatures:  # frozen: batch norm keeps its running statistics
        return super().train(False)

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """(B,) distances of (B, 3, H, W) images in [-1, 1]."""
        total = a.new_zeros(a.shape[0])
        for stage in self.stages:
            a, b = stage(a), stage(b)
            na = a / (a.pow(2).sum(1, keepdim=True).sqrt() + 1e-10)
            nb = b / (b.pow(2).sum(1, keepdim=True).sqrt() + 1e-10)
            total = total + (na - nb).pow(2).sum(1).mean(dim=(1, 2))
        return total


def build_critic_features(path: Path) -> CriticFeatures:
    """The conv stages of a DefectForge classifier file (never unpickled: safetensors)."""
    from core.scoring import CriticError, load_critic

    try:
        features = load_critic(path).model.features
    except CriticError as exc:
        raise PerceptualError(f"--perceptual-critic: {exc}") from exc
    layers = list(features.children())
    stages, current = [], []
    for layer in layers:  # stage = conv, norm, relu; the pool opens the next stage (LPIPS taps before pooling)
        if isinstance(layer, nn.MaxPool2d) and current:
            stages.append(nn.Sequential(*current))
            current = [layer]
        else:
            current.append(layer)
    if any(not isinstance(layer, nn.MaxPool2d) for layer in current):  # a last pool alone adds nothing
        stages.append(nn.Sequential(*current))
    return CriticFeatures(stages)


class PerceptualLoss(nn.Module):
    """Distance between (B, 3, H, W) images in [-1, 1]; `mode` says which one is really used. `critic`: the
    classifier file whose features the `critic` mode compares."""

    def __init__(self, mode: str = "auto", critic: str | Path | None = None):
        super().__init__()
        if mode not in MODES:
            raise PerceptualError(f"unknown perceptual mode {mode!r}; choose one of {', '.join(MODES)}")
        self.lpips: nn.Module | None = None
        self.critic: CriticFeatures | None = None
        if mode == "critic":
            if not critic:
                raise PerceptualError("--perceptual critic needs --perceptual-critic (a classifier or judge file)")
            self.critic = build_critic_features(Path(critic))
            log.info("perceptual loss: features of the classifier %s", critic)
        if mode in ("auto", "lpips"):
            weights = find_vgg16_weights()
            if weights is not None:
                self.lpips = build_lpips(weights)
                mode = "lpips"
                log.info("perceptual loss: LPIPS (VGG16 trunk from %s)", weights)
            elif mode == "lpips":
                hub = Path(torch.hub.get_dir()) / "checkpoints"
                raise PerceptualError(
                    f"LPIPS needs torchvision's VGG16 weights ({VGG16_FILE}) in {hub} or "
                    f"${ENV_VAR}; none found (use --perceptual ssim or none)"
                )
            else:
                mode = "ssim"
                log.warning(
                    "perceptual loss: VGG16 weights (%s) not found in the torch hub cache or $%s; "
                    "falling back to 1 - SSIM",
                    VGG16_FILE,
                    ENV_VAR,
                )
        self.mode = mode

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """Mean distance over the batch."""
        if self.mode == "lpips":
            return self.lpips(a, b).mean()
        if self.mode == "critic":
            return self.critic(a, b).mean()
        if self.mode == "ssim":
            return 1.0 - ssim((a + 1) / 2, (b + 1) / 2)
        return a.new_zeros(())

    def pairwise(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """Per-pair distances (B,), for diversity measures."""
        if self.mode == "lpips":
            return self.lpips(a, b).flatten()
        if self.mode == "critic":
            return self.critic(a, b)
        return 1.0 - ssim((a + 1) / 2, (b + 1) / 2, per_image=True)
