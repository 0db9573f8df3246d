"""The LlamaGen VQ tokenizer: image <-> grid of codebook indices, state-dict compatible with upstream VQ-16.

One file, top to bottom: building blocks, encoder, decoder, quantizer, the model, and upstream checkpoint loading.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from core.config import VQConfig

log = logging.getLogger(__name__)


def _norm(channels: int, groups: int) -> nn.GroupNorm:
    return nn.GroupNorm(num_groups=min(groups, channels), num_channels=channels, eps=1e-6, affine=True)


class ResnetBlock(nn.Module):
    def __init__(self, in_ch: int, out_ch: int, groups: int, dropout: float = 0.0):
        super().__init__()
        self.norm1 = _norm(in_ch, groups)
        self.conv1 = nn.Conv2d(in_ch, out_ch, 3, padding=1)
        self.norm2 = _norm(out_ch, groups)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(out_ch, out_ch, 3, padding=1)
        self.nin_shortcut = nn.Conv2d(in_ch, out_ch, 1) if in_ch != out_ch else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(self.dropout(F.silu(self.norm2(h))))
        if self.nin_shortcut is not None:
            x = self.nin_shortcut(x)
        return x + h


class AttnBlock(nn.Module):
    """Single-head self-attention over all pixels (1x1 conv projections, as upstream)."""

    def __init__(self, channels: int, groups: int):
        super().__init__()
        self.norm = _norm(channels, groups)
        self.q = nn.Conv2d(channels, channels, 1)
        self.k = nn.Conv2d(channels, channels, 1)
        self.v = nn.Conv2d(channels, channels, 1)
        self.proj_out = nn.Conv2d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        hn = self.norm(x)
        q, k, v = (t.reshape(b, 1, c, h * w).transpose(2, 3) for t in (self.q(hn), self.k(hn), self.v(hn)))
        out = F.scaled_dot_product_attention(q, k, v)  # softmax(q k^T / sqrt(c)) v, same as upstream's bmm
        out = out.transpose(2, 3).reshape(b, c, h, w)
        return x + self.proj_out(out)


class Downsample(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, stride=2, padding=0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.pad(x, (0, 1, 0, 1)))  # asymmetric padding, as upstream


class Upsample(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class Encoder(nn.Module):
    def __init__(self, cfg: VQConfig):
        super().__init__()
        g, levels = cfg.norm_groups, len(cfg.ch_mult)
        self.conv_in = nn.Conv2d(cfg.in_channels, cfg.ch, 3, padding=1)
        self.conv_blocks = nn.ModuleList()
        block_in = cfg.ch
        for level, mult in enumerate(cfg.ch_mult):
            stage = nn.Module()
            stage.res = nn.ModuleList()
            stage.attn = nn.ModuleList()
            block_out = cfg.ch * mult
            for _ in range(cfg.encoder_res_blocks):
                stage.res.append(ResnetBlock(block_in, block_out, g, cfg.dropout))
                block_in = block_out
                if level == levels - 1:
                    stage.attn.append(AttnBlock(block_in, g))
            if level != levels - 1:
                stage.downsample = Downsample(block_in)
            self.conv_blocks.append(stage)
        self.mid = nn.ModuleList(
            [
                ResnetBlock(block_in, block_in, g, cfg.dropout),
                AttnBlock(block_in, g),
                ResnetBlock(block_in, block_in, g, cfg.dropout),
            ]
        )
        self.norm_out = _norm(block_in, g)
        self.conv_out = nn.Conv2d(block_in, cfg.z_channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv_in(x)
        for stage in self.conv_blocks:
            for i, res in enumerate(stage.res):
                h = res(h)
                if len(stage.attn):
                    h = stage.attn[i](h)
            if hasattr(stage, "downsample"):
                h = stage.downsample(h)
        for block in self.mid:
            h = block(h)
        return self.conv_out(F.silu(self.norm_out(h)))


class Decoder(nn.Module):
    def __init__(self, cfg: VQConfig):
        super().__init__()
        g, levels = cfg.norm_groups, len(cfg.ch_mult)
        block_in = cfg.ch * cfg.ch_mult[-1]
        self.conv_in = nn.Conv2d(cfg.z_channels, block_in, 3, padding=1)
        self.mid = nn.ModuleList(
            [
                ResnetBlock(block_in, block_in, g, cfg.dropout),
                AttnBlock(block_in, g),
                ResnetBlock(block_in, block_in, g, cfg.dropout),
            ]
        )
        self.conv_blocks = nn.ModuleList()
        for level in reversed(range(levels)):
            stage = nn.Module()
            stage.res = nn.ModuleList()
            stage.attn = nn.ModuleList()
            block_out = cfg.ch * cfg.ch_mult[level]
            for _ in range(cfg.decoder_res_blocks):
                stage.res.append(ResnetBlock(block_in, block_out, g, cfg.dropout))
                block_in = block_out
                if level == levels - 1:
                    stage.attn.append(AttnBlock(block_in, g))
            if level != 0:
                stage.upsample = Upsample(block_in)
            self.conv_blocks.append(stage)
        self.norm_out = _norm(block_in, g)
        self.conv_out = nn.Conv2d(block_in, cfg.in_channels, 3, padding=1)

    @property
    def last_layer(self) -> torch.Tensor:
        return self.conv_out.weight

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.conv_in(z)
        for block in self.mid:
            h = block(h)
        for stage in self.conv_blocks:
            for i, res in enumerate(stage.res):
                h = res(h)
                if len(stage.attn):
                    h = stage.attn[i](h)
            if hasattr(stage, "upsample"):
                h = stage.upsample(h)
        return self.conv_out(F.silu(self.norm_out(h)))


@dataclass
class QuantizerOutput:
    quantized: torch.Tensor  # (B, dim, h, w), straight-through
    codes: torch.Tensor  # (B, h, w) int64
    vq_loss: torch.Tensor
    commit_loss: torch.Tensor


class VectorQuantizer(nn.Module):
    """Nearest-code quantizer; with l2_norm both latents and codes live on the unit sphere (cosine)."""

    def __init__(self, cfg: VQConfig):
        super().__init__()
        self.size, self.dim = cfg.codebook_size, cfg.codebook_dim
        self.beta, self.l2_norm = cfg.commit_beta, cfg.codebook_l2_norm
        self.embedding = nn.Embedding(self.size, self.dim)
        self.embedding.weight.data.uniform_(-1.0 / self.size, 1.0 / self.size)
        if self.l2_norm:
            self.embedding.weight.data = F.normalize(self.embedding.weight.data, p=2, dim=-1)
        if cfg.codebook_show_usage:
            # Ring buffer of the most recent code indices seen in training; upstream keeps 65,536.
            self.register_buffer("codebook_used", torch.zeros(65536))

    def codebook(self) -> torch.Tensor:
        weight = self.embedding.weight
        return F.normalize(weight, p=2, dim=-1) if self.l2_norm else weight

    def lookup(self, z_flat: torch.Tensor) -> torch.Tensor:
        """Indices of the nearest codes for (N, dim) latents."""
        emb = self.codebook()
        if self.l2_norm:
            z_flat = F.normalize(z_flat, p=2, dim=-1)
        dist = z_flat.pow(2).sum(1, keepdim=True) + emb.pow(2).sum(1) - 2 * z_flat @ emb.t()
        return dist.argmin(dim=1)

    def forward(self, z: torch.Tensor) -> QuantizerOutput:
        b, _, h, w = z.shape
        z = z.permute(0, 2, 3, 1).contiguous()
        if self.l2_norm:
            z = F.normalize(z, p=2, dim=-1)
        codes = self.lookup(z.reshape(-1, self.dim))
        z_q = self.codebook()[codes].view(z.shape)
        if self.training and hasattr(self, "codebook_used"):
            n = min(codes.numel(), self.codebook_used.numel())
            self.codebook_used.copy_(torch.cat([self.codebook_used[n:], codes[-n:].float()]))
        zero = z.new_zeros(())
        vq_loss = torch.mean((z_q - z.detach()) ** 2) if self.training else zero
        commit_loss = self.beta * torch.mean((z_q.detach() - z) ** 2) if self.training else zero
        z_q = z + (z_q - z).detach()
        return QuantizerOutput(z_q.permute(0, 3, 1, 2).contiguous(), codes.view(b, h, w), vq_loss, commit_loss)

    def usage(self) -> float:
        """Share of the codebook seen in the recent training window."""
        if not hasattr(self, "codebook_used"):
            return float("nan")
        return torch.unique(self.codebook_used.long()).numel() / self.size

    def embed(self, codes: torch.Tensor) -> torch.Tensor:
        """(B, h, w) indices -> (B, dim, h, w) code vectors."""
        return self.codebook()[codes].permute(0, 3, 1, 2).contiguous()


@dataclass
class VQOutput:
    reconstruction: torch.Tensor
    codes: torch.Tensor
    vq_loss: torch.Tensor
    commit_loss: torch.Tensor


class VQModel(nn.Module):
    """Images in [-1, 1], (B, 3, H, W) with H, W multiples of `downsample`; codes (B, H/ds, W/ds).

    A gray tokenizer (`in_channels: 1`, for gray steel) takes and gives the same RGB tensors as any other: it
    sees the channel mean and its one output channel is repeated three times, so no caller changes."""

    def __init__(self, config: VQConfig | None = None):
        super().__init__()
        self.config = config or VQConfig()
        self.config.validate()
        self.encoder = Encoder(self.config)
        self.decoder = Decoder(self.config)
        self.quantize = VectorQuantizer(self.config)
        self.quant_conv = nn.Conv2d(self.config.z_channels, self.config.codebook_dim, 1)
        self.post_quant_conv = nn.Conv2d(self.config.codebook_dim, self.config.z_channels, 1)

    @property
    def downsample(self) -> int:
        return self.config.downsample

    def _check_size(self, images: torch.Tensor) -> None:
        ds = self.downsample
        if images.ndim != 4 or images.shape[-2] % ds or images.shape[-1] % ds:
            raise ValueError(f"VQ input must be (B, C, H, W) with H and W multiples of {ds}, got {tuple(images.shape)}")

    def quantize_images(self, images: torch.Tensor) -> QuantizerOutput:
        self._check_size(images)
        if self.config.in_channels == 1 and images.shape[1] != 1:
            images = images.mean(dim=1, keepdim=True)
        return self.quantize(self.quant_conv(self.encoder(images)))

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """Images -> code grid (B, h, w)."""
        return self.quantize_images(images).codes

    def decode_latents(self, quantized: torch.Tensor) -> torch.Tensor:
        pixels = self.decoder(self.post_quant_conv(quantized))
        return pixels.repeat(1, 3, 1, 1) if pixels.shape[1] == 1 else pixels

    def decode_codes(self, codes: torch.Tensor) -> torch.Tensor:
        """Code grid (B, h, w) -> images (B, 3, h*ds, w*ds), unclamped."""
        return self.decode_latents(self.quantize.embed(codes))

    def decode_window(
        self, codes: torch.Tensor, top: int, left: int, height: int, width: int, margin: int = 2
    ) -> torch.Tensor:
        """Decode only tokens [top:top+height, left:left+width] (plus `margin` tokens of context).

        Returns the pixels of that token window. Cheap, for previews: the decoder's global attention
        sees only the window, so values differ slightly from a full decode.
        """
        _, gh, gw = codes.shape
        t0, l0 = max(0, top - margin), max(0, left - margin)
        t1, l1 = min(gh, top + height + margin), min(gw, left + width + margin)
        pixels = self.decode_codes(codes[:, t0:t1, l0:l1])
        ds = self.downsample
        y, x = (top - t0) * ds, (left - l0) * ds
        return pixels[:, :, y : y + height * ds, x : x + width * ds]

    def forward(self, images: torch.Tensor) -> VQOutput:
        q = self.quantize_images(images)
        return VQOutput(self.decode_latents(q.quantized), q.codes, q.vq_loss, q.commit_loss)


def read_checkpoint_state_dict(path: Path, preferred: tuple[str, ...] = ("ema", "model")) -> dict:
    """State dict from an upstream .pt/.pth, loaded without unpickling arbitrary objects."""
    try:
        checkpoint = torch.load(Path(path), map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises UnpicklingError, RuntimeError, EOFError... all mean "not usable"
        raise ValueError(f"{path}: not a loadable weights-only PyTorch checkpoint ({exc})") from exc
    if not isinstance(checkpoint, dict):
        raise ValueError(f"{path}: checkpoint holds a {type(checkpoint).__name__}, not a state dict")
    for key in preferred:
        if key in checkpoint and isinstance(checkpoint[key], dict):
            return checkpoint[key]
    if checkpoint and all(isinstance(v, torch.Tensor) for v in checkpoint.values()):
        return checkpoint
    raise ValueError(
        f"{path}: no {' or '.join(repr(k) for k in preferred)} entry in checkpoint (found {sorted(checkpoint)[:8]})"
    )


def load_llamagen_checkpoint(path: Path, config: VQConfig | None = None) -> VQModel:
    """An official LlamaGen VQ checkpoint (`ema` entry if present, else `model`), loaded with strict=True."""
    model = VQModel(config or VQConfig())
    state = read_checkpoint_state_dict(path, ("ema", "model", "state_dict"))
    state = {k.removeprefix("module."): v for k, v in state.items()}
    model.load_state_dict(state, strict=True)
    log.info("loaded LlamaGen VQ weights from %s", path)
    return model.eval()
