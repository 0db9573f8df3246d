"""The Halton-MaskGIT transformer: a DiT-style bidirectional transformer over VQ tokens, class-conditioned.

AdaLN-zero blocks, RMSNorm pre-norm, QK-RMSNorm, SwiGLU, one register token, head tied to the token
embedding, a null class row for classifier-free guidance. Parameter names match upstream so its
checkpoints load with strict=True.
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from core.config import TransformerConfig

log = logging.getLogger(__name__)


def modulate(x: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    return x * (1 + scale.unsqueeze(1)) + shift.unsqueeze(1)


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float = 1e-5, weight: bool = True, bias: bool = False):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim)) if weight else None
        self.bias = nn.Parameter(torch.zeros(dim)) if bias else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        xf = x.float()
        out = (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)).type_as(x)
        if self.weight is not None:
            out = self.weight * out
        if self.bias is not None:
            out = out + self.bias
        return out


class QKNorm(nn.Module):
    """Parameter-free RMSNorm over the whole query and key vectors (all heads at once)."""

    def __init__(self, dim: int):
        super().__init__()
        self.query_norm = RMSNorm(dim, weight=False)
        self.key_norm = RMSNorm(dim, weight=False)

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.query_norm(q).to(v), self.key_norm(k).to(v)


class Attention(nn.Module):
    def __init__(self, dim: int, heads: int, dropout: float = 0.0):
        super().__init__()
        self.heads, self.head_dim, self.dropout = heads, dim // heads, dropout
        inner = heads * self.head_dim  # may be < dim when heads does not divide dim (upstream 'small')
        self.wq = nn.Linear(dim, inner, bias=False)
        self.wk = nn.Linear(dim, inner, bias=False)
        self.wv = nn.Linear(dim, inner, bias=False)
        self.wo = nn.Linear(inner, dim, bias=False)
        self.qk_norm = QKNorm(inner)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, _ = x.shape
        q, k, v = self.wq(x), self.wk(x), self.wv(x)
        q, k = self.qk_norm(q, k, v)
        q, k, v = (t.view(b, n, self.heads, self.head_dim).transpose(1, 2) for t in (q, k, v))
        out = F.scaled_dot_product_attention(q, k, v, dropout_p=self.dropout if self.training else 0.0)
        return self.wo(out.transpose(1, 2).reshape(b, n, -1))


class FeedForward(nn.Module):
    """SwiGLU; hidden width 2/3 of mlp_dim rounded up to a multiple of 256."""

    def __init__(self, dim: int, hidden: int, dropout: float = 0.0):
        super().__init__()
        self.dropout = dropout
        self.w1 = nn.Linear(dim, hidden, bias=False)
        self.w2 = nn.Linear(hidden, dim, bias=False)
        self.w3 = nn.Linear(dim, hidden, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.silu(self.w1(x)) * self.w3(x)
        if self.dropout > 0 and self.training:
            h = F.dropout(h, self.dropout)
        return self.w2(h)


class Block(nn.Module):
    """AdaLN-zero transformer block: the class embedding sets shift, scale and gate of both branches."""

    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        d = cfg.hidden_dim
        self.mlp = nn.Sequential(nn.SiLU(), nn.Linear(d, 6 * d))
        self.ln1 = RMSNorm(d)
        self.attn = Attention(d, cfg.heads, cfg.dropout)
        self.ln2 = RMSNorm(d)
        self.ff = FeedForward(d, cfg.ffn_hidden, cfg.dropout)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        shift1, scale1, gate1, shift2, scale2, gate2 = self.mlp(cond).chunk(6, dim=1)
        x = x + gate1.unsqueeze(1) * self.attn(modulate(self.ln1(x), shift1, scale1))
        return x + gate2.unsqueeze(1) * self.ff(modulate(self.ln2(x), shift2, scale2))


class TransformerEncoder(nn.Module):
    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.layers = nn.ModuleList(Block(cfg) for _ in range(cfg.depth))

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        for block in self.layers:
            x = block(x, cond)
        return x


class AdaNorm(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.norm_final = RMSNorm(dim, weight=True, bias=True)
        self.mlp = nn.Sequential(nn.SiLU(), nn.Linear(dim, 2 * dim))

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        shift, scale = self.mlp(cond).chunk(2, dim=1)
        return modulate(self.norm_final(x), shift, scale)


class MaskTransformer(nn.Module):
    """Predicts codebook logits for every token of a (partially masked) code grid, given a class."""

    def __init__(self, config: TransformerConfig | None = None):
        super().__init__()
        cfg = self.config = config or TransformerConfig()
        cfg.validate()
        d = cfg.hidden_dim
        self.cls_emb = nn.Embedding(cfg.num_classes + 1, d)  # last row: the null class for CFG
        self.tok_emb = nn.Embedding(cfg.codebook_size + 1, d)  # last row: the mask token
        self.pos_emb = nn.Embedding(cfg.input_size**2, d)
        self.transformer = TransformerEncoder(cfg)
        self.last_norm = AdaNorm(d)
        self.head = nn.Linear(d, cfg.codebook_size + 1)
        self.head.weight = self.tok_emb.weight
        if cfg.register > 0:
            self.reg_tokens = nn.Embedding(cfg.register, d)
        self._init_weights()

    def _init_weights(self) -> None:
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.xavier_uniform_(module.weight)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
        for emb in (self.cls_emb, self.tok_emb, self.pos_emb):
            nn.init.normal_(emb.weight, std=0.02)
        for block in self.transformer.layers:
            nn.init.zeros_(block.mlp[1].weight)
            nn.init.zeros_(block.mlp[1].bias)
        if self.config.register > 0:
            nn.init.normal_(self.reg_tokens.weight, std=0.02)

    def forward(
        self,
        codes: torch.Tensor,
        labels: torch.Tensor,
        drop_label: torch.Tensor | None = None,
        positions: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Logits over codebook + mask token.

        codes: (B, h, w) or (B, N) token ids (mask token = codebook_size); labels: (B,) class ids;
        drop_label: (B,) bool, True -> null class; positions: optional (B, P) flat indices, to compute the
        output head only there (returns (B, P, K+1) instead of (B, N, K+1)).
        """
        cfg = self.config
        b = codes.shape[0]
        x = codes.reshape(b, -1)
        n = x.shape[1]
        if n != cfg.input_size**2:
            raise ValueError(f"model expects {cfg.input_size}x{cfg.input_size} tokens, got {n}")
        if drop_label is not None:
            labels = torch.where(drop_label, torch.full_like(labels, cfg.null_class), labels)
        cond = self.cls_emb(labels)
        x = self.tok_emb(x) + self.pos_emb.weight[:n]
        if cfg.register > 0:
            x = torch.cat([x, self.reg_tokens.weight.unsqueeze(0).expand(b, -1, -1)], dim=1)
        x = self.transformer(x, cond)[:, :n]
        if positions is not None:
            x = torch.gather(x, 1, positions.unsqueeze(-1).expand(-1, -1, x.shape[-1]))
        return self.head(self.last_norm(x, cond))


def _strip_wrappers(state: dict) -> dict:
    return {k.replace("module.", "").replace("_orig_mod.", ""): v for k, v in state.items()}


def read_upstream_state_dict(path: Path) -> dict:
    """The `model_state_dict` of an upstream Halton-MaskGIT .pth, loaded with weights_only=True."""
    from core.vq import read_checkpoint_state_dict

    return _strip_wrappers(read_checkpoint_state_dict(path, ("model_state_dict", "model", "ema")))


def init_from_upstream(config: TransformerConfig, state: dict) -> MaskTransformer:
    """A model for `config` (our class count) seeded with an upstream checkpoint's weights.

    Every weight loads except the class embedding, which is re-made for our classes plus the null row;
    the upstream null-class row seeds ours, so unconditional behaviour starts where upstream's was.
    """
    model = MaskTransformer(config)
    state = dict(_strip_wrappers(state))
    upstream_cls = state.pop("cls_emb.weight")
    own = model.state_dict()
    mismatched = [k for k, v in state.items() if k in own and tuple(own[k].shape) != tuple(v.shape)]
    if mismatched:
        k = mismatched[0]
        raise ValueError(
            f"upstream weight {k} has shape {tuple(state[k].shape)}, this config needs {tuple(own[k].shape)}"
        )
    missing, unexpected = model.load_state_dict(state, strict=False)
    if unexpected or set(missing) != {"cls_emb.weight"}:
        raise ValueError(f"upstream checkpoint does not fit: missing {missing[:5]}, unexpected {unexpected[:5]}")
    with torch.no_grad():
        if upstream_cls.shape[1] == config.hidden_dim:
            model.cls_emb.weight[-1].copy_(upstream_cls[-1])
    return model


def init_from_weights(config: TransformerConfig, state: dict[str, torch.Tensor]) -> MaskTransformer:
    """A model for `config` seeded with our own transformer weights (a bundle's, or a campaign run's) trained on
    another token grid: the positional embeddings are resampled to this grid (bicubic, as a ViT's are when its
    input size changes); every other weight must fit as it is (same width, depth, classes and codebook)."""
    model = MaskTransformer(config)
    state = {key: value.float() for key, value in state.items()}
    for key, partner in (("head.weight", "tok_emb.weight"), ("tok_emb.weight", "head.weight")):
        if key not in state and partner in state:  # the head is tied to the token embedding: files keep one
            state[key] = state[partner]
    own = model.state_dict()
    pos = state.get("pos_emb.weight")
    if pos is not None and pos.shape != own["pos_emb.weight"].shape:
        side = round(pos.shape[0] ** 0.5)
        if side * side != pos.shape[0] or pos.shape[1] != own["pos_emb.weight"].shape[1]:
            raise ValueError(f"positional embeddings of shape {tuple(pos.shape)} are not a square grid of this width")
        grid = pos.t().reshape(1, -1, side, side)
        size = config.input_size
        state["pos_emb.weight"] = F.interpolate(grid, size=(size, size), mode="bicubic", align_corners=False)[0]
        state["pos_emb.weight"] = state["pos_emb.weight"].reshape(pos.shape[1], -1).t().contiguous()
    for key, value in state.items():
        if key in own and tuple(own[key].shape) != tuple(value.shape):
            raise ValueError(f"weight {key} has shape {tuple(value.shape)}, this config needs {tuple(own[key].shape)}")
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ValueError(f"the weights do not fit: missing {missing[:3]}, unexpected {unexpected[:3]}")
    return model
