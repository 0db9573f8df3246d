"""`defectforge bench`: speed figures as JSON lines (median/min/max seconds, peak RSS). Never a pass/fail test.

sampler   full 256-token generation and a 15 % inpaint, upstream tiny preset + VQ-16, random weights
pipeline  end-to-end inpaints through core.pipeline with a model bundle (NEU 200x200, GC10 2048x1000)
data      procedural sample generation (one 256x256 image with its defect and mask)
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from collections.abc import Callable

import torch

from core.config import ConfigError, SamplerConfig, sampler_preset, transformer_preset, vq_preset
from core.device import choose_device, describe
from core.flags import DEVICE_HELP, add_config_flags, device_flag, given
from core.sampler import HaltonSampler, with_overrides
from core.transformer import MaskTransformer
from core.vq import VQModel

# DESIGN.md / reference_meta.json: the unmodified upstream sampler on this machine's kind.
UPSTREAM_FULL_GENERATION_S = 10.42


def peak_rss_mb() -> float:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 1024 if sys.platform != "darwin" else rss / 2**20


def timed(fn: Callable[[], object], repeats: int, warmup: int = 1) -> dict[str, float]:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return {
        "median_s": round(statistics.median(times), 4),
        "min_s": round(min(times), 4),
        "max_s": round(max(times), 4),
        "runs": repeats,
    }


def emit(record: dict) -> None:
    record["peak_rss_mb"] = round(peak_rss_mb(), 1)
    print(json.dumps(record), flush=True)


def bench_sampler(args: argparse.Namespace) -> None:
    device = choose_device(args.device)
    torch.manual_seed(0)
    vq = VQModel(vq_preset("vq16")).eval().to(device)
    model = MaskTransformer(transformer_preset(args.preset)).eval().to(device)
    cfg = args.sampler
    sampler = HaltonSampler(model, cfg)
    base = {"device": describe(device), "preset": args.preset, "steps": cfg.steps, "cfg": cfg.cfg_weight, "batch": 1}

    def full_generation():
        *_, last = sampler.generate([0], seeds=[0])
        with torch.no_grad():
            return vq.decode_codes(last.codes.to(device))

    result = timed(full_generation, args.repeats)
    emit(
        {
            "scenario": "sampler.full_generation",
            **base,
            **result,
            "speedup_vs_upstream": round(UPSTREAM_FULL_GENERATION_S / result["median_s"], 2),
        }
    )

    grid = model.config.input_size
    token_mask = torch.zeros(grid, grid, dtype=torch.bool)
    token_mask.view(-1)[: round(0.15 * grid * grid)] = True  # 15 % of the grid: 39 of 256 tokens
    token_mask = token_mask.view(grid, grid).roll((5, 4), dims=(0, 1))
    rows, cols = torch.nonzero(token_mask, as_tuple=True)
    top, left = int(rows.min()), int(cols.min())
    side_r, side_c = int(rows.max()) - top + 1, int(cols.max()) - left + 1
    codes = torch.randint(0, model.config.codebook_size, (1, grid, grid))

    def inpaint(window: bool):
        *_, last = sampler.inpaint(codes, token_mask, [0], seeds=[0])
        with torch.no_grad():
            if window:
                return vq.decode_window(last.codes.to(device), top, left, side_r, side_c, margin=3)
            return vq.decode_codes(last.codes.to(device))

    n_steps = cfg.steps_for(int(token_mask.sum()), grid * grid)
    for window in (False, True):
        result = timed(lambda w=window: inpaint(w), args.repeats)
        emit(
            {
                "scenario": "sampler.inpaint_15pct" + ("_window_decode" if window else "_full_decode"),
                **base,
                "masked_tokens": int(token_mask.sum()),
                "steps_run": n_steps,
                **result,
                "speedup_vs_upstream_full": round(UPSTREAM_FULL_GENERATION_S / result["median_s"], 2),
            }
        )

    with torch.no_grad():
        fwd = timed(
            lambda: model(
                codes.repeat(2, 1, 1).to(device),
                torch.tensor([0, 0], device=device),
                torch.tensor([False, True], device=device),
            ),
            args.repeats,
        )
        dec = timed(lambda: vq.decode_codes(codes.to(device)), args.repeats)
    emit(
        {
            "scenario": "sampler.parts",
            **base,
            "transformer_forward_batch2_s": fwd["median_s"],
            "vq_decode_256px_s": dec["median_s"],
        }
    )


def bench_data(args: argparse.Namespace) -> None:
    from core.procedural import NEU_CLASSES, make_sample

    for defect_class in NEU_CLASSES:
        seeds = iter(range(10_000))
        result = timed(lambda c=defect_class, s=seeds: make_sample(next(s), 256, c), args.repeats * 5)
        emit({"scenario": f"data.procedural_256px.{defect_class}", **result})


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="defectforge bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="what", required=True)
    s = sub.add_parser("sampler", help="sampler speed against the upstream reference")
    s.add_argument("--preset", default="tiny", help="transformer preset; the sampler starts from its upstream settings")
    s.add_argument("--repeats", type=int, default=3)
    s.add_argument("--device", type=device_flag, default=None, help=DEVICE_HELP)
    add_config_flags(
        s.add_argument_group("sampler settings (default: the preset's, core.config.sampler_preset)"),
        SamplerConfig,
        show_defaults=False,
    )
    p = sub.add_parser("pipeline", help="end-to-end inpaint speed with a model bundle")
    p.add_argument("--model", default=None, help="bundle folder (default: the bundled default model)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--device", type=device_flag, default=None, help=DEVICE_HELP)
    d = sub.add_parser("data", help="procedural data generation speed")
    d.add_argument("--repeats", type=int, default=3)
    return parser


def sampler_config(args: argparse.Namespace) -> SamplerConfig:
    """The preset's upstream sampler settings with the flags the user gave (their Bounds checked as they were
    parsed; ConfigError for a temperature ramp that runs from high to low)."""
    return with_overrides(sampler_preset(args.preset), **given(args, SamplerConfig))


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")
    if args.what == "sampler":
        try:
            args.sampler = sampler_config(args)
        except ConfigError as exc:
            parser.error(str(exc))
        bench_sampler(args)
    elif args.what == "data":
        bench_data(args)
    else:
        from training.bench_pipeline import bench_pipeline

        bench_pipeline(args, emit, timed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
