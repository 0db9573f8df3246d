import json

import pytest
import torch
from safetensors.torch import load_file

from core.config import TransformerConfig, transformer_preset
from core.transformer import MaskTransformer, init_from_upstream, read_upstream_state_dict
from tests.conftest import FIXTURES
from tests.parity import fill_deterministic

META = json.loads((FIXTURES / "reference_meta.json").read_text())["halton_presets"]


def _layout(name):
    return json.loads((FIXTURES / f"halton_maskgit_{name}_state_dict.json").read_text())


@pytest.mark.parametrize("name", ["tiny", "small"])
def test_state_dict_layout_equals_upstream(name):
    with torch.device("meta"):
        model = MaskTransformer(transformer_preset(name))
    assert {k: list(v.shape) for k, v in model.state_dict().items()} == _layout(name)
    assert sum(p.numel() for p in model.parameters()) == META[f"{name}_16x16"]["params_unique"]
    assert model.head.weight is model.tok_emb.weight


def test_upstream_tiny_checkpoint_loads_strictly(tmp_path):
    state = {k: torch.randn(shape) * 0.01 for k, shape in _layout("tiny").items()}
    state["head.weight"] = state["tok_emb.weight"]
    path = tmp_path / "current.pth"
    torch.save(
        {
            "iter": 10,
            "global_epoch": 1,
            "model_state_dict": {f"module.{k}": v for k, v in state.items()},
            "optimizer_state_dict": None,
        },
        path,
    )
    model = MaskTransformer(transformer_preset("tiny"))
    model.load_state_dict(read_upstream_state_dict(path), strict=True)
    torch.testing.assert_close(model.pos_emb.weight, state["pos_emb.weight"])


def test_upstream_checkpoint_seeds_a_model_with_our_class_count():
    up = MaskTransformer(transformer_preset("test", num_classes=1000))
    ours = init_from_upstream(transformer_preset("test", num_classes=6), up.state_dict())
    assert ours.cls_emb.weight.shape == (7, 64)
    torch.testing.assert_close(ours.cls_emb.weight[-1], up.cls_emb.weight[-1])  # null row carried over
    torch.testing.assert_close(ours.transformer.layers[1].ff.w2.weight, up.transformer.layers[1].ff.w2.weight)
    assert ours.head.weight is ours.tok_emb.weight


@pytest.mark.parametrize("tag,hd,heads,cb,ncls,size", [("a", 96, 3, 64, 5, 4), ("b", 100, 3, 50, 4, 3)])
def test_logits_equal_upstream_forward_on_the_same_weights(tag, hd, heads, cb, ncls, size):
    """Reference logits come from upstream Network/transformer.py (see tests/parity.py for how)."""
    ref = load_file(FIXTURES / "upstream_forward.safetensors")
    cfg = TransformerConfig(
        input_size=size, hidden_dim=hd, depth=2, heads=heads, mlp_dim=hd * 4, codebook_size=cb, num_classes=ncls
    )
    model = MaskTransformer(cfg).eval()
    fill_deterministic(model, 0.2)
    with torch.no_grad():
        logits = model(ref[f"{tag}.codes"], ref[f"{tag}.labels"], ref[f"{tag}.drop"])
    torch.testing.assert_close(logits, ref[f"{tag}.logits"], atol=1e-5, rtol=1e-5)


def test_head_at_selected_positions_equals_full_logits_there():
    torch.manual_seed(0)
    model = MaskTransformer(transformer_preset("test")).eval()
    codes = torch.randint(0, 65, (2, 16, 16))
    labels = torch.tensor([1, 6])
    positions = torch.tensor([[0, 17, 255], [3, 3, 100]])
    with torch.no_grad():
        full = model(codes, labels)
        some = model(codes, labels, positions=positions)
    torch.testing.assert_close(some, torch.gather(full, 1, positions.unsqueeze(-1).expand(-1, -1, full.shape[-1])))


def test_wrong_grid_size_is_a_clear_error():
    model = MaskTransformer(transformer_preset("test"))
    with pytest.raises(ValueError, match="16x16"):
        model(torch.zeros(1, 8, 8, dtype=torch.long), torch.tensor([0]))
