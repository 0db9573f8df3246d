"""Shared test fixtures: tiny models and bundles built on the fly (no downloads, CPU only)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest
import torch

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# One thread: the test models are tiny, and on a shared 2-core machine two OpenMP threads spin-wait on each
# other while the cores are busy elsewhere (test_pipeline.py: 10 s with one thread, 125 s with two).
torch.set_num_threads(1)

FIXTURES = Path(__file__).parent / "fixtures"
TEST_CLASSES = ["crazing", "inclusion", "patches", "pitted_surface", "rolled-in_scale", "scratches"]


def build_test_bundle(path: Path, classes: list[str] | None = None, seed: int = 0) -> Path:
    """A working bundle with the 'test' presets (random weights): 256 px images, 16x16 tokens."""
    from core.bundle import BundleContents, save_bundle
    from core.config import SamplerConfig, transformer_preset, vq_preset
    from core.transformer import MaskTransformer
    from core.vq import VQModel

    classes = classes or TEST_CLASSES
    torch.manual_seed(seed)
    vq = VQModel(vq_preset("vq16-test"))
    transformer = MaskTransformer(transformer_preset("test", num_classes=len(classes)))
    contents = BundleContents(
        "test-bundle",
        classes,
        vq,
        transformer,
        SamplerConfig(steps=8, cfg_weight=1.0),
        provenance={"data": "random weights for tests"},
    )
    save_bundle(path, contents)
    return path


@pytest.fixture(scope="session")
def test_bundle_path(tmp_path_factory) -> Path:
    return build_test_bundle(tmp_path_factory.mktemp("bundles") / "test-bundle")


@pytest.fixture()
def test_bundle(test_bundle_path):
    from core.bundle import load_bundle

    return load_bundle(test_bundle_path)


@contextlib.contextmanager
def logging_restored():
    """Training jobs set up logging for their process; run in-process in a test they must not leak it (synth's
    one-line error tests see every stray handler)."""
    import logging

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield
    finally:
        for handler in list(root.handlers):
            if handler not in handlers:
                root.removeHandler(handler)
                handler.close()
        root.setLevel(level)


@pytest.fixture(autouse=True)
def restore_logging():
    """Every test leaves the root logger as it found it, whatever order the tests run in."""
    with logging_restored():
        yield


@pytest.fixture(autouse=True, scope="module")
def _restore_logging_per_module():
    """The same around each module, for module-scoped fixtures that run a training job."""
    with logging_restored():
        yield
