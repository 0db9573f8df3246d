"""Issue 9's goals, and each measured figure of an eval report set beside its goal."""

from __future__ import annotations

from typing import Any

# Issue 9's goals, checked in every report.
GOALS = {
    "vq_ssim": 0.74,
    "class_fidelity": 0.85,
    "class_fidelity_min": 0.6,
    "kid_over_smooth_max": 0.25,
    "grid_over_real_max": 1.05,
    "cleanup_over_background_max": 1.5,
    "seconds_per_inpaint_max": 1.0,
    # Issue 17: grain inside painted shapes like real defects' and the photo's own; no pasted-on outline.
    "grain_band": (0.8, 1.25),
    "outline_ratio_max": 1.5,
}
JUDGE_MIN = 0.95  # a judge less accurate than this on real held-out boxes cannot vouch for generated ones


def goals(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Each goal with the measured figure beside it: measure, value, goal (in words), met."""
    nan = float("nan")
    fidelity = report.get("class_fidelity", {})
    per_class = fidelity.get("per_class", {})
    worst = min(per_class.values()) if per_class else nan
    kid_ratio = report.get("realism_kid", {}).get("generated_over_smooth", nan)
    grid = report.get("token_grid", {})
    grid_ratio_value = grid.get("generated", nan) / grid["real"] if grid.get("real") else nan
    cleanup = report.get("cleanup", {}).get("erased_over_background", nan)
    spill = report.get("label_spill", {}).get("changed_pixels_outside_label", nan)
    speed = report.get("speed", {}).get("seconds_per_inpaint", nan)
    shapes = report.get("shapes", {})
    judge = fidelity.get("judge", {}).get("heldout_accuracy", nan)
    rows = [
        ("tokenizer SSIM (held-out, original pixels)", report.get("vq", {}).get("ssim", nan), ">=", GOALS["vq_ssim"]),
        ("judge accuracy on real held-out boxes", judge, ">=", JUDGE_MIN),
        ("class fidelity, overall", fidelity.get("overall", nan), ">=", GOALS["class_fidelity"]),
        ("class fidelity, worst class", worst, ">=", GOALS["class_fidelity_min"]),
        ("KID generated / KID smooth fill", kid_ratio, "<=", GOALS["kid_over_smooth_max"]),
        ("token grid generated / real", grid_ratio_value, "<=", GOALS["grid_over_real_max"]),
        ("clean-up texture distance / background's", cleanup, "<=", GOALS["cleanup_over_background_max"]),
        ("changed pixels outside the label", spill, "<=", 0),
        ("seconds per inpaint (median)", speed, "<=", GOALS["seconds_per_inpaint_max"]),
        (
            "grain in painted shapes / real defects of the class",
            shapes.get("grain_over_real", nan),
            "in",
            GOALS["grain_band"],
        ),
        (
            "grain in painted shapes / the photo's own around them",
            shapes.get("grain_over_around", nan),
            "in",
            GOALS["grain_band"],
        ),
        (
            "outline edge in painted shapes / original, worst shape",
            shapes.get("outline_ratio_worst_shape", nan),
            "<=",
            GOALS["outline_ratio_max"],
        ),
    ]
    return [
        {
            "measure": name,
            "value": value,
            "goal": f"{target[0]} to {target[1]}" if op == "in" else f"{op} {target}",
            "met": bool(_met(value, op, target)),
        }
        for name, value, op, target in rows
    ]


def _met(value: float, op: str, target: Any) -> bool:
    if op == "in":
        return target[0] <= value <= target[1]
    return value >= target if op == ">=" else value <= target
