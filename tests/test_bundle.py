import pytest
import torch
import yaml
from safetensors.torch import load_file, save_file

from core.bundle import BundleError, load_bundle, read_bundle_info
from tests.conftest import TEST_CLASSES, build_test_bundle


@pytest.fixture()
def bundle_dir(tmp_path):
    return build_test_bundle(tmp_path / "b")


def test_bundle_round_trip_keeps_weights_classes_and_settings(bundle_dir):
    bundle = load_bundle(bundle_dir)
    assert bundle.class_names == TEST_CLASSES
    assert bundle.info.sampler.steps == 8
    assert bundle.info.grid_size == 16
    assert bundle.transformer.head.weight is bundle.transformer.tok_emb.weight
    assert bundle.class_index("scratches") == 5
    assert len(bundle.info.fingerprint) == 64
    saved = load_file(bundle_dir / "vq.safetensors")
    torch.testing.assert_close(bundle.vq.state_dict()["quant_conv.weight"], saved["quant_conv.weight"])


def test_unknown_class_names_the_known_ones(bundle_dir):
    with pytest.raises(BundleError, match="crazing"):
        load_bundle(bundle_dir).class_index("dent")


def test_missing_bundle_and_missing_files(tmp_path, bundle_dir):
    with pytest.raises(BundleError, match="not found"):
        load_bundle(tmp_path / "nope")
    (bundle_dir / "transformer.safetensors").unlink()
    with pytest.raises(BundleError, match="missing transformer.safetensors"):
        load_bundle(bundle_dir)


def test_bad_yaml_and_unknown_version(bundle_dir):
    manifest = bundle_dir / "model.yaml"
    good = manifest.read_text()
    manifest.write_text("name: [unclosed\n")
    with pytest.raises(BundleError, match="not valid YAML"):
        load_bundle(bundle_dir)
    meta = yaml.safe_load(good)
    meta["format_version"] = 99
    manifest.write_text(yaml.safe_dump(meta))
    with pytest.raises(BundleError, match="format_version 99"):
        load_bundle(bundle_dir)


def test_checksum_mismatch_is_detected(bundle_dir):
    path = bundle_dir / "vq.safetensors"
    state = load_file(path)
    state["quant_conv.bias"] = state["quant_conv.bias"] + 1
    save_file(state, path)
    with pytest.raises(BundleError, match="checksum mismatch"):
        load_bundle(bundle_dir)


def test_wrong_shape_names_the_key(bundle_dir):
    path = bundle_dir / "transformer.safetensors"
    state = load_file(path)
    state["pos_emb.weight"] = torch.zeros(100, 64)
    save_file(state, path)
    with pytest.raises(BundleError, match=r"pos_emb.weight has shape \(100, 64\)"):
        load_bundle(bundle_dir, verify=False)


def test_pickle_files_are_never_opened(bundle_dir, monkeypatch):
    torch.save({"tok_emb.weight": torch.zeros(1)}, bundle_dir / "transformer.safetensors")
    monkeypatch.setattr(torch, "load", lambda *a, **k: pytest.fail("torch.load must not be called"))
    with pytest.raises(BundleError, match="pickle"):
        load_bundle(bundle_dir, verify=False)


def test_truncated_weights_are_refused(bundle_dir):
    path = bundle_dir / "vq.safetensors"
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(BundleError):
        load_bundle(bundle_dir, verify=False)


def test_info_reads_without_weights(bundle_dir):
    (bundle_dir / "vq.safetensors").unlink()
    info = read_bundle_info(bundle_dir)
    assert info.name == "test-bundle" and info.provenance["data"].startswith("random")


def test_saving_over_an_existing_bundle_needs_consent(bundle_dir):
    with pytest.raises(BundleError, match="already exists"):
        build_test_bundle(bundle_dir)


def test_what_a_bundle_is_saved_with_is_what_its_model_yaml_says(tmp_path):
    from core.bundle import BundleContents, save_bundle
    from core.config import SamplerConfig, transformer_preset, vq_preset
    from core.transformer import MaskTransformer
    from core.vq import VQModel

    vq = VQModel(vq_preset("vq16-test"))
    transformer = MaskTransformer(transformer_preset("test", num_classes=2))
    contents = BundleContents("vq-only", ["dent", "scratches"], vq, transformer, tokenizer_only=True)
    info = save_bundle(tmp_path / "b", contents)
    assert (info.name, info.class_names, info.tokenizer_only) == ("vq-only", ["dent", "scratches"], True)
    assert info.image_size == 256 and info.sampler == SamplerConfig() and info.provenance == {}
    with pytest.raises(BundleError, match="3 class names for a transformer with 2"):
        save_bundle(tmp_path / "c", BundleContents("x", ["a", "b", "c"], vq, transformer))
    assert not (tmp_path / "c").exists()
