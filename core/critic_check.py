"""A classifier file's metadata checked against its tensors' shapes before any network is built: a hand-edited
`width` of 1500 would otherwise allocate gigabytes (memory grows with its square) before failing, and real-crop
features of another width would fail only when the first variant is scored."""

from __future__ import annotations

import torch

MAX_WIDTH = 512  # SmallCNN's base width; DefectForge trains 32


class CriticShapeError(ValueError):
    """The file's metadata and tensors disagree; the message says where."""


GRAIN_PREFIX = "real_grain/"  # the same prefix core.scoring writes


def check_critic_shapes(
    shapes: dict[str, tuple[int, ...]], num_classes: int, width: int, real_prefix: str, build
) -> None:
    """CriticShapeError unless `shapes` (tensor name -> shape, read from the file's header) are exactly those of
    `build(num_classes, width)` plus real-crop features of that network's embedding width. The network is built
    on the meta device: no memory is spent on it."""
    if not 1 <= width <= MAX_WIDTH:
        raise CriticShapeError(f"metadata width {width} is outside 1..{MAX_WIDTH}")
    if num_classes < 1:
        raise CriticShapeError("metadata lists no classes")
    with torch.device("meta"):
        expected = {name: tuple(t.shape) for name, t in build(num_classes, width).state_dict().items()}
    for name, shape in shapes.items():  # real defects' grain per class (core.scoring): one vector each
        if name.startswith(GRAIN_PREFIX):
            index = name[len(GRAIN_PREFIX) :]
            if not index.isdigit() or int(index) >= num_classes or len(shape) != 1:
                raise CriticShapeError(f"real-grain figures {name} name no class or are not one vector")
    weights = {
        name: shape
        for name, shape in shapes.items()
        if not name.startswith(real_prefix) and not name.startswith(GRAIN_PREFIX)
    }
    for name, shape in expected.items():
        if weights.get(name) != shape:
            raise CriticShapeError(
                f"tensor {name} is {weights.get(name, 'missing')}, but width {width} and {num_classes} classes "
                f"need {shape}"
            )
    extra = sorted(set(weights) - set(expected))
    if extra:
        raise CriticShapeError(f"unexpected tensor {extra[0]}")
    features = expected["head.weight"][1]
    for name, shape in shapes.items():
        if not name.startswith(real_prefix):
            continue
        index = name[len(real_prefix) :]
        if not index.isdigit() or int(index) >= num_classes:
            raise CriticShapeError(f"real-crop features {name} name no class")
        if len(shape) != 2 or shape[1] != features:
            raise CriticShapeError(
                f"real-crop features {name} are {shape}, but the network's features are {features} wide"
            )
