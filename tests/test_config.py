import dataclasses

import pytest

from core.config import (
    ConfigError,
    SamplerConfig,
    TransformerConfig,
    VQConfig,
    from_dict,
    load_yaml,
    sampler_preset,
    save_yaml,
    to_dict,
    transformer_preset,
    vq_preset,
)


@pytest.mark.parametrize(
    "cls,config",
    [
        (VQConfig, vq_preset("vq16")),
        (VQConfig, vq_preset("vq16-cpu")),
        (TransformerConfig, transformer_preset("small")),
        (SamplerConfig, SamplerConfig(steps=12, top_k=5)),
    ],
)
def test_configs_round_trip_through_yaml(tmp_path, cls, config):
    path = tmp_path / "c.yaml"
    save_yaml(config, path)
    assert load_yaml(cls, path) == config


def test_unknown_yaml_keys_are_refused_by_name():
    with pytest.raises(ConfigError, match="codebook_sise"):
        from_dict(VQConfig, {"codebook_sise": 10})


def test_bad_yaml_reports_the_file(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("steps: [1,\n")
    with pytest.raises(ConfigError, match="bad.yaml"):
        load_yaml(SamplerConfig, path)


def test_upstream_presets_match_the_readme():
    assert (transformer_preset("tiny").hidden_dim, transformer_preset("tiny").depth) == (384, 6)
    assert transformer_preset("small").heads == 6 and transformer_preset("base").heads == 12
    assert vq_preset("vq16").downsample == 16 and vq_preset("vq16").codebook_size == 16384
    assert [sampler_preset(n).cfg_weight for n in ("tiny", "small", "base")] == [1.5, 1.0, 0.7]
    s = SamplerConfig()
    assert (s.steps, s.temp_min, s.temp_max, s.randomize) == (32, 1.0, 1.2, True)


def test_temperature_is_linear_from_min_to_max_like_upstream_linspace():
    import json
    from pathlib import Path

    fixture = json.loads((Path(__file__).parent / "fixtures" / "halton_sampler_fixtures.json").read_text())
    expected = next(iter(fixture["temperature_examples"].values()))
    s = SamplerConfig(temp_min=1.0, temp_max=1.2, steps=32)
    assert [round(s.temperature(i, 32), 6) for i in range(32)] == pytest.approx(expected, abs=1e-6)


def test_inpaint_steps_scale_with_the_mask_and_never_exceed_it():
    s = SamplerConfig(steps=32, min_steps=4)
    assert s.steps_for(256, 256) == 32
    assert s.steps_for(38, 256) == 5
    assert s.steps_for(3, 256) == 3
    assert dataclasses.replace(s, scale_steps_to_mask=False).steps_for(38, 256) == 32
    assert s.steps_for(0, 256) == 0


def test_to_dict_is_plain_yaml_types():
    d = to_dict(vq_preset("vq16"))
    assert d["ch_mult"] == [1, 1, 2, 2, 4]
