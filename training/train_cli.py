"""`defectforge train vq|tokenize|maskgit`: the training jobs, in the order they run.

  vq        VQ tokenizer (LlamaGen recipe) on a dataset            -> <out>/bundle (VQ + untrained transformer)
  tokenize  dataset -> token cache (8 dihedral augmentations)      -> cache folder
  maskgit   Halton-MaskGIT transformer on a token cache            -> <out>/bundle (the model the app uses)
  classifier  the defect classifier that scores variants             -> <bundle>/classifier.safetensors
  state     a run's latest checkpoint packed into one bf16 file, or back (a campaign across sessions)

Every option can also come from a YAML file: `--config job.yaml` (keys are the option names); flags typed on the
command line win over the file. Runs resume from their last checkpoint when started again with the same --out.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from core.bundle import BundleError
from core.config import ConfigError
from core.device import DeviceError
from core.flags import add_config_flags
from training.datasets import DataError
from training.jobs import JobError
from training.options import CliError, OneLineParser, build_config, command_line, report_error

PROG = "defectforge train"


def _jobs() -> dict[str, tuple[type, Callable[..., Any], str]]:
    from training.campaign_state import StateConfig, run_state
    from training.classifier import ClassifierConfig, train_bundle_classifier
    from training.tokenize import TokenizeConfig, tokenize
    from training.train_maskgit import MaskGITConfig, train_maskgit
    from training.train_vq import VQTrainConfig, train_vq

    return {
        "vq": (VQTrainConfig, train_vq, "train the VQ tokenizer (from scratch or from a LlamaGen checkpoint)"),
        "tokenize": (TokenizeConfig, tokenize, "encode a dataset into a token cache for MaskGIT training"),
        "maskgit": (MaskGITConfig, train_maskgit, "train the Halton-MaskGIT transformer on a token cache"),
        "classifier": (
            ClassifierConfig,
            train_bundle_classifier,
            "train the defect classifier that scores variants (or adopt an eval judge) and add it to a bundle",
        ),
        "state": (StateConfig, run_state, "pack a run's latest checkpoint into one small file, or unpack it to resume"),
    }


def build_parser(jobs: dict[str, tuple[type, Callable[..., Any], str]]) -> OneLineParser:
    parser = OneLineParser(prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="job", required=True, metavar="JOB", parser_class=OneLineParser)
    for name, (config_cls, _, text) in jobs.items():
        job_parser = sub.add_parser(name, help=text, description=text)
        job_parser.add_argument("--config", help="YAML file with option values (flags override it)")
        add_config_flags(job_parser, config_cls)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        jobs = _jobs()
        args = build_parser(jobs).parse_args(argv)
        config_cls, run, _ = jobs[args.job]
        config = build_config(config_cls, args, args.config)
        run(config, command=command_line(PROG, argv))
    except (CliError, ConfigError, JobError, DataError, BundleError, DeviceError, FileNotFoundError) as exc:
        return report_error(PROG if not argv else f"{PROG} {argv[0]}", exc)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; start the same command again to resume from the last checkpoint", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
