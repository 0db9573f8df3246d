"""`defectforge train tokenize`: a dataset becomes a token cache with 8 dihedral augmentations per image."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from core.bundle import load_bundle, read_bundle_info
from core.masks import token_mask
from core.pixels import to_model_tensor
from tests.training_fixtures import CLASSES, make_neu_dataset, make_vq_bundle
from training.datasets import DIHEDRAL_NAMES, dihedral, open_dataset, prepare
from training.jobs import JobError
from training.tokenize import TokenCache, TokenizeConfig, tokenize


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("tok")
    data = make_neu_dataset(root / "data", per_class=3)
    bundle = make_vq_bundle(root / "vq-bundle")
    cache = tokenize(TokenizeConfig(data=str(data), out=str(root / "cache"), vq=str(bundle), val_fraction=0.25))
    return data, bundle, cache


def test_tokenize_writes_eight_augmentations_with_labels_and_region_masks(setup):
    _, _, cache_dir = setup
    cache = TokenCache(cache_dir)
    n = 3 * len(CLASSES)
    assert cache.codes.shape == (n, 8, 4, 4)
    assert cache.region.shape == (n, 8, 4, 4)
    assert cache.labels.tolist() == [c for c in range(len(CLASSES)) for _ in range(3)]
    assert cache.class_names == CLASSES
    assert cache.index["augmentations"] == list(DIHEDRAL_NAMES)
    assert 0 < int(cache.heldout.sum()) < n
    assert cache.codes.min() >= 0 and cache.codes.max() < 64
    # every sample has a defect, and each augmentation's region is the same dihedral move of the first one
    assert bool(cache.region.flatten(2).any(-1).all())
    for k in range(8):
        expected = np.stack([dihedral(r.numpy(), k) for r in cache.region[:, 0]])
        assert np.array_equal(cache.region[:, k].numpy(), expected)


def test_cached_codes_are_the_vq_codes_of_each_augmented_image(setup):
    data, bundle_dir, cache_dir = setup
    cache, bundle = TokenCache(cache_dir), load_bundle(bundle_dir)
    dataset = open_dataset(data)
    record = cache.index["samples"][4]
    sample = next(s for s in dataset.samples if s.image.name == record["image"].split("/")[-1])
    prepared = prepare(sample, 64)
    images = np.stack([dihedral(prepared.image, k) for k in range(8)])
    with torch.no_grad():
        codes = bundle.vq.encode(to_model_tensor(images))
    assert torch.equal(codes, cache.codes[4])
    assert np.array_equal(token_mask(prepared.region, 16), cache.region[4, 0].numpy())


def test_box_only_images_get_their_box_as_region(setup):
    data, _, cache_dir = setup
    cache = TokenCache(cache_dir)
    box_only = [i for i, r in enumerate(cache.index["samples"]) if not r["has_mask"]]
    assert len(box_only) == len(CLASSES)  # image 2 of every class has no mask
    dataset = open_dataset(data)
    sample = next(s for s in dataset.samples if s.mask is None)
    region = prepare(sample, 64).region
    ys, xs = np.nonzero(region)
    assert region[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1].all()  # a filled rectangle


def test_tokenize_refuses_to_overwrite_and_leaves_nothing_when_it_fails(setup, tmp_path, monkeypatch):
    data, bundle, cache_dir = setup
    with pytest.raises(JobError, match="already exists"):
        tokenize(TokenizeConfig(data=str(data), out=str(cache_dir), vq=str(bundle)))

    import training.tokenize as tok

    calls = {"n": 0}
    real_prepare = tok.prepare

    def failing_prepare(sample, size):
        calls["n"] += 1
        if calls["n"] > 5:
            raise KeyboardInterrupt  # a user pressing Ctrl-C half way
        return real_prepare(sample, size)

    monkeypatch.setattr(tok, "prepare", failing_prepare)
    with pytest.raises(KeyboardInterrupt):
        tokenize(TokenizeConfig(data=str(data), out=str(tmp_path / "cache"), vq=str(bundle), batch_size=2))
    assert list(tmp_path.iterdir()) == []


def test_index_records_the_vq_and_the_split(setup):
    _, bundle, cache_dir = setup
    index = json.loads((cache_dir / "index.json").read_text())
    assert index["vq"]["sha256"] == read_bundle_info(bundle).weights_sha256["vq.safetensors"]
    assert index["split"] == {"val_fraction": 0.25, "seed": 0}
    assert index["image_size"] == 64 and index["grid"] == 4 and index["codebook_size"] == 64


def test_the_eight_dihedral_moves_are_distinct_and_rot90_four_times_is_identity():
    a = np.arange(12).reshape(3, 4)
    sq = np.arange(16).reshape(4, 4)
    moved = {dihedral(sq, k).tobytes() for k in range(8)}
    assert len(moved) == 8
    b = a
    for _ in range(4):
        b = dihedral(b, 1)
    assert np.array_equal(a, b)


def test_an_unreadable_image_is_skipped_with_a_warning_not_fatal(tmp_path, caplog, monkeypatch):
    data = make_neu_dataset(tmp_path / "data", per_class=1)
    broken = sorted((data / "IMAGES").iterdir())[0]
    bundle = make_vq_bundle(tmp_path / "vq-bundle")
    import training.tokenize as tok

    real = tok.prepare

    def prepare_or_fail(sample, size):
        if sample.image == broken:
            raise OSError("image file is truncated")
        return real(sample, size)

    monkeypatch.setattr(tok, "prepare", prepare_or_fail)
    cache = tokenize(TokenizeConfig(data=str(data), out=str(tmp_path / "cache"), vq=str(bundle)))
    assert TokenCache(cache).codes.shape[0] == len(CLASSES) - 1
    assert "skipped" in caplog.text and broken.name in caplog.text


def test_a_bare_vq_file_without_image_size_is_tokenized_at_256_and_says_so(setup, tmp_path, caplog):
    """A bare checkpoint does not record the scale its tokenizer learned: the default is said, and --image-size
    silences it (a campaign once tokenized a 200 px tokenizer at 256 px without noticing)."""
    import logging
    import shutil

    data, bundle, _ = setup
    shutil.copy(bundle / "vq.safetensors", tmp_path / "vq.safetensors")
    args = dict(data=str(data), vq=str(tmp_path / "vq.safetensors"), vq_preset="vq16-test", val_fraction=0.25)
    with caplog.at_level(logging.WARNING, logger="training.tokenize"):
        tokenize(TokenizeConfig(out=str(tmp_path / "a"), augmentations=1, **args))
    assert "no image size: tokenizing at 256 px" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="training.tokenize"):
        tokenize(TokenizeConfig(out=str(tmp_path / "b"), augmentations=1, image_size=64, **args))
    assert "no image size" not in caplog.text
    assert TokenCache(tmp_path / "b").codes.shape[-1] == 4
