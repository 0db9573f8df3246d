import json

import pytest
import torch
from safetensors.torch import load_file

from core.config import VQConfig, vq_preset
from core.vq import VQModel, load_llamagen_checkpoint
from tests.conftest import FIXTURES
from tests.parity import fill_deterministic

LAYOUT = json.loads((FIXTURES / "llamagen_vq16_state_dict.json").read_text())
META = json.loads((FIXTURES / "reference_meta.json").read_text())["llamagen_vq16"]


def _meta_model(config: VQConfig) -> VQModel:
    with torch.device("meta"):
        return VQModel(config)


def test_vq16_state_dict_layout_equals_llamagen():
    state = _meta_model(vq_preset("vq16")).state_dict()
    assert {k: list(v.shape) for k, v in state.items()} == LAYOUT
    model = _meta_model(vq_preset("vq16"))
    assert sum(p.numel() for p in model.parameters()) == META["counts"]["params_unique"]
    assert sum(p.numel() for p in model.decoder.parameters()) == META["counts"]["decoder_params"]


@pytest.mark.parametrize("entry", ["ema", "model"])
def test_official_checkpoint_loads_strictly_preferring_ema(tmp_path, entry):
    state = {k: torch.zeros(shape) for k, shape in LAYOUT.items()}
    checkpoint = {entry: state, "optimizer": {"lr": 1e-4}}
    if entry == "ema":  # both present: ema must win
        checkpoint["model"] = {k: torch.ones(shape) for k, shape in LAYOUT.items()}
    path = tmp_path / "vq_ds16_c2i.pt"
    torch.save(checkpoint, path)
    model = load_llamagen_checkpoint(path)
    assert float(model.quant_conv.weight.detach().abs().sum()) == 0.0


def test_checkpoint_with_wrong_layout_is_refused_naming_keys(tmp_path):
    state = {k: torch.zeros(shape) for k, shape in LAYOUT.items()}
    del state["quant_conv.bias"]
    path = tmp_path / "broken.pt"
    torch.save({"model": state}, path)
    with pytest.raises(RuntimeError, match="quant_conv.bias"):
        load_llamagen_checkpoint(path)


def test_checkpoint_that_needs_unpickling_code_is_refused(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"model": {"x": torch.zeros(1)}, "obj": VQConfig()}, path)
    with pytest.raises(ValueError, match="weights-only"):
        load_llamagen_checkpoint(path)


def test_forward_equals_upstream_llamagen_on_the_same_weights():
    ref = load_file(FIXTURES / "upstream_forward.safetensors")
    model = VQModel(VQConfig(ch=128, ch_mult=(1, 2), z_channels=16, codebook_size=32, codebook_dim=4)).eval()
    fill_deterministic(model, 0.05)
    with torch.no_grad():
        codes = model.encode(ref["vq.images"])
        decoded = model.decode_codes(codes)
    assert torch.equal(codes, ref["vq.codes"])
    torch.testing.assert_close(decoded, ref["vq.decoded"], atol=1e-5, rtol=1e-4)


def test_encode_decode_shapes_and_window_decode():
    torch.manual_seed(0)
    model = VQModel(vq_preset("vq16-test")).eval()
    images = torch.rand(2, 3, 64, 96) * 2 - 1
    with torch.no_grad():
        codes = model.encode(images)
        assert codes.shape == (2, 4, 6) and codes.dtype == torch.long
        full = model.decode_codes(codes)
        assert full.shape == images.shape
        whole = model.decode_window(codes, 0, 0, 4, 6)
        torch.testing.assert_close(whole, full)
        part = model.decode_window(codes, 1, 2, 2, 3, margin=1)
        assert part.shape == (2, 3, 32, 48)


def test_encode_rejects_sizes_not_divisible_by_the_downsampling():
    model = VQModel(vq_preset("vq16-test"))
    with pytest.raises(ValueError, match="multiples of 16"):
        model.encode(torch.zeros(1, 3, 40, 32))


def test_training_forward_gives_losses_and_gradients():
    torch.manual_seed(0)
    model = VQModel(vq_preset("vq16-test")).train()
    out = model(torch.rand(2, 3, 32, 32) * 2 - 1)
    loss = (out.reconstruction**2).mean() + out.vq_loss + out.commit_loss
    loss.backward()
    assert model.encoder.conv_in.weight.grad is not None  # straight-through estimator reaches the encoder
    assert 0 < model.quantize.usage() <= 1


def test_a_gray_tokenizer_takes_and_gives_rgb_tensors():
    """in_channels 1: it sees the channel mean, so any RGB caller works, and returns three equal channels."""
    import dataclasses

    from core.config import vq_preset

    vq = VQModel(dataclasses.replace(vq_preset("vq16-test"), in_channels=1)).eval()
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    with torch.no_grad():
        out = vq(x)
        same = vq(x.mean(1, keepdim=True).expand(-1, 3, -1, -1))
    assert out.reconstruction.shape == (2, 3, 32, 32)
    assert torch.equal(out.reconstruction[:, 0], out.reconstruction[:, 2])
    assert torch.equal(out.codes, same.codes)
    assert vq.encoder.conv_in.in_channels == 1 and vq.decoder.conv_out.out_channels == 1
