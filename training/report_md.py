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


def goal_lines(report: dict[str, Any]) -> list[str]:
    """The figures beside their goals as plain lines, for a terminal."""
    width = max((len(g["measure"]) for g in report.get("goals", [])), default=0)
    return [
        f"{g['measure']:<{width}}  {_fmt(g['value']):>10}  goal {g['goal']:<8} {'met' if g['met'] else 'MISSED'}"
        for g in report.get("goals", [])
    ]


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
        "## Figures beside their goals",
        "",
        "| measure | value | goal | met |",
        "|---|---|---|---|",
        *[f"| {g['measure']} | {_fmt(g['value'])} | {g['goal']} | {_fmt(g['met'])} |" for g in report["goals"]],
        "",
    ]
    vq = report.get("vq")
    if vq:
        lines += [
            "## VQ tokenizer (reconstruction of held-out images)",
            "",
            f"On the original pixels ({vq.get('native_px')} px crops): the model-size round trip resized back.",
            "",
        ]
        lines += _table(
            [
                ("SSIM", vq["ssim"]),
                ("PSNR (dB)", vq["psnr"]),
                ("Edge IoU (Canny, 1 px tolerance)", vq["edge_iou"]),
                ("codebook usage on held-out", vq["heldout_codebook_usage"]),
                ("images", vq["images"]),
            ]
        )
    mg = report.get("maskgit")
    if mg:
        lines += ["## MaskGIT transformer (held-out tokens)", ""]
        lines += _table(
            [
                ("cross-entropy, random arccos masks", mg["heldout_ce"]),
                ("masked-token accuracy, random masks", mg["masked_token_accuracy"]),
                ("cross-entropy, defect region hidden", mg["region_ce"]),
                ("masked-token accuracy, defect region", mg["region_accuracy"]),
            ]
        )
    cf = report.get("class_fidelity", {"skipped": "not measured (--sections)"})
    lines += [
        "## Class fidelity",
        "",
        "A judge CNN trained on real train-split defect boxes classifies held-out real boxes that were masked "
        "and re-inpainted once per class: the requested class is the only thing that differs.",
        "",
    ]
    if "skipped" in cf:
        lines += [f"Skipped: {cf['skipped']}", ""]
    else:
        judge = cf["judge"]
        lines += [
            "| requested class | judged as requested |",
            "|---|---|",
            *[f"| {k} | {_fmt(v)} |" for k, v in cf["per_class"].items()],
            f"| **overall** | **{_fmt(cf['overall'])}** |",
            "",
            f"Judge: {_fmt(judge['heldout_accuracy'])} accuracy on {judge['heldout_crops']} real held-out "
            f"boxes ({'fair' if judge['fair'] else '**below 0.95: not a fair judge**'}; trained on "
            f"{judge['train_crops']} boxes). Per class: "
            + ", ".join(f"{k} {_fmt(v)}" for k, v in judge["heldout_accuracy_per_class"].items())
            + f". {cf['boxes']} held-out boxes, each re-inpainted once per class.",
            "",
        ]
        conf = cf["confusion"]
        lines += [
            "Confusion (rows: requested, columns: judged):",
            "",
            "| | " + " | ".join(conf["classes"]) + " |",
            "|---" * (len(conf["classes"]) + 1) + "|",
            *[
                f"| {name} | " + " | ".join(str(v) for v in row) + " |"
                for name, row in zip(conf["classes"], conf["counts"], strict=True)
            ],
            "",
        ]
    kid = report.get("realism_kid")
    if kid:
        lines += [
            "## Realism (KID in the judge's feature space, against real train-split crops of the class)",
            "",
            "Lower is closer to real. Held-out real crops are the floor; a smooth `cv2.inpaint` fill (no "
            "defect at all) is what a grey smudge scores.",
            "",
            "| class | generated | held-out real (floor) | smooth fill |",
            "|---|---|---|---|",
            *[
                f"| {k} | {_fmt(v['generated'])} | {_fmt(v['real_heldout'])} | {_fmt(v['smooth_fill'])} |"
                for k, v in kid["per_class"].items()
            ],
            f"| **mean** | **{_fmt(kid['generated'])}** | {_fmt(kid['real_heldout'])} | {_fmt(kid['smooth_fill'])} |",
            "",
            f"Generated / smooth fill: {_fmt(kid['generated_over_smooth'])}.",
            "",
        ]
    grid = report.get("token_grid")
    if grid:
        lines += [
            "## Token grid",
            "",
            f"Mean intensity step across token borders (every {grid['period_px']} px) divided by the mean step "
            "elsewhere, inside the re-inpainted boxes; 1.0 is no grid. The same boxes on the real images "
            "are the reference.",
            "",
        ]
        lines += _table([("generated", grid["generated"]), ("real", grid["real"]), ("boxes", grid["measured"])])
    spill = report.get("label_spill")
    if spill:
        lines += [
            "## Label coverage",
            "",
            f"Pixels changed by more than {spill['threshold_levels']} grey levels outside the exported "
            "label, over every re-inpainted box.",
            "",
        ]
        lines += _table(
            [
                ("changed pixels outside the label", spill["changed_pixels_outside_label"]),
                ("share of all changed pixels", spill["share_outside_label"]),
                ("largest change outside (levels)", spill["max_levels_outside"]),
            ]
        )
    cleanup = report.get("cleanup")
    if cleanup:
        lines += [
            "## Clean-up",
            "",
            "Held-out defect boxes erased with the clean-up class. Texture distance from the image's own "
            "defect-free background (outside every box): Wasserstein distance of grey levels over the "
            "background's standard deviation plus that of gradient magnitudes over the background's mean "
            "gradient. Each half of the background (left, right, top, bottom) against the whole is the floor: "
            "an erased box at that distance cannot be told from clean surface by this measure.",
            "",
        ]
        lines += _table(
            [
                ("erased box", cleanup["erased"]),
                ("the defect before erasing", cleanup["defect"]),
                ("smooth cv2.inpaint fill", cleanup["smooth_fill"]),
                ("background vs background (floor)", cleanup["background"]),
                ("erased / floor", cleanup["erased_over_background"]),
                ("images", cleanup["images"]),
            ]
        )
    seam = report.get("seam")
    if seam:
        lines += [
            "## Seam",
            "",
            "Mean gradient on the blend boundary band divided by the mean gradient just inside and outside it; "
            "the same on the base image is the reference. A ratio near 1 means no visible seam.",
            "",
        ]
        lines += _table(
            [
                ("generated", seam["generated"]),
                ("reference (base image)", seam["reference"]),
                ("ratio generated / reference", seam["ratio"]),
                ("samples", seam["measured"]),
            ]
        )
    best = report.get("best_of")
    if best:
        lines += [f"## Best of {best.get('n', 'N')} (variant scores)", ""]
        if "skipped" in best:
            lines += [f"Skipped: {best['skipped']}", ""]
        else:
            lines += [
                f"Each held-out box re-inpainted as its own class, {best['n']} variants; the scorer "
                f"({best['scorer']}) picks the best; the judge says whether it shows the requested class. "
                + (
                    "The scorer and the judge are the same network, so this favours best-of."
                    if best["same_network"]
                    else "The scorer and the judge are different networks."
                ),
                "",
            ]
            lines += _table(
                [
                    ("class fidelity, first variant", best["first_fidelity"]),
                    ("class fidelity, best of N", best["best_fidelity"]),
                    ("judge probability, first", best["first_probability"]),
                    ("judge probability, best", best["best_probability"]),
                    ("boxes improved (first wrong, best right)", best["improved"]),
                    ("boxes worsened (first right, best wrong)", best["worsened"]),
                    ("boxes", best["boxes"]),
                ]
            )
    dv = report.get("diversity")
    if dv:
        lines += ["## Diversity (variants of one mask)", ""]
        lines += _table(
            [
                ("metric", dv["metric"]),
                ("mean pairwise distance", dv["mean"]),
                ("masks", dv["masks"]),
                ("variants per mask", dv["variants"]),
            ]
        )
    sp = report.get("speed")
    if sp:
        lines += ["## Speed", ""]
        lines += _table(
            [
                ("seconds per inpaint (median)", sp["seconds_per_inpaint"]),
                ("device", sp["device"]),
                ("sampler steps (at most)", sp["sampler_steps"]),
            ]
        )
    lines += _shapes_lines(report.get("shapes"))
    critic = report.get("critic")
    if critic:
        lines += ["## Critic: does the variant score flag fakes?", ""]
        if "skipped" in critic:
            lines += [f"Skipped: {critic['skipped']}", ""]
        else:
            lines += _table(
                [
                    ("known-bad variants flagged", critic["bad"]["accuracy"]),
                    ("known-good variants not flagged", critic["good"]["accuracy"]),
                    *[(f"{kind}: share flagged", row["flagged"]) for kind, row in critic["per_kind"].items()],
                    ("held-out boxes", critic["boxes"]),
                ]
            )
    lines += [
        "Contact sheet: `contact_sheet.png` (one column per held-out image; rows: original with the mask "
        "outlined, each class, clean-up).",
        "",
    ]
    lines += [f"Report took {report['eval_seconds']} s; peak memory {report.get('peak_rss_mb')} MiB RSS.", ""]
    return "\n".join(lines)


def _shapes_lines(shapes: dict[str, Any] | None) -> list[str]:
    """The painted-shapes section: grain and outline per shape kind and per class."""
    if not shapes:
        return []
    lines = [
        "## Painted shapes (strokes, blobs, spot clusters, boxes)",
        "",
        "Shapes painted as an inspector paints them on held-out images, inpainted once per class. Grain: "
        "high-frequency energy inside the shape over real defects of the class and over the photo's own surface "
        "around the shape (goal 0.8-1.25; a blurred fill is far below 1). Outline: edge strength of the "
        "low-passed result along the painted outline over the original's (goal <= 1.5: a defect with its own "
        "outline inside the shape, the surface continued to the mask edge). Medians; sheet: `shapes_sheet.png`.",
        "",
        "| | grain / real defects | grain / photo around | outline / original |",
        "|---|---|---|---|",
    ]
    for group in ("per_shape", "per_class"):
        for name, row in shapes[group].items():
            cells = (_fmt(row[m]) for m in ("grain_over_real", "grain_over_around", "outline_ratio"))
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", f"{shapes['samples']} inpaints.", ""]
    return lines
