"""Merging datasets under one class list with a YAML class map."""

from __future__ import annotations

import pytest

from core.data import ClassMapError, load_class_map, merge, read_dataset
from tests import dataset_layouts as layouts

CLASS_MAP = """\
classes: [crazing, inclusion, patches, pitted_surface, rolled-in_scale, scratches, punching_hole, crease]
map:
  Sc: scratches
  Pa: patches
  In: inclusion
  gc10:1_chongkong: punching_hole
  gc10:10_yaozhe: crease
drop: [gc10:2_hanfeng]
"""


def test_class_map_merges_sd_saliency_gc10_and_neu_cls_into_one_class_list(tmp_path):
    (tmp_path / "map.yaml").write_text(CLASS_MAP)
    datasets = [
        read_dataset(layouts.sd_saliency(tmp_path / "sd")),
        read_dataset(layouts.gc10(tmp_path / "gc10")),
        read_dataset(layouts.neu_cls(tmp_path / "cls")),
    ]
    merged = merge(datasets, load_class_map(tmp_path / "map.yaml"))
    assert merged.kind == "merged"
    assert merged.class_names == sorted(
        ["crazing", "inclusion", "patches", "pitted_surface", "rolled-in_scale", "scratches", "punching_hole", "crease"]
    )
    sd = {s.image.stem: s.defect_class for s in merged.samples if s.source == "sd-saliency"}
    assert sd == {"In_1": "inclusion", "Sc_2": "scratches", "Pa_3": "patches"}
    gc10 = {s.image.stem: s for s in merged.samples if s.source == "gc10"}
    first = gc10["img_01_3402617700_00001"]
    assert [b.defect_class for b in first.boxes] == ["punching_hole"]  # 2_hanfeng dropped on purpose
    assert first.defect_class == "punching_hole"
    assert [b.defect_class for b in gc10["img_10_4406743300_00003"].boxes] == ["crease"]
    # Every reader's own problems survive the merge.
    assert len(merged.problems) == sum(len(d.problems) for d in datasets)


def test_a_class_outside_the_class_list_is_reported_once_and_left_out(tmp_path):
    (tmp_path / "map.yaml").write_text("classes: [scratches]\nmap: {Sc: scratches}\n")
    dataset = read_dataset(layouts.sd_saliency(tmp_path / "sd"))
    merged = merge([dataset], load_class_map(tmp_path / "map.yaml"))
    assert [s.defect_class for s in merged.samples] == ["scratches"]
    unknown = [p.message for p in merged.problems if p.message.startswith("unknown class")]
    assert len(unknown) == 2 and any("'In'" in m for m in unknown) and any("'Pa'" in m for m in unknown)


def test_plain_mapping_file_renames_and_keeps_everything_else(tmp_path):
    (tmp_path / "map.yaml").write_text("red_iron: rust\n")
    merged = merge([read_dataset(layouts.xsdd(tmp_path))], load_class_map(tmp_path / "map.yaml"))
    assert merged.class_names == ["rust", "slag_inclusion"]
    assert merged.kind == "x-sdd"


def test_clean_images_stay_clean_through_a_merge(tmp_path):
    merged = merge([read_dataset(layouts.mvtec(tmp_path / "mvtec"))], load_class_map_text(tmp_path, "{}"))
    assert sum(1 for s in merged.samples if s.defect_class is None) == 2


def load_class_map_text(tmp_path, text):
    path = tmp_path / "map.yaml"
    path.write_text(text)
    return load_class_map(path)


@pytest.mark.parametrize("text", ["[a, b]", "map: [a]", "Sc: [scratches]", "classes: {a: b}\n", "a: b: c"])
def test_a_malformed_class_map_says_so(tmp_path, text):
    with pytest.raises(ClassMapError):
        load_class_map_text(tmp_path, text)


def test_the_example_class_map_in_docs_loads_and_names_gc10_in_english():
    from pathlib import Path

    example = load_class_map(Path(__file__).resolve().parent.parent / "docs" / "class_map.example.yaml")
    assert example.target("1_chongkong", "gc10") == "punching_hole"
    assert example.target("Sc", "sd-saliency") == "scratches"
    assert example.target("crazing", "neu-det") == "crazing"
    assert len(example.classes) == 15
