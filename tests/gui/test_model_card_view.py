"""The Model tab's curves as a user sees them: a held-out log with one evaluation shows its point, and every
legend entry lies inside its plot at the dock's width."""

from __future__ import annotations

import numpy as np

from app.model_card import SERIES_COLORS, CurvePlot, ModelCardView
from core.model_card import Curve, ModelCard


def _pixels(widget) -> np.ndarray:
    image = widget.grab().toImage().convertToFormat(widget.grab().toImage().Format.Format_RGB888)
    view = np.frombuffer(image.constBits(), np.uint8, image.sizeInBytes()).reshape(image.height(), -1)
    return view[:, : image.width() * 3].reshape(image.height(), image.width(), 3)


def test_a_held_out_log_with_one_evaluation_shows_its_point_and_says_so(qtbot):
    plot = CurvePlot("vq: held-out", {"val_ssim": [(500.0, 0.71)]})
    qtbot.addWidget(plot)
    plot.resize(300, plot.heightForWidth(300))
    plot.show()
    qtbot.waitExposed(plot)
    assert "one evaluation" in plot.legend_labels()[0] and "0.71" in plot.legend_labels()[0]
    pixels = _pixels(plot).astype(int)
    color = SERIES_COLORS[0]
    close = (np.abs(pixels - [color.red(), color.green(), color.blue()]).sum(axis=2) < 40).nonzero()
    legend_top = plot.legend_layout(300)[0].top()
    in_plot = [
        (y, x)
        for y, x in zip(*close, strict=True)
        if 30 < x < 270 and plot.fontMetrics().height() + 12 < y < legend_top - 6
    ]
    assert len(in_plot) >= 12  # a dot well inside the frame, not a speck on its edge


def test_every_legend_entry_lies_inside_its_plot_at_the_docks_width(qtbot):
    columns = ["loss", "recon_loss", "perceptual_loss", "codebook_loss", "gan_g_loss", "disc_loss", "gan_weight"]
    curve = Curve(
        "vq",
        train={name: [(10.0, 1.0 + i), (20.0, 0.5 + i)] for i, name in enumerate(columns)},
        heldout={"val_ssim": [(20.0, 0.7)], "val_psnr": [(20.0, 24.0)]},
    )
    card = ModelCard("m", ["a"], "NEU-DET", None, 20, {}, None, {}, [curve])
    view = ModelCardView()
    qtbot.addWidget(view)
    view.resize(320, 900)
    view.show_card(card, "f" * 64)
    view.show()
    qtbot.waitExposed(view)
    assert len(view.plots) == 2
    for plot in view.plots:
        qtbot.waitUntil(lambda plot=plot: plot.height() >= plot.heightForWidth(plot.width()))
        rects = plot.legend_layout(plot.width())
        assert len(rects) == len(plot.series)
        for rect in rects:
            assert rect.left() >= 0 and rect.right() <= plot.width() and rect.bottom() <= plot.height()
