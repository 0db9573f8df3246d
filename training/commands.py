"""How a command with jobs runs them (`defectforge train JOB ...`, `defectforge eval [downstream] BUNDLE ...`):
a table of named jobs, each a config class (its flags) and the function that runs it, dispatched by argparse
sub-commands; what a user can fix ends the command with one line.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from core.bundle import BundleError
from core.config import ConfigError
from core.device import DeviceError
from core.pipeline import PipelineError
from training.datasets import DataError
from training.jobs import JobError
from training.options import CliError, OneLineParser, add_job_flags, build_config, command_line, report_error

# What a user can fix: these end a run with one line, anything else is a bug and keeps its traceback.
USER_ERRORS = (CliError, ConfigError, JobError, DataError, BundleError, DeviceError, PipelineError, FileNotFoundError)


@dataclass(frozen=True)
class Job:
    """One job of a command: `run(config, command=...)` on the config its flags (and --config YAML) fill."""

    config: type
    run: Callable[..., Any]
    help: str  # one line, in the command's list of jobs
    description: str | None = None  # the job's --help text (default: its help line)
    positional: tuple[str, ...] = ()  # config fields typed as positional arguments (eval's BUNDLE)
    done: Callable[[Any], Iterable[str]] | None = None  # lines printed once it ran, from what `run` returned


def build_parser(prog: str, description: str | None, jobs: dict[str, Job], default: str | None = None) -> OneLineParser:
    """The command's parser: one sub-command per job, with its config's flags. The `default` job (one a command
    runs when no job is named, as `eval BUNDLE`) answers under the command's own name."""
    parser = OneLineParser(prog=prog, description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="job", required=True, metavar="JOB", parser_class=OneLineParser)
    for name, job in jobs.items():
        job_parser = sub.add_parser(
            name,
            help=job.help,
            description=job.description or job.help,
            formatter_class=argparse.RawDescriptionHelpFormatter,
            **({"prog": prog} if name == default else {}),
        )
        for field in job.positional:
            job_parser.add_argument(field, help=job.config.__dataclass_fields__[field].metadata["help"])
        job_parser.add_argument("--config", help="YAML file with option values (flags override it)")
        add_job_flags(job_parser, job.config, skip=job.positional)
    return parser


def run_job_command(
    prog: str, description: str | None, jobs: dict[str, Job], argv: list[str] | None, default: str | None = None
) -> int:
    """Parse `argv` (a job's name first; none for the `default` job), build its config (defaults < --config
    file < flags), run it and print its `done` lines. Returns 0, or 2 after a one-line error."""
    argv = list(sys.argv[1:] if argv is None else argv)
    named = bool(argv) and argv[0] in jobs
    parsed = argv if named or default is None else [default, *argv]
    job_prog = prog if parsed[:1] in ([], [default]) else f"{prog} {parsed[0]}"
    try:
        args = build_parser(prog, description, jobs, default).parse_args(parsed)
        job = jobs[args.job]
        result = job.run(build_config(job.config, args, args.config), command=command_line(prog, argv))
    except USER_ERRORS as exc:
        return report_error(job_prog, exc)
    for line in job.done(result) if job.done is not None else ():
        print(line)
    return 0
