"""Deterministic weights for upstream-parity checks.

tests/fixtures/upstream_forward.safetensors holds inputs and outputs recorded by running the unmodified
upstream modules (valeoai/Halton-MaskGIT@f61b0a1 Network/transformer.py, FoundationVision/LlamaGen@ce98ec4
tokenizer/tokenizer_image/vq_model.py, fetched with the search tool) after filling every state-dict entry
with `fill_deterministic`. Because both models share key names and shapes, the same fill gives the same
weights in ours, so our forward must reproduce the recorded outputs.
"""

import zlib

import torch


def fill_deterministic(model: torch.nn.Module, scale: float) -> None:
    with torch.no_grad():
        for name, tensor in sorted(model.state_dict().items()):
            generator = torch.Generator().manual_seed(zlib.crc32(name.encode()))
            tensor.copy_(torch.randn(tensor.shape, generator=generator) * scale)
