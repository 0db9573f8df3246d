"""The eval report as Markdown: the same numbers as report.json, laid out for a person."""

from __future__ import annotations

import math
from typing import Any


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "**no**"
    if isinstance(value, float):
        if math.isnan(value):
            return "n/a"
        return f"{value:.4f}" if abs(value) < 100 else f"{value:.1f}"
    return str(value)


def _table(rows: list[tuple[str, Any]]) -> list[str]:
    return ["| measure | value |", "|---|---|", *[f"| {name} | {_fmt(value)} |" for name, value in rows], ""]


def render_markdown(report: dict[str, Any]) -> str:
    b, d = report["bundle"], report["data"]
    lines = [
        f"# Quality report: {b['name']}",
        "",
        f"- Bundle: `{b['path']}` (fingerprint `{b['fingerprint'][:12]}`), {len(b['classes'])} classes, "
        f"{b['image_size']} px, {b.get('trained_steps')} MaskGIT steps",
        f"- Data: `{d['root']}` ({d['kind']}), {d['heldout_images']} held-out images "
        f"(split {d['split']['val_fraction']}, seed {d['split']['seed']})",
        f"- Command: `{report.get('command', '')}`",
        "",
        "## Goals",
        "",
        *[f"- {goal}: {_fmt(met)}" for goal, met in report["goals"].items()],
        "",
        "## VQ tokenizer (reconstruction of held-out images)",
        "",
    ]
    vq = report["vq"]
    lines += _table([("SSIM", vq["ssim"]), ("PSNR (dB)", vq["psnr"]), ("Edge IoU (Canny, 1 px tolerance)",
                                                                       vq["edge_iou"]),
                     ("codebook usage on held-out", vq["heldout_codebook_usage"]), ("images", vq["images"])])
    mg = report["maskgit"]
    lines += ["## MaskGIT transformer (held-out tokens)", ""]
    lines += _table([("cross-entropy, random arccos masks", mg["heldout_ce"]),
                     ("masked-token accuracy, random masks", mg["masked_token_accuracy"]),
                     ("cross-entropy, defect region hidden", mg["region_ce"]),
                     ("masked-token accuracy, defect region", mg["region_accuracy"])])
    cf = report["class_fidelity"]
    lines += ["## Class fidelity (classifier trained on real train-split defects, applied to generated ones)", ""]
    if "skipped" in cf:
        lines += [f"Skipped: {cf['skipped']}", ""]
    else:
        lines += ["| class | accuracy |", "|---|---|", *[f"| {k} | {_fmt(v)} |" for k, v in cf["per_class"].items()],
                  f"| **overall** | **{_fmt(cf['overall'])}** |", "",
                  f"Classifier accuracy on real held-out defects: {_fmt(cf['classifier_real_heldout_accuracy'])} "
                  f"({cf['classifier_train_crops']} training crops). {cf['generated_per_class']} generated defects "
                  f"per class on {cf['base_images']}. Examples: `generated.png` (base | generated).", ""]
    seam = report["seam"]
    if seam:
        lines += ["## Seam", "",
                  "Mean gradient on the blend boundary band divided by the mean gradient just inside and outside it; "
                  "the same on the base image is the reference. A ratio near 1 means no visible seam.", ""]
        lines += _table([("generated", seam["generated"]), ("reference (base image)", seam["reference"]),
                         ("ratio generated / reference", seam["ratio"]), ("samples", seam["measured"])])
    dv = report["diversity"]
    lines += ["## Diversity (variants of one mask)", ""]
    lines += _table([("metric", dv["metric"]), ("mean pairwise distance", dv["mean"]), ("masks", dv["masks"]),
                     ("variants per mask", dv["variants"])])
    sp = report["speed"]
    if sp:
        lines += ["## Speed", ""]
        lines += _table([("seconds per inpaint (median)", sp["seconds_per_inpaint"]), ("device", sp["device"]),
                         ("sampler steps (at most)", sp["sampler_steps"])])
    lines += [f"Report took {report['eval_seconds']} s; peak memory {report.get('peak_rss_mb')} MiB RSS.", ""]
    return "\n".join(lines)
