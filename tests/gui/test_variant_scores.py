"""Issue 13 in the app: every variant's measured scores under its thumbnail, best first, poor ones flagged, and the
right variant exported after sorting (with its scores in the manifest). Issue 11: a mask of specks is announced
before it runs, with the windows and steps it needs."""

from __future__ import annotations

import json
import threading

import numpy as np
from PIL import Image

from app import dialogs
from app.controller import Controller
from app.gallery import POOR_ROLE, VARIANT_ROLE
from core.masks import feathered_alpha
from core.request import Box, InpaintResult, PipelineEvent, VariantResult
from core.scoring import Critic, SmallCNN
from tests.gui.conftest import drag, make_window, type_dataset_folder, wait_for_model


class SpillingPipeline:
    """Three variants with known pixels, each the mask brightened by a different amount; #1 also changes a patch far
    outside the mask (spill: poor, sorted last)."""

    def __init__(self, bundle) -> None:
        self.bundle = bundle

    def validate(self, request) -> None:
        if not request.layers:
            raise ValueError("nothing to inpaint")

    def preview(self, event):
        return None

    def run(self, request):
        mask = np.zeros(request.image.shape[:2], bool)
        for layer in request.layers:
            mask |= layer.mask
        rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
        box = Box(request.layers[0].defect_class, int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)
        alpha = feathered_alpha(mask, 8)[..., None]  # blended in smoothly, as the real pipeline does: no seam
        label = alpha[..., 0] > 0
        variants = []
        for index, seed in enumerate(request.seeds):
            image = np.clip(request.image + alpha * (20 + 10 * index), 0, 255).astype(np.uint8)
            if index == 0:
                image[200:240, 0:80] = 255  # far from the mask, unlabeled
            variants.append(VariantResult(seed, image, {box.defect_class: label.copy()}, [box]))
        yield PipelineEvent(
            0, 1, 1, 1, result=InpaintResult(request, variants, self.bundle.name, self.bundle.info.fingerprint, 0.0)
        )


def _scratch_and_generate(qtbot, window, variants: int = 3) -> None:
    window.set_active_class("scratches")
    window.set_tool("rectangle")
    drag(window.canvas, [(100, 80), (160, 120)])
    window.sampler_panel.variants.setValue(variants)
    window.sampler_panel.random_seed.setChecked(False)
    window.sampler_panel.seed.setValue(10)
    window.actions_.generate.trigger()
    qtbot.waitUntil(lambda: not window.controller.busy and window.generation.result is not None, timeout=60000)


def test_the_gallery_sorts_best_first_flags_the_spilling_variant_and_exports_the_selected_one(
    qtbot, config_dir, messages, image_path, gui_bundle_path, tmp_path, monkeypatch
):
    window = make_window(qtbot, controller=Controller(pipeline_factory=SpillingPipeline))
    window.start(image=image_path, model=gui_bundle_path)
    wait_for_model(qtbot, window)
    _scratch_and_generate(qtbot, window)
    gallery, generation = window.gallery, window.generation
    order = [gallery.list.item(row).data(VARIANT_ROLE) for row in range(3)]
    scores = generation.scores
    assert order[2] == 0 and order == sorted(range(3), key=lambda i: -scores[i].score)  # the spilling #1 last
    assert [gallery.list.item(row).text().split("\n")[0] for row in range(3)] == [
        f"#{v + 1} · seed {10 + v}" for v in order
    ]
    last = gallery.list.item(2)
    assert last.data(POOR_ROLE) and last.text().split("\n")[1].startswith("⚠ spill")
    assert "Poor: spill" in last.toolTip() and "No classifier" in last.toolTip()
    assert not gallery.list.item(0).data(POOR_ROLE) and "Poor" not in gallery.list.item(0).toolTip()
    assert gallery.score_note.isVisibleTo(gallery) and "no classifier" in gallery.score_note.text()
    assert generation.shown_variant == order[0]  # the best is on the canvas first

    second = order[1]
    gallery.list.setCurrentRow(1)  # the second best, which is not the variant at index 1 of the result
    assert generation.shown_variant == second
    gallery.accept_button.click()
    assert generation.accepted == second and gallery.current_variant() == second and gallery.row_of(second) == 1
    dataset = tmp_path / "dataset"
    type_dataset_folder(monkeypatch, dataset)
    window.actions_.export.trigger()
    qtbot.waitUntil(lambda: "Exported" in window.statusBar().currentMessage(), timeout=20000)
    written = sorted((dataset / "images").rglob("*.png"))
    assert len(written) == 1
    exported = np.asarray(Image.open(written[0]).convert("RGB"))
    assert np.array_equal(exported, generation.result.variants[second].image)
    assert not any(np.array_equal(exported, v.image) for i, v in enumerate(generation.result.variants) if i != second)
    record = json.loads((dataset / "manifest.jsonl").read_text().splitlines()[0])
    recorded = record["extra"]["scores"]
    assert record["seed"] == recorded["seed"] == 10 + second
    assert recorded["rank"] == 2 and recorded["of"] == 3 and not recorded["poor"]
    assert recorded["score"] == round(scores[second].score, 4)
    assert recorded["ranked_by"].startswith("spill and seam") and recorded["class_fidelity"] is None
    assert set(recorded) >= {"realism", "spill", "seam", "reasons"}
    assert messages == []
    window.close()


def test_with_a_classifier_the_scores_are_measured_off_the_ui_thread_and_read_class_and_real(
    window, qtbot, monkeypatch
):
    import core.scoring

    names = window.controller.model.info.class_names
    rng = np.random.default_rng(0)
    model = SmallCNN(len(names), width=4).eval()
    window.controller.model.bundle.critic = Critic(
        model, list(names), {name: rng.normal(0, 1, (8, 16)).astype(np.float32) for name in names}
    )
    threads = []
    original = core.scoring.score_variants

    def recording(*args, **kwargs):
        threads.append(threading.current_thread())
        return original(*args, **kwargs)

    monkeypatch.setattr(core.scoring, "score_variants", recording)
    _scratch_and_generate(qtbot, window, variants=2)
    assert threads and threads[0] is not threading.main_thread()
    gallery = window.gallery
    scores = window.generation.scores
    assert len(scores) == 2 and window.generation.has_critic
    assert [gallery.list.item(row).data(VARIANT_ROLE) for row in range(2)] == sorted(
        range(2), key=lambda i: -scores[i].score
    )
    line = gallery.list.item(0).text().split("\n")[1]
    assert "class 0." in line and " · real " in line
    assert not gallery.score_note.isVisibleTo(gallery)


def _dots(window) -> np.ndarray:
    dots = np.zeros((window.document.height, window.document.width), bool)
    dots[10:230:16, 10:310:16] = True  # 14 x 19 one-pixel dabs
    return dots


def test_a_mask_of_specks_asks_before_it_runs_and_no_leaves_it_unrun(window, qtbot, monkeypatch):
    asked = []
    monkeypatch.setattr(dialogs, "ask_yes_no", lambda parent, title, text: asked.append(text) or False)
    window.set_active_class("patches")
    window.document.import_mask(_dots(window))
    window.actions_.generate.trigger()
    assert len(asked) == 1 and "mostly specks: 266 of its 266 regions are under 16 px" in asked[0]
    assert "windows" in asked[0] and "Generate anyway?" in asked[0]
    assert not window.controller.busy and window.generation.result is None
    assert "mostly specks" in window.statusBar().currentMessage()


def test_a_run_of_specks_once_confirmed_says_its_windows_and_steps_and_is_not_asked_again(window, qtbot, messages):
    window.set_active_class("patches")
    window.document.import_mask(_dots(window))
    started = []
    window.controller.runStarted.connect(lambda _request: started.append(window.statusBar().currentMessage()))
    window.actions_.generate.trigger()
    summary = window.generation.plan_summary(window.controller.last_request)
    assert len(messages) == 1 and messages[0][1] == "Mask is mostly specks"  # answered Yes
    assert f"{summary.windows} window(s), {summary.steps} steps" in started[0]
    qtbot.waitUntil(lambda: not window.controller.busy and window.generation.result is not None, timeout=60000)
    window.gallery.rerun_button.click()
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=60000)
    assert len(messages) == 1  # the same mask: asked once


def test_an_ordinary_mask_runs_without_a_question_and_says_its_windows(window, qtbot, messages):
    started = []
    window.controller.runStarted.connect(lambda _request: started.append(window.statusBar().currentMessage()))
    _scratch_and_generate(qtbot, window, variants=1)
    assert messages == [] and started[0].startswith("Preparing: 1 window(s), ")


def test_at_the_default_layout_every_score_line_reads_in_full_and_unflagged_variants_come_first(window, qtbot):
    from PySide6.QtCore import QRect, Qt

    names = window.controller.model.info.class_names
    rng = np.random.default_rng(0)
    window.controller.model.bundle.critic = Critic(
        SmallCNN(len(names), width=4).eval(),
        list(names),
        {name: rng.normal(0, 1, (8, 16)).astype(np.float32) for name in names},
        real_grain={name: rng.uniform(0.5, 2.0, 32).astype(np.float32) for name in names},
    )
    _scratch_and_generate(qtbot, window, variants=3)
    gallery, scores = window.gallery, window.generation.scores
    view = gallery.list
    order = [view.item(row).data(VARIANT_ROLE) for row in range(view.count())]
    flags = [scores[v].poor for v in order]
    assert flags == sorted(flags)  # every unflagged variant above every flagged one
    metrics = view.fontMetrics()
    for row in range(view.count()):
        item = view.item(row)
        assert "grain " in item.text()
        view.scrollToItem(item)
        qtbot.waitUntil(lambda item=item: view.viewport().rect().contains(view.visualItemRect(item)))
        rect = view.visualItemRect(item)
        text_width = rect.width() - view.iconSize().width() - 12
        needed = metrics.boundingRect(QRect(0, 0, text_width, 10_000), Qt.TextFlag.TextWordWrap, item.text())
        assert needed.height() <= rect.height(), (item.text(), rect)
