"""The inpainting pipeline, as a front end uses it: request in, step events out (a preview of any step on
request), result last."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.bundle import load_bundle
from core.config import SamplerConfig
from core.device import DeviceError
from core.masks import dilate
from core.pipeline import InpaintPipeline, PipelineError
from core.request import CLEANUP_CLASS, InpaintRequest, MaskLayer

FAST = SamplerConfig(steps=8, cfg_weight=1.0)


@pytest.fixture(scope="module")
def bundle(test_bundle_path):
    return load_bundle(test_bundle_path)


@pytest.fixture(scope="module")
def pipeline(bundle):
    return InpaintPipeline(bundle)


def _surface(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A brushed-metal-ish texture: horizontal streaks plus noise."""
    rng = np.random.default_rng(seed)
    rows = rng.normal(128, 20, (height, 1))
    image = rows + rng.normal(0, 8, (height, width))
    return np.clip(np.repeat(image[:, :, None], 3, axis=2), 0, 255).astype(np.uint8)


def _mask(height: int, width: int, *boxes: tuple[int, int, int, int]) -> np.ndarray:
    mask = np.zeros((height, width), bool)
    for x0, y0, x1, y1 in boxes:
        mask[y0:y1, x0:x1] = True
    return mask


def _request(image: np.ndarray, *layers: tuple[np.ndarray, str], **kwargs) -> InpaintRequest:
    kwargs.setdefault("seed", 5)
    kwargs.setdefault("sampler", FAST)
    return InpaintRequest(image=image, layers=[MaskLayer(m, c) for m, c in layers], **kwargs)


def _run(pipeline: InpaintPipeline, request: InpaintRequest):
    events = list(pipeline.run(request))
    return events, events[-1].result


def _run_with_previews(pipeline: InpaintPipeline, request: InpaintRequest):
    """Every event with the preview asked for at that step (as the app does when it wants one)."""
    pairs = [(event, pipeline.preview(event)) for event in pipeline.run(request)]
    return pairs, pairs[-1][0].result


def _feather_band_px(request: InpaintRequest, image_side: int, model_side: int = 256) -> int:
    """Feather width in image pixels for a window of `image_side` pixels, plus one pixel of rounding."""
    return int(np.ceil(request.feather_px * max(1.0, image_side / model_side))) + 1


def test_inpaint_keeps_pixels_outside_feather_identical_on_a_neu_size_image(pipeline):
    image = _surface(200, 200)
    mask = _mask(200, 200, (60, 70, 110, 100))
    request = _request(image, (mask, "scratches"), variants=2)
    _, result = _run(pipeline, request)
    outside = ~dilate(mask, _feather_band_px(request, 200))
    for variant in result.variants:
        assert variant.image.shape == image.shape and variant.image.dtype == np.uint8
        assert np.array_equal(variant.image[outside], image[outside])
        assert not np.array_equal(variant.image[mask], image[mask])


def test_inpaint_keeps_pixels_outside_feather_identical_on_a_gc10_size_image(pipeline):
    image = _surface(1000, 2048, seed=1)
    mask = _mask(1000, 2048, (1500, 400, 1530, 470), (100, 850, 160, 880))
    request = _request(image, (mask, "inclusion"))
    pairs, result = _run_with_previews(pipeline, request)
    out = result.variants[0].image
    assert out.shape == (1000, 2048, 3)
    outside = ~dilate(mask, _feather_band_px(request, 256))
    assert np.array_equal(out[outside], image[outside])
    assert not np.array_equal(out[400:470, 1500:1530], image[400:470, 1500:1530])
    # Each box holds its painted box and the feather band the blend changed around it, no more.
    band = _feather_band_px(request, 256)
    boxes = sorted((b.x0, b.y0, b.x1, b.y1) for b in result.variants[0].boxes)
    assert len(boxes) == 2
    for (x0, y0, x1, y1), painted in zip(boxes, [(100, 850, 160, 880), (1500, 400, 1530, 470)], strict=True):
        assert x0 <= painted[0] and y0 <= painted[1] and x1 >= painted[2] and y1 >= painted[3]
        assert x0 >= painted[0] - band and y0 >= painted[1] - band
        assert x1 <= painted[2] + band and y1 <= painted[3] + band
    for _, preview in pairs[:-1]:  # previews stay near the masks, never the whole image
        x0, y0, x1, y1 = preview.box
        assert preview.image.shape == (y1 - y0, x1 - x0, 3)
        assert x1 - x0 <= 256 and y1 - y0 <= 256


def test_events_count_every_step_and_the_result_comes_last(pipeline):
    image = _surface(200, 200)
    request = _request(
        image, (_mask(200, 200, (20, 20, 60, 50)), "patches"), (_mask(200, 200, (120, 120, 180, 160)), "crazing")
    )
    total = pipeline.total_steps(request)
    pairs, result = _run_with_previews(pipeline, request)
    events = [event for event, _ in pairs]
    assert len(events) == total
    assert [e.step for e in events] == list(range(1, total + 1))
    assert {e.total_steps for e in events} == {total}
    assert [e.done for e in events] == [False] * (total - 1) + [True]
    assert events[0].layer_index == 0 and events[-1].layer_index == 1
    assert all(p is not None and p.image.dtype == np.uint8 for _, p in pairs[:-1]) and pairs[-1][1] is None
    assert result.model_name == "test-bundle" and result.model_fingerprint == pipeline.bundle.info.fingerprint


def test_first_preview_arrives_before_the_result_and_a_run_can_be_stopped_midway(pipeline):
    image = _surface(200, 200)
    request = _request(image, (_mask(200, 200, (40, 40, 140, 120)), "scratches"))
    run = pipeline.run(request)
    first = next(run)
    assert pipeline.preview(first) is not None and first.result is None and first.step == 1
    run.close()  # the user pressed Stop
    assert not pipeline.bundle.transformer.training
    again = list(pipeline.run(request))
    assert again[-1].result is not None


def test_events_are_the_same_whatever_the_clock_and_a_finished_window_says_so(pipeline, monkeypatch):
    import time

    image = _surface(200, 200)
    request = _request(
        image, (_mask(200, 200, (40, 40, 150, 150)), "patches"), (_mask(200, 200, (160, 160, 190, 190)), "crazing")
    )
    first = list(pipeline.run(request))
    ticks = iter(range(0, 10**6, 1000))  # a clock that leaps an hour a call: must not change what is emitted
    monkeypatch.setattr(time, "perf_counter", lambda: float(next(ticks)))
    second = list(pipeline.run(request))
    assert first[:-1] == second[:-1]  # same steps, layers and window ends, event for event
    done = [e.step for e in first if e.window_done]
    assert done == [max(e.step for e in first if e.layer_index == 0)]  # the first layer's one window
    assert first[-1].window_done is False  # the last step is the result event


def test_a_finished_window_preview_is_the_window_as_it_ends_up_and_an_old_step_cannot_be_shown(pipeline):
    image = _surface(200, 200)
    request = _request(
        image, (_mask(200, 200, (40, 40, 150, 150)), "patches"), (_mask(200, 200, (160, 160, 190, 190)), "crazing")
    )
    run = pipeline.run(request)
    stale = next(run)
    finished = next(event for event in run if event.window_done)
    preview = pipeline.preview(finished)
    events = list(run)
    x0, y0, x1, y1 = preview.box
    result = events[-1].result.variants[0].image
    outside_second_layer = ~_mask(200, 200, (150, 150, 200, 200))[y0:y1, x0:x1]
    assert np.array_equal(preview.image[outside_second_layer], result[y0:y1, x0:x1][outside_second_layer])
    with pytest.raises(RuntimeError, match="over"):
        pipeline.preview(stale)


def test_variants_in_one_batch_differ_and_are_reproducible(pipeline):
    image = _surface(200, 200)
    mask = _mask(200, 200, (50, 50, 120, 110))
    _, first = _run(pipeline, _request(image, (mask, "pitted_surface"), seed=11, variants=3))
    _, again = _run(pipeline, _request(image, (mask, "pitted_surface"), seed=11, variants=3))
    assert [v.seed for v in first.variants] == [11, 12, 13]
    for a, b in zip(first.variants, again.variants, strict=True):
        assert np.array_equal(a.image, b.image)
    assert not np.array_equal(first.variants[0].image, first.variants[1].image)
    # A variant is its seed's own result, batched or not (up to float rounding in the batched decode).
    _, single = _run(pipeline, _request(image, (mask, "pitted_surface"), seed=12, variants=1))
    assert np.abs(single.variants[0].image.astype(int) - first.variants[1].image).max() <= 1


def test_layers_of_different_classes_apply_in_turn(pipeline):
    image = _surface(200, 200)
    first = _mask(200, 200, (20, 20, 80, 60))
    second = _mask(200, 200, (110, 120, 170, 180))
    _, one = _run(pipeline, _request(image, (first, "scratches")))
    _, both = _run(pipeline, _request(image, (first, "scratches"), (second, "patches")))
    variant = both.variants[0]
    assert set(variant.label_masks) == {"scratches", "patches"}
    assert variant.label_masks["scratches"][first].all()
    assert {b.defect_class for b in variant.boxes} == {"scratches", "patches"}
    # Layer 2 works on layer 1's output: away from layer 2, the image is layer 1's result.
    away = ~dilate(second, 12)
    assert np.array_equal(variant.image[away], one.variants[0].image[away])


def test_a_later_layer_replaces_earlier_labels_under_it(pipeline):
    image = _surface(200, 200)
    scratch = _mask(200, 200, (20, 20, 120, 60))
    patch = _mask(200, 200, (80, 20, 120, 60))
    _, result = _run(pipeline, _request(image, (scratch, "scratches"), (patch, "patches")))
    variant = result.variants[0]
    labels = variant.label_masks
    assert labels["scratches"][scratch & ~patch].all() and not labels["scratches"][patch].any()
    assert labels["patches"][patch].all()
    changed = np.any(variant.image != image, axis=2)
    assert not (changed & ~(labels["scratches"] | labels["patches"])).any()


def test_cleanup_class_erases_without_a_label(pipeline):
    image = _surface(200, 200)
    mask = _mask(200, 200, (60, 60, 100, 100))
    _, result = _run(pipeline, _request(image, (mask, CLEANUP_CLASS)))
    variant = result.variants[0]
    assert variant.label_masks == {} and variant.boxes == []
    assert not np.array_equal(variant.image[mask], image[mask])


@pytest.mark.parametrize("tighten", [False, True])
def test_every_pixel_a_cleanup_changed_lies_in_its_recorded_region(pipeline, tighten):
    """Issue 18 item 6: Clean-up changes pixels (its feather band too) that no label marks; they are recorded as
    the variant's clean-up region, so every changed pixel lies in a label or there."""
    image = _surface(200, 200, seed=2)
    erase = _mask(200, 200, (30, 30, 80, 90))
    scratch = _mask(200, 200, (120, 100, 170, 130))
    request = _request(image, (erase, CLEANUP_CLASS), (scratch, "scratches"), variants=2, tighten_labels=tighten)
    _, result = _run(pipeline, request)
    band = dilate(erase, _feather_band_px(request, 200))
    for variant in result.variants:
        region = variant.cleanup_mask
        changed = np.any(variant.image != image, axis=2)
        assert region is not None and region[erase].all() and not (region & ~band).any()
        assert (changed & ~erase & ~scratch).any()  # the blend's band: changed, painted by nobody
        assert not (changed & ~region & ~dilate(scratch, _feather_band_px(request, 200))).any()
        if not tighten:  # (a tightened label holds the visible changes only, as before)
            assert not (changed & ~(region | variant.label_masks["scratches"])).any()
    _, plain = _run(pipeline, _request(image, (scratch, "scratches")))
    assert plain.variants[0].cleanup_mask is None


def _thin_curve(height: int, width: int) -> np.ndarray:
    """A hand-painted-looking scratch: a 3 px diagonal stroke."""
    import cv2

    canvas = np.zeros((height, width), np.uint8)
    cv2.polylines(canvas, [np.array([[30, 150], [90, 110], [160, 60]], np.int32)], False, 1, 3)
    return canvas.astype(bool)


@pytest.mark.parametrize("shape", ["box", "curve"])
@pytest.mark.parametrize("size", [(200, 200), (240, 320)])
def test_every_changed_pixel_lies_inside_the_exported_label(pipeline, shape, size):
    height, width = size
    image = _surface(height, width, seed=3)
    mask = _mask(height, width, (60, 70, 110, 100)) if shape == "box" else _thin_curve(height, width)
    request = _request(image, (mask, "scratches"), variants=2)
    _, result = _run(pipeline, request)
    band = dilate(mask, _feather_band_px(request, max(size)))
    for variant in result.variants:
        label = variant.label_masks["scratches"]
        changed = np.any(variant.image != image, axis=2)
        assert changed.any() and not (changed & ~label).any()
        assert (label & mask).sum() == mask.sum()  # the painted mask is always labelled
        assert not (label & ~band).any()  # ...and grown no farther than the feather band
        assert len(variant.boxes) == 1  # one painted stroke, one defect, one box


def test_tightened_labels_cover_every_visibly_changed_pixel(pipeline):
    image = _surface(200, 200)
    mask = _mask(200, 200, (40, 40, 140, 120))
    request = _request(image, (mask, "patches"), tighten_labels=True)
    _, result = _run(pipeline, request)
    variant = result.variants[0]
    label = variant.label_masks["patches"]
    visible = np.abs(variant.image.astype(int) - image).max(axis=2) > 12
    assert label.any() and not (visible & ~label).any()
    assert not (label & ~dilate(mask, _feather_band_px(request, 200))).any()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: r.layers[0].mask.fill(False), "empty"),
        (lambda r: r.layers[0].mask.fill(True), "whole image"),
        (lambda r: setattr(r.layers[0], "mask", np.ones((100, 200), bool)), "200x100 but the image is 200x200"),
        (lambda r: setattr(r.layers[0], "defect_class", "rust"), "unknown defect class 'rust'.*scratches"),
        (lambda r: setattr(r, "variants", 0), "variants"),
        (lambda r: setattr(r, "seed", -1), "seed"),
        (lambda r: setattr(r, "layers", []), "no mask"),
        (lambda r: setattr(r, "sampler", SamplerConfig(steps=0)), "steps"),
        (lambda r: setattr(r, "image", np.zeros((200, 200), np.uint8)), "uint8 RGB"),
    ],
)
def test_bad_requests_are_refused_before_the_first_step(pipeline, change, message):
    request = _request(_surface(200, 200), (_mask(200, 200, (10, 10, 50, 50)), "scratches"))
    change(request)
    with pytest.raises(PipelineError, match=message):
        pipeline.run(request)  # raises on the call, not on the first next()


def test_unknown_classes_are_named_once_each_with_the_facts_a_front_end_words_its_own_way(pipeline):
    from core.pipeline import UnknownClassError

    request = _request(
        _surface(200, 200),
        (_mask(200, 200, (10, 10, 50, 50)), "rust"),
        (_mask(200, 200, (60, 60, 90, 90)), CLEANUP_CLASS),
        (_mask(200, 200, (100, 100, 150, 150)), "dent"),
        (_mask(200, 200, (120, 10, 150, 50)), "rust"),
    )
    with pytest.raises(UnknownClassError) as caught:
        pipeline.plan_summary(request)
    error = caught.value
    assert error.unknown == ["rust", "dent"] and error.model == pipeline.bundle.name
    assert error.known == pipeline.bundle.class_names
    pipeline.check_classes(["scratches", CLEANUP_CLASS])  # what synth asks before reading any image


def test_out_of_memory_becomes_a_device_error_a_user_can_act_on(bundle, monkeypatch):
    def exhausted(*args, **kwargs):
        raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")

    pipeline = InpaintPipeline(bundle)
    monkeypatch.setattr(bundle.vq, "decode_codes", exhausted)
    request = _request(_surface(200, 200), (_mask(200, 200, (10, 10, 50, 50)), "scratches"))
    with pytest.raises(DeviceError, match="fewer variants"):
        list(pipeline.run(request))


@pytest.mark.parametrize(("height", "width", "tolerance"), [(1000, 2048, 0.0), (200, 200, 3.0)])
def test_generated_pixels_land_exactly_where_they_were_generated(bundle, monkeypatch, height, width, tolerance):
    """With a 'perfect' model (decode returns the window it was given) the output must equal the input:
    any shift or scale error in the window mapping would show as a large difference on a textured plate."""
    pipeline = InpaintPipeline(bundle)
    windows: list[torch.Tensor] = []  # what the tokenizer was given, in model space
    real_encode, real_decode = bundle.vq.encode, bundle.vq.decode_codes
    grids: list[tuple[int, ...]] = []

    def encode(batch):
        windows.append(batch)
        codes = real_encode(batch)
        grids.append(tuple(codes.shape[-2:]))
        return codes

    def decode(codes):  # a whole window decodes to the window it was given; a preview's part decodes for real
        if tuple(codes.shape[-2:]) != grids[-1]:
            return real_decode(codes)
        return windows[-1][:1].expand(codes.shape[0], -1, -1, -1)  # every variant's window is the same crop

    monkeypatch.setattr(bundle.vq, "encode", encode)
    monkeypatch.setattr(bundle.vq, "decode_codes", decode)
    image = _surface(height, width, seed=3)
    mask = _mask(height, width, (120, 60, 180, 130))
    _, result = _run(pipeline, _request(image, (mask, "patches")))
    error = np.abs(result.variants[0].image.astype(int) - image)
    assert error.mean() <= tolerance / 4
    assert error[mask].mean() <= tolerance  # only resampling error (NEU: 200 -> 256 -> 200), no misplacement


def test_a_gray_image_stays_gray_and_a_color_image_keeps_its_color():
    from core.pipeline import in_photo_colour

    tinted = np.zeros((4, 4, 3), np.uint8)
    tinted[..., 0], tinted[..., 1], tinted[..., 2] = 100, 110, 150  # a decoder's faint blue cast
    gray_reference = np.full((4, 4, 3), 90, np.uint8)
    region = np.zeros((4, 4), bool)
    region[1:3, 1:3] = True
    out = in_photo_colour(tinted, gray_reference, region)
    assert (out[..., 0] == out[..., 1]).all() and (out[..., 1] == out[..., 2]).all() and out[0, 0, 0] == 120
    colour_reference = gray_reference.copy()
    colour_reference[..., 2] = 95
    out = in_photo_colour(tinted, colour_reference, region)
    assert (out[..., 2].astype(int) - out[..., 0] > 0).all()  # the photo's faint blue, not the decoder's cast
    assert (out[..., 2].astype(int) - out[..., 0] < 20).all()


def _rusty_plate(height: int, width: int) -> np.ndarray:
    """A colour photo: an orange-brown plate with gray-level texture (its chroma is constant)."""
    import cv2

    luma = _surface(height, width, seed=4)[..., 0]
    ycrcb = np.dstack([luma, np.full_like(luma, 160), np.full_like(luma, 100)])
    return cv2.cvtColor(ycrcb, cv2.COLOR_YCrCb2RGB)


def test_a_colour_photo_gets_defects_in_its_own_colour_and_exports_them(pipeline, tmp_path):
    """Issue 18 item 4: the model works on gray; the photo's chroma is carried into the generated region, the
    luminance is what the model drew, and pixels outside the blend stay byte-identical."""
    import cv2
    from PIL import Image

    from core.export import DatasetExporter
    from core.imageio import load_image

    image = _rusty_plate(200, 200)
    Image.fromarray(image).save(tmp_path / "rusty.png")
    source = load_image(tmp_path / "rusty.png")
    mask = _mask(200, 200, (60, 60, 130, 110))
    request = _request(source.rgb, (mask, "patches"), source_path=tmp_path / "rusty.png")
    _, result = _run(pipeline, request)
    variant = result.variants[0]
    label = variant.label_masks["patches"]
    changed = np.any(variant.image != image, axis=2)
    assert changed[mask].mean() > 0.5 and not (changed & ~label).any()
    sample_id = DatasetExporter(tmp_path / "out", pipeline.bundle.class_names).export(result, source=source)
    exported = np.asarray(Image.open(tmp_path / "out" / "images" / "patches" / f"{sample_id}.png"))
    assert exported.shape == (200, 200, 3)
    photo_chroma = cv2.cvtColor(image, cv2.COLOR_RGB2YCrCb)[..., 1:].astype(int)
    for pixels in (variant.image, exported):
        chroma = cv2.cvtColor(np.ascontiguousarray(pixels), cv2.COLOR_RGB2YCrCb)[..., 1:].astype(int)
        assert np.abs(chroma[mask] - photo_chroma[mask]).mean() < 6  # (very dark or bright pixels clip)
        assert np.array_equal(pixels[~label], image[~label])


def test_inpainting_a_gray_image_gives_gray_pixels(test_bundle):
    from core.pipeline import InpaintPipeline

    rng = np.random.default_rng(0)
    gray = rng.integers(60, 200, (64, 64), dtype=np.uint8)
    image = np.repeat(gray[..., None], 3, axis=2)
    mask = np.zeros((64, 64), bool)
    mask[20:40, 20:40] = True
    request = InpaintRequest(
        image=image, layers=[MaskLayer(mask, "scratches")], seed=0, variants=2, sampler=test_bundle.info.sampler
    )
    *_, last = InpaintPipeline(test_bundle).run(request)
    for variant in last.result.variants:
        assert np.array_equal(variant.image[..., 0], variant.image[..., 1])
        assert np.array_equal(variant.image[..., 1], variant.image[..., 2])


def test_plan_summary_counts_windows_and_steps_without_running(pipeline):
    image = _surface(200, 200)
    request = _request(
        image, (_mask(200, 200, (20, 20, 60, 50)), "patches"), (_mask(200, 200, (120, 120, 180, 160)), "crazing")
    )
    summary = pipeline.plan_summary(request)
    assert summary.windows == 2 and summary.steps == pipeline.total_steps(request)
    assert summary.specks.regions == 2 and summary.speck_warning() is None


def test_plan_summary_warns_about_a_mask_of_tiny_dots(pipeline):
    image = _surface(400, 600)
    dots = np.zeros((400, 600), bool)
    dots[8:392:20, 8:592:20] = True  # 20 x 30 one-pixel dots
    summary = pipeline.plan_summary(_request(image, (dots, "patches")))
    assert summary.specks.regions == 600 and summary.specks.mostly_specks
    warning = summary.speck_warning()
    assert "mostly specks" in warning and "600 of its 600 regions" in warning
    assert f"{summary.windows} windows ({summary.steps} steps)" in warning and "\n" not in warning


def test_the_last_live_preview_shows_the_picture_the_run_ends_with(pipeline):
    """Tokens not revealed yet show the model's current guess, not the input: the preview at step 4 of 5 is
    the result nearly, not the clean surface with specks of defect in it."""
    image = _surface(200, 200, seed=3)
    mask = _mask(200, 200, (50, 60, 150, 140))
    sharp = SamplerConfig(steps=5, cfg_weight=1.0, top_k=1, scale_steps_to_mask=False)
    pairs, result = _run_with_previews(pipeline, _request(image, (mask, "patches"), sampler=sharp))
    assert len(pairs) == 5
    preview = pairs[-2][1]  # step 4 of 5
    x0, y0, x1, y1 = preview.box
    final = result.variants[0].image[y0:y1, x0:x1].astype(float)
    inside = mask[y0:y1, x0:x1]
    to_final = np.abs(preview.image.astype(float) - final)[inside].mean()
    input_to_final = np.abs(image[y0:y1, x0:x1].astype(float) - final)[inside].mean()
    assert to_final < 0.75 * input_to_final, (to_final, input_to_final)  # the input showed through: 0.88


def test_on_disk_every_changed_pixel_lies_in_a_label_mask_or_the_cleanup_mask(pipeline, tmp_path):
    """Issue 18 item 6, README's promise read back from the exported files: the clean-up region is saved as
    cleanup/<id>.png and named in the manifest line; a sample without Clean-up gets none."""
    import json

    from PIL import Image

    from core.export import DatasetExporter
    from core.export_formats import ExportOptions
    from core.imageio import load_mask

    image = _surface(200, 200, seed=6)
    erase = _mask(200, 200, (20, 20, 70, 80))
    scratch = _mask(200, 200, (110, 120, 180, 140))
    _, result = _run(pipeline, _request(image, (erase, CLEANUP_CLASS), (scratch, "scratches")))
    out = tmp_path / "out"
    exporter = DatasetExporter(out, pipeline.bundle.class_names, ExportOptions(formats=("voc", "yolo", "coco")))
    sample_id = exporter.export(result)
    record = json.loads((out / "manifest.jsonl").read_text())
    assert record["cleanup_mask"] == f"cleanup/{sample_id}.png" and record["cleanup_mask"] in record["files"]
    assert record["cleanup_pixels"] == int(result.variants[0].cleanup_mask.sum())
    exported = np.asarray(Image.open(out / "images" / "scratches" / f"{sample_id}.png"))
    covered = load_mask(out / "cleanup" / f"{sample_id}.png") | load_mask(
        out / "masks" / "scratches" / f"{sample_id}.png"
    )
    changed = np.any(exported != image, axis=2)
    assert (changed & ~erase & ~scratch).any() and not (changed & ~covered).any()
    assert exporter.build()["train"] == [sample_id]  # the dataset files do not take clean-up for a class
    coco = json.loads((out / "annotations" / "instances.json").read_text())
    assert {a["category_id"] for a in coco["annotations"]} == {pipeline.bundle.class_names.index("scratches") + 1}

    _, plain = _run(pipeline, _request(image, (scratch, "scratches")))
    plain_id = exporter.export(plain)
    assert "cleanup_mask" not in json.loads((out / "manifest.jsonl").read_text().splitlines()[-1])
    assert not (out / "cleanup" / f"{plain_id}.png").exists()
