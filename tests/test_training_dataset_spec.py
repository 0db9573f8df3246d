"""Training on several public datasets at once: a YAML dataset spec lists the folders and merges their classes."""

import pytest

from tests.dataset_layouts import neu_det_flat, sd_saliency
from training.datasets import DataError, open_dataset


def test_a_dataset_spec_merges_folders_through_an_inline_class_map(tmp_path):
    neu_det_flat(tmp_path / "datasets" / "NEU-DET")
    sd_saliency(tmp_path / "datasets" / "SD-saliency-900")
    spec = tmp_path / "steel.yaml"
    spec.write_text(
        "datasets: [datasets/NEU-DET, datasets/SD-saliency-900]\n"
        "class_map:\n"
        "  classes: [crazing, inclusion, patches, pitted_surface, rolled-in_scale, scratches]\n"
        "  map: {sd-saliency:Sc: scratches, sd-saliency:In: inclusion, sd-saliency:Pa: patches}\n"
    )
    dataset = open_dataset(spec)
    assert set(dataset.class_names) <= {
        "crazing",
        "inclusion",
        "patches",
        "pitted_surface",
        "rolled-in_scale",
        "scratches",
    }
    sources = {sample.source for sample in dataset.samples}
    assert len(sources) == 2
    assert any(s.mask is not None and s.defect_class == "scratches" for s in dataset.samples)


def test_a_dataset_spec_may_name_a_class_map_file(tmp_path):
    sd_saliency(tmp_path / "sd")
    (tmp_path / "map.yaml").write_text("Sc: scratches\nIn: inclusion\nPa: patches\n")
    spec = tmp_path / "spec.yml"
    spec.write_text("datasets: [sd]\nclass_map: map.yaml\n")
    assert "scratches" in open_dataset(spec).class_names


def test_a_broken_dataset_spec_is_one_clear_error(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text("folders: [a]\n")
    with pytest.raises(DataError, match="'datasets:' list"):
        open_dataset(spec)
    spec.write_text("datasets: [missing]\n")
    with pytest.raises(DataError, match="spec.yaml"):
        open_dataset(spec)
