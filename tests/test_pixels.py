"""Images reach the models and come back through one conversion: [-1, 1], channels first, exact round trip."""

from __future__ import annotations

import numpy as np
import torch

from core.pixels import to_model_tensor, to_uint8


def test_every_gray_level_survives_the_round_trip_through_a_model_tensor():
    levels = np.arange(256, dtype=np.uint8)
    images = np.stack([np.broadcast_to(levels.reshape(16, 16, 1), (16, 16, 3)), np.zeros((16, 16, 3), np.uint8)])
    images[1, 3, 5] = (10, 200, 30)
    tensor = to_model_tensor(images)
    assert tensor.shape == (2, 3, 16, 16) and tensor.dtype == torch.float32
    assert tensor.min() == -1.0 and tensor.max() == 1.0
    assert torch.allclose(tensor[1, :, 3, 5], torch.tensor([10 / 127.5 - 1, 200 / 127.5 - 1, 30 / 127.5 - 1]))
    assert np.array_equal(to_uint8(tensor), images)


def test_model_output_beyond_the_range_is_clamped_not_wrapped():
    out = torch.tensor([-3.0, -1.0, 0.0, 0.999, 1.0, 7.0]).reshape(1, 1, 1, 6).expand(1, 3, 1, 6)
    assert to_uint8(out)[0, 0, :, 0].tolist() == [0, 0, 128, 255, 255, 255]
