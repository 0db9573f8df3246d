"""Tiny copies of public dataset layouts, quirks included, written by the tests (no downloads).

Each builder writes a handful of small images with PIL and VOC XML as the real dataset's files read, and
returns the folder to open. The quirks are the ones the real releases have: NEU-DET <filename> without
`.jpg`, GC10's `lable/` folder, `10_yaozhed`, the same image name in two folders and images without XML,
palette BMP masks, boxes that reach past the image.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def gray_image(path: Path, size: tuple[int, int] = (200, 200), value: int = 128, mode: str = "L") -> Path:
    """A small noisy gray picture (width, height) in the format the suffix says."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(abs(hash(path.name)) % 2**32)
    pixels = np.clip(value + rng.normal(0, 8, (size[1], size[0])), 0, 255).astype(np.uint8)
    image = Image.fromarray(pixels)
    if mode != "L":
        image = image.convert(mode)
    image.save(path)
    return path


def mask_image(path: Path, size: tuple[int, int], box: tuple[int, int, int, int], palette: bool = False) -> Path:
    """A 0/255 mask with one rectangle; as a palette image (indices 0/1, black/white) when asked."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.zeros((size[1], size[0]), np.uint8)
    x0, y0, x1, y1 = box
    pixels[y0:y1, x0:x1] = 1 if palette else 255
    image = Image.fromarray(pixels)
    if palette:
        image = Image.fromarray(pixels).convert("P")
        image.putpalette([0, 0, 0, 255, 255, 255] + [0, 0, 0] * 254)
    image.save(path)
    return path


def neu_xml(
    folder: str,
    filename: str,
    objects: list[tuple[str, int, int, int, int]],
    width: int = 200,
    height: int = 200,
    database: str = "NEU-DET",
) -> str:
    """VOC text laid out the way NEU-DET's annotation files are (tabs, 1-based inclusive boxes)."""
    parts = [
        "<annotation>",
        f"\t<folder>{folder}</folder>",
        f"\t<filename>{filename}</filename>",
        "\t<source>",
        f"\t\t<database>{database}</database>",
        "\t</source>",
        "\t<size>",
        f"\t\t<width>{width}</width>",
        f"\t\t<height>{height}</height>",
        "\t\t<depth>1</depth>",
        "\t</size>",
        "\t<segmented>0</segmented>",
    ]
    for name, xmin, ymin, xmax, ymax in objects:
        parts += [
            "\t<object>",
            f"\t\t<name>{name}</name>",
            "\t\t<pose>Unspecified</pose>",
            "\t\t<truncated>0</truncated>",
            "\t\t<difficult>0</difficult>",
            "\t\t<bndbox>",
            f"\t\t\t<xmin>{xmin}</xmin>",
            f"\t\t\t<ymin>{ymin}</ymin>",
            f"\t\t\t<xmax>{xmax}</xmax>",
            f"\t\t\t<ymax>{ymax}</ymax>",
            "\t\t</bndbox>",
            "\t</object>",
        ]
    parts.append("</annotation>")
    return "\n".join(parts) + "\n"


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def neu_det_flat(root: Path) -> Path:
    """NEU-DET as released: IMAGES/ + ANNOTATIONS/, with the quirks and some deliberately broken files."""
    images, notes = root / "IMAGES", root / "ANNOTATIONS"
    gray_image(images / "crazing_1.jpg")
    _write(notes / "crazing_1.xml", neu_xml("cr", "crazing_1.jpg", [("crazing", 2, 2, 193, 194)]))
    gray_image(images / "crazing_2.jpg")
    # NEU-DET quirk: the <filename> lacks its extension.
    _write(
        notes / "crazing_2.xml", neu_xml("cr", "crazing_2", [("crazing", 10, 20, 60, 90), ("crazing", 1, 1, 200, 40)])
    )
    gray_image(images / "inclusion_1.jpg")
    # A box past the right edge (xmax 215 on a 200-wide image).
    _write(notes / "inclusion_1.xml", neu_xml("in", "inclusion_1.jpg", [("inclusion", 150, 30, 215, 60)]))
    gray_image(images / "scratches_1.jpg")
    _write(
        notes / "scratches_1.xml",
        neu_xml("sc", "scratches_1.jpg", [("scratches", 5, 5, 20, 190), ("dent", 30, 30, 40, 40)]),
    )
    _write(notes / "patches_9.xml", neu_xml("pa", "patches_9.jpg", [("patches", 1, 1, 50, 50)]))  # no image
    (images / "pitted_surface_1.jpg").write_bytes(b"not a jpeg at all")  # unreadable
    _write(notes / "pitted_surface_1.xml", neu_xml("ps", "pitted_surface_1.jpg", [("pitted_surface", 1, 1, 9, 9)]))
    gray_image(images / "rolled-in_scale_1.jpg")  # an image without XML
    _write(notes / "patches_2.xml", "<annotation><filename>patches_2.jpg</fil")  # truncated XML
    return root


def neu_det_split(root: Path) -> Path:
    """The Kaggle NEU-DET: NEU-DET/train|validation/images/<class>/ + train|validation/annotations/."""
    base = root / "NEU-DET"
    for split, classes in (("train", ("crazing", "scratches")), ("validation", ("crazing",))):
        for defect_class in classes:
            stem = f"{defect_class}_{1 if split == 'train' else 241}"
            gray_image(base / split / "images" / defect_class / f"{stem}.jpg")
            _write(
                base / split / "annotations" / f"{stem}.xml",
                neu_xml(defect_class[:2], stem, [(defect_class, 3, 4, 100, 120)]),
            )
    return root


def neu_cls(root: Path) -> Path:
    for name in ("Cr_1", "In_12", "Pa_3", "PS_4", "RS_5", "Sc_300"):
        gray_image(root / f"{name}.bmp")
    gray_image(root / "Xx_1.bmp")  # not a NEU-CLS class code
    return root


def sd_saliency(root: Path) -> Path:
    """SD-saliency-900: `Source Images/` BMPs and `Ground truth/` masks; one palette BMP mask, one missing."""
    gray_image(root / "Source Images" / "In_1.bmp")
    mask_image(root / "Ground truth" / "In_1.png", (200, 200), (20, 30, 60, 90))
    gray_image(root / "Source Images" / "Sc_2.bmp")
    mask_image(root / "Ground truth" / "Sc_2.bmp", (200, 200), (100, 0, 104, 200), palette=True)
    gray_image(root / "Source Images" / "Pa_3.bmp")  # its mask is missing
    return root


def xsdd(root: Path) -> Path:
    """X-SDD: X-SDD/datas/<class>/, jpg and png mixed."""
    base = root / "X-SDD" / "datas"
    gray_image(base / "red_iron" / "red_iron_1.jpg", (128, 128), mode="RGB")
    gray_image(base / "red_iron" / "red_iron_2.png", (128, 128), mode="RGB")
    gray_image(base / "slag_inclusion" / "slag_inclusion_1.jpg", (128, 128), mode="RGB")
    return root


def gc10(root: Path) -> Path:
    """GC10-DET: images in 1 … 10, VOC in lable/ (sic), 2048x1000 in the real set (smaller here)."""
    size = (256, 125)
    gray_image(root / "1" / "img_01_3402617700_00001.jpg", size)
    _write(
        root / "lable" / "img_01_3402617700_00001.xml",
        neu_xml(
            "1",
            "img_01_3402617700_00001.jpg",
            [("1_chongkong", 10, 10, 40, 40), ("2_hanfeng", 1, 60, 256, 70)],
            *size,
            database="Unknown",
        ),
    )
    gray_image(root / "2" / "img_01_3402617700_00001.jpg", size)  # same name in a second folder
    gray_image(root / "1" / "img_01_3402617700_00002.jpg", size)  # no XML
    gray_image(root / "10" / "img_10_4406743300_00003.jpg", size)
    _write(
        root / "lable" / "img_10_4406743300_00003.xml",
        neu_xml(
            "10",
            "img_10_4406743300_00003.jpg",
            [("10_yaozhed", 5, 5, 250, 120), ("d", 1, 1, 5, 5)],
            *size,
            database="Unknown",
        ),
    )
    _write(
        root / "lable" / "img_05_4406743300_00009.xml",
        neu_xml("5", "img_05_4406743300_00009.jpg", [("5_youban", 5, 5, 50, 50)], *size, database="Unknown"),
    )
    return root


def mvtec(root: Path) -> Path:
    base = root / "metal_nut"
    gray_image(base / "train" / "good" / "000.png", (64, 64), mode="RGB")
    gray_image(base / "test" / "good" / "000.png", (64, 64), mode="RGB")
    gray_image(base / "test" / "scratch" / "000.png", (64, 64), mode="RGB")
    mask_image(base / "ground_truth" / "scratch" / "000_mask.png", (64, 64), (10, 10, 30, 14))
    gray_image(base / "test" / "color" / "000.png", (64, 64), mode="RGB")  # its mask is missing
    return root


def class_folders(root: Path) -> Path:
    gray_image(root / "scratches" / "a.png", (64, 64))
    gray_image(root / "scratches" / "b.jpg", (64, 64))
    gray_image(root / "good" / "c.png", (64, 64))
    return root
