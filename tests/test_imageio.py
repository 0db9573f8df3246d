"""Images in any mode users bring load, come back out in their own mode, and fail with messages naming the file."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from core.imageio import ImageError, load_image, load_mask, to_source_mode


def _texture(height: int = 48, width: int = 64) -> np.ndarray:
    rng = np.random.default_rng(7)
    return rng.integers(0, 256, (height, width, 3), dtype=np.uint8)


def _edit(rgb: np.ndarray) -> np.ndarray:
    """A 'result': a bright square painted in the middle, the rest untouched."""
    out = rgb.copy()
    out[10:20, 20:30] = (250, 240, 10)
    return out


def _unchanged(rgb: np.ndarray) -> np.ndarray:
    keep = np.ones(rgb.shape[:2], dtype=bool)
    keep[10:20, 20:30] = False
    return keep


def test_rgb_png_round_trips_exactly(tmp_path):
    rgb = _texture()
    Image.fromarray(rgb).save(tmp_path / "a.png")
    loaded = load_image(tmp_path / "a.png")
    assert loaded.mode == "RGB" and loaded.bit_depth == 8 and loaded.size == (64, 48) and loaded.format == "PNG"
    assert np.array_equal(loaded.rgb, rgb)
    assert len(loaded.sha256) == 64
    out = to_source_mode(loaded, loaded.rgb)
    assert out.mode == "RGB" and np.array_equal(np.asarray(out), rgb)


def test_gray_jpeg_stays_gray(tmp_path):
    gray = _texture()[..., 0]
    Image.fromarray(gray).save(tmp_path / "g.jpg", quality=95)
    loaded = load_image(tmp_path / "g.jpg")
    assert loaded.mode == "L" and loaded.rgb.shape == (48, 64, 3)
    out = to_source_mode(loaded, _edit(loaded.rgb))
    assert out.mode == "L"
    values = np.asarray(out)
    keep = _unchanged(loaded.rgb)
    assert np.array_equal(values[keep], loaded.values[keep])
    assert values[15, 25] != loaded.values[15, 25]


def test_rgba_keeps_its_alpha(tmp_path):
    rgba = np.dstack([_texture(), np.linspace(0, 255, 64 * 48).reshape(48, 64).astype(np.uint8)])
    Image.fromarray(rgba).save(tmp_path / "a.png")
    loaded = load_image(tmp_path / "a.png")
    assert loaded.mode == "RGBA" and loaded.alpha is not None
    out = to_source_mode(loaded, _edit(loaded.rgb))
    out.save(tmp_path / "b.png")
    back = np.asarray(Image.open(tmp_path / "b.png"))
    assert back.shape == (48, 64, 4)
    assert np.array_equal(back[..., 3], rgba[..., 3])
    assert np.array_equal(back[10:20, 20:30, :3], np.broadcast_to([250, 240, 10], (10, 10, 3)))


def test_sixteen_bit_tiff_stays_sixteen_bit_and_unchanged_pixels_keep_their_values(tmp_path):
    values = (np.arange(48 * 64).reshape(48, 64) * 1.3).astype(np.uint16)  # 12-bit range: 0..3992
    Image.fromarray(values).save(tmp_path / "c.tif")
    loaded = load_image(tmp_path / "c.tif")
    assert loaded.mode.startswith("I;16") and loaded.bit_depth == 16
    assert loaded.value_max == 4095  # 12-bit data is stretched to the 8-bit working copy, not left nearly black
    assert loaded.rgb.max() > 200
    out = to_source_mode(loaded, _edit(loaded.rgb))
    out.save(tmp_path / "d.png")
    back = Image.open(tmp_path / "d.png")
    assert back.mode == "I;16"
    back_values = np.asarray(back)
    keep = _unchanged(loaded.rgb)
    assert np.array_equal(back_values[keep], values[keep])
    assert back_values[15, 25] > 3000  # the bright paint maps back into the 12-bit range


def test_palette_bmp_round_trips_to_its_own_palette(tmp_path):
    # SD-saliency-900 style: 8-bit palette BMP; a colour palette so PIL keeps it as 'P'.
    palette = np.random.default_rng(3).integers(0, 256, (256, 3), dtype=np.uint8)
    palette[200] = (250, 240, 10)
    indices = np.random.default_rng(4).integers(0, 200, (48, 64), dtype=np.uint8)
    image = Image.frombytes("P", (64, 48), indices.tobytes())
    image.putpalette(palette.reshape(-1).tolist())
    image.save(tmp_path / "p.bmp")
    loaded = load_image(tmp_path / "p.bmp")
    assert loaded.mode == "P" and loaded.format == "BMP"
    out = to_source_mode(loaded, _edit(loaded.rgb))
    assert out.mode == "P"
    assert np.array_equal(np.asarray(out.getpalette()[:768]).reshape(-1, 3), palette)
    out_indices = np.asarray(out)
    keep = _unchanged(loaded.rgb)
    assert np.array_equal(out_indices[keep], indices[keep])
    assert (out_indices[10:20, 20:30] == 200).all()  # nearest source colour to the paint


def test_gray_palette_bmp_loads_as_gray(tmp_path):
    gray = _texture()[..., 1]
    Image.fromarray(gray).convert("P").save(tmp_path / "g.bmp")
    loaded = load_image(tmp_path / "g.bmp")
    assert loaded.mode in ("L", "P")
    assert np.array_equal(loaded.rgb[..., 0], gray)


def test_corrupt_file_is_a_clear_error(tmp_path):
    path = tmp_path / "bad.png"
    path.write_bytes(b"this is not an image at all")
    with pytest.raises(ImageError, match="bad.png"):
        load_image(path)


def test_truncated_file_is_a_clear_error(tmp_path):
    Image.fromarray(_texture(200, 200)).save(tmp_path / "full.png")
    data = (tmp_path / "full.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageError, match=r"cut\.png.*(truncated|corrupt)"):
        load_image(tmp_path / "cut.png")


def test_zero_byte_file_is_a_clear_error(tmp_path):
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(ImageError, match="empty file"):
        load_image(tmp_path / "empty.png")


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(ImageError, match="no such image"):
        load_image(tmp_path / "nope.png")


def _png_with_size(width: int, height: int) -> bytes:
    """A PNG whose header claims `width` x `height` (valid CRCs), followed by a tiny data stream."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b"")
    )


def test_huge_image_header_is_refused_without_decoding(tmp_path, monkeypatch):
    path = tmp_path / "huge.png"
    path.write_bytes(_png_with_size(60000, 60000))

    def no_decoding(self, *args, **kwargs):
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(Image.Image, "load", no_decoding)
    from PIL import ImageFile

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    with pytest.raises(ImageError, match=r"huge\.png.*(over the limit|too large)"):
        load_image(path)


def test_configurable_pixel_limit(tmp_path):
    Image.fromarray(_texture()).save(tmp_path / "a.png")
    with pytest.raises(ImageError, match="over the limit"):
        load_image(tmp_path / "a.png", max_pixels=1000)


def test_zero_size_image_is_refused(tmp_path):
    path = tmp_path / "zero.png"
    path.write_bytes(_png_with_size(0, 10))
    with pytest.raises(ImageError, match="zero.png"):
        load_image(path)


def test_unsupported_mode_is_a_clear_error(tmp_path):
    Image.new("CMYK", (8, 8)).save(tmp_path / "cmyk.jpg")
    with pytest.raises(ImageError, match="unsupported colour mode CMYK"):
        load_image(tmp_path / "cmyk.jpg")


def _square_mask(value: int = 255) -> np.ndarray:
    mask = np.zeros((48, 64), dtype=np.uint8)
    mask[9:27, 13:37] = value  # edges off the 8x8 JPEG blocks, so a JPEG of it rings
    return mask


def test_mask_of_zeros_and_ones_reads_as_drawn(tmp_path):
    Image.fromarray(_square_mask(1)).save(tmp_path / "m.png")  # a label mask: 1, not 255
    loaded = load_mask(tmp_path / "m.png", (64, 48))
    assert loaded.dtype == bool and np.array_equal(loaded, _square_mask(1) > 0)


def test_mask_of_zeros_and_255_reads_as_drawn_in_gray_rgb_and_16_bit(tmp_path):
    Image.fromarray(_square_mask()).save(tmp_path / "gray.png")
    Image.fromarray(np.dstack([_square_mask()] * 3)).save(tmp_path / "rgb.png")
    Image.fromarray(_square_mask(1).astype(np.uint16) * 4095).save(tmp_path / "wide.png")
    for name in ("gray.png", "rgb.png", "wide.png"):
        assert np.array_equal(load_mask(tmp_path / name, (64, 48)), _square_mask() > 0), name


def test_jpeg_ringing_around_a_mask_edge_is_not_mask(tmp_path):
    Image.fromarray(_square_mask()).save(tmp_path / "m.jpg", quality=70)
    stored = np.asarray(Image.open(tmp_path / "m.jpg"))
    outside, inside = stored[_square_mask() == 0], stored[_square_mask() > 0]
    assert outside.max() > 0 and inside.min() < 255  # the file really rings on both sides of the edge
    assert np.array_equal(load_mask(tmp_path / "m.jpg", (64, 48)), _square_mask() > 0)


def test_a_dim_speck_beside_a_bright_mask_is_noise_and_an_all_black_mask_is_empty(tmp_path):
    mask = _square_mask()
    mask[40, 50] = 20
    Image.fromarray(mask).save(tmp_path / "m.png")
    assert np.array_equal(load_mask(tmp_path / "m.png"), _square_mask() > 0)
    Image.fromarray(np.zeros((48, 64), np.uint8)).save(tmp_path / "black.png")
    assert not load_mask(tmp_path / "black.png").any()


def test_transparent_pixels_are_never_mask(tmp_path):
    rgba = np.full((48, 64, 4), 255, dtype=np.uint8)
    rgba[..., 3] = _square_mask()  # white everywhere, opaque only on the square
    Image.fromarray(rgba).save(tmp_path / "rgba.png")
    assert np.array_equal(load_mask(tmp_path / "rgba.png", (64, 48)), _square_mask() > 0)
    gray_alpha = np.dstack([np.full((48, 64), 200, np.uint8), _square_mask()])
    Image.fromarray(gray_alpha, "LA").save(tmp_path / "la.png")
    assert np.array_equal(load_mask(tmp_path / "la.png", (64, 48)), _square_mask() > 0)


def test_palette_masks_count_every_colour_but_black(tmp_path):
    indices = _square_mask(1)
    indices[30:40, 2:6] = 2
    image = Image.fromarray(indices, "P")
    # VOC-style: black background, a dark red class 1 and a bright class 2; the dark one is no fainter a label.
    image.putpalette([0, 0, 0, 128, 0, 0, 224, 224, 192] + [0, 0, 0] * 253)
    image.save(tmp_path / "voc.png")
    image.save(tmp_path / "voc.bmp")
    for name in ("voc.png", "voc.bmp"):
        assert np.array_equal(load_mask(tmp_path / name, (64, 48)), indices > 0), name
    image.info["transparency"] = 2
    image.save(tmp_path / "clear.png")
    assert np.array_equal(load_mask(tmp_path / "clear.png", (64, 48)), indices == 1)


def test_mask_size_mismatch_is_refused(tmp_path):
    Image.fromarray(np.zeros((40, 64), dtype=np.uint8)).save(tmp_path / "m.png")
    with pytest.raises(ImageError, match=r"m\.png is 64x40 but the image is 64x48"):
        load_mask(tmp_path / "m.png", (64, 48))


def _mode_samples() -> dict[str, Image.Image]:
    rng = np.random.default_rng(5)
    palette_image = Image.fromarray(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)).quantize(16)
    palette_image.info["transparency"] = 3
    return {
        "1": Image.fromarray(rng.integers(0, 2, (48, 64)).astype(bool)),
        "L": Image.fromarray(rng.integers(0, 256, (48, 64), dtype=np.uint8)),
        "LA": Image.fromarray(rng.integers(0, 256, (48, 64, 2), dtype=np.uint8)),
        "P": palette_image,
        "RGBA": Image.fromarray(rng.integers(0, 256, (48, 64, 4), dtype=np.uint8)),
        "I": Image.fromarray(rng.integers(0, 60000, (48, 64)).astype(np.int32)),
    }


@pytest.mark.parametrize("mode", ["1", "L", "LA", "P", "RGBA", "I"])
def test_every_mode_comes_back_in_its_own_mode_through_png(tmp_path, mode):
    source = _mode_samples()[mode]
    source.save(tmp_path / ("in.tif" if mode == "I" else "in.png"))
    loaded = load_image(tmp_path / ("in.tif" if mode == "I" else "in.png"))
    to_source_mode(loaded, _edit(loaded.rgb)).save(tmp_path / "out.png")
    back = Image.open(tmp_path / "out.png")
    assert back.mode == ("I;16" if mode == "I" else mode)
    keep = _unchanged(loaded.rgb)
    assert np.array_equal(np.asarray(back)[keep], np.asarray(source)[keep])
    if mode == "P":
        assert back.info.get("transparency") == 3


def test_thirty_two_bit_gray_beyond_sixteen_bits_is_refused(tmp_path):
    Image.fromarray(np.full((8, 8), 100000, np.int32)).save(tmp_path / "deep.tif")
    with pytest.raises(ImageError, match="deep.tif.*0..65535"):
        load_image(tmp_path / "deep.tif")


@pytest.mark.parametrize(("suffix", "mode"), [(".jpg", "RGB"), (".png", "L"), (".png", "I;16")])
def test_a_photo_taken_sideways_opens_and_exports_upright(tmp_path, suffix, mode):
    """Issue 18 item 7: an EXIF orientation tag is applied as every viewer applies it; the exported image and
    masks are in the upright frame and the manifest records the tag."""
    import json

    from core.export import DatasetExporter
    from core.request import InpaintRequest, InpaintResult, MaskLayer, VariantResult

    stored = np.full((40, 60), 30, np.uint8)  # stored 60 wide, 40 high; upright it is 40 wide, 60 high
    stored[:10, :10] = 220  # a bright corner: stored top-left
    source_image = Image.fromarray(stored.astype(np.uint16) * 200 if mode == "I;16" else stored)
    if mode == "RGB":
        source_image = source_image.convert("RGB")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to view
    path = tmp_path / f"sideways{suffix}"
    source_image.save(path, exif=exif.tobytes(), **({"quality": 95} if suffix == ".jpg" else {}))
    loaded = load_image(path)
    assert loaded.size == (40, 60) and loaded.orientation == 6
    assert loaded.rgb[:10, -10:].mean() > 150 and loaded.rgb[-10:, :10].mean() < 80  # the corner is top-right

    mask = np.zeros((60, 40), bool)
    mask[30:40, 5:15] = True
    result_image = loaded.rgb.copy()
    result_image[mask] = 128
    request = InpaintRequest(loaded.rgb, [MaskLayer(mask, "patches")], seed=1, source_path=path)
    result = InpaintResult(request, [VariantResult(1, result_image, {"patches": mask}, [])], "b", "f" * 64, 0.1)
    out = tmp_path / "out"
    sample_id = DatasetExporter(out, ["patches"]).export(result, source=loaded)
    written = Image.open(out / "images" / "patches" / f"{sample_id}.png")
    assert written.size == (40, 60) and not written.getexif().get(0x0112)
    written_rgb = np.asarray(written.convert("RGB")) if mode != "I;16" else np.asarray(written) / 200
    assert written_rgb[:10, -10:].mean() > 150  # upright, as it was opened
    assert Image.open(out / "masks" / "patches" / f"{sample_id}.png").size == (40, 60)
    record = json.loads((out / "manifest.jsonl").read_text())
    assert record["source_orientation"] == 6 and record["size"] == [40, 60]
