"""The command line shared by every study (`python -m mmstudy.studies.<name>`)."""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Callable

from ..cli import new_output_dir
from ..errors import MMStudyError
from ..registry import UnknownNameError
from ..study.spec import StudySpec

PACKAGE_STUDIES = Path(__file__).resolve().parents[2] / "studies"


def default_config(filename: str) -> Path:
    """The shipped study file (studies/<filename>), found next to the package checkout."""
    return PACKAGE_STUDIES / filename


def study_parser(name: str, default: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=f"python -m mmstudy.studies.{name}",
                                description=f"Run the {name} study and build its PDF report.")
    p.add_argument("--config", default=str(default_config(default)), help=f"study file (default: studies/{default})")
    p.add_argument("--output", help="results folder (default: a new folder under reports/)")
    p.add_argument("--dataset", help="override data.name")
    p.add_argument("--models", nargs="+", help="override the models")
    p.add_argument("--seeds", nargs="+", type=int, help="override the seeds")
    p.add_argument("--epochs", type=int, help="override train.epochs")
    p.add_argument("--jobs", type=int, default=1, help="local process-pool size")
    p.add_argument("--executor", default="local", choices=("local", "ray"))
    p.add_argument("--address", help="Ray cluster address (with --executor ray)")
    p.add_argument("--device", default="cpu", help="cpu | cuda[:i] | auto")
    p.add_argument("--threads", type=int, help="torch threads per running cell (default: cores // jobs; "
                                                 "use 1 on a busy machine)")
    p.add_argument("--plan", action="store_true",
                   help="print the cells, what is finished and cached, and a time estimate; run no study cell")
    p.add_argument("--plan-sample", type=int, default=2, metavar="N",
                   help="with --plan: time at most N sample cells when no finished cell has a timing (default 2)")
    p.add_argument("--plan-max-seconds", type=float, default=60.0, metavar="S",
                   help="with --plan: training time budget of the sample cells in all (default 60)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def apply_common_overrides(spec: StudySpec, args: argparse.Namespace) -> StudySpec:
    changes = {}
    if args.dataset:
        changes["data"] = replace(spec.data, name=args.dataset, options={}, modalities=None)
    if args.models:
        keep = {m.lower() for m in args.models}
        changes["models"] = tuple(args.models)
        changes["params"] = {m: p for m, p in spec.params.items() if m.lower() in keep}
        changes["grids"] = {m: g for m, g in spec.grids.items() if m.lower() in keep}
    if args.seeds:
        changes["seeds"] = tuple(args.seeds)
    if args.epochs:
        changes["train"] = {**spec.train, "epochs": args.epochs}
    return replace(spec, **changes) if changes else spec


def run_study_command(name: str, argv: list[str] | None, default: str,
                      load: Callable[[argparse.Namespace], StudySpec],
                      build_cells: Callable[[StudySpec], list],
                      build_report: Callable[[Path], Path],
                      extra_args: Callable[[argparse.ArgumentParser], None] | None = None) -> int:
    """Parse arguments, expand the study into cells, run them (resuming), then write the report."""
    from ..study.runner import run_study

    parser = study_parser(name, default)
    if extra_args:
        extra_args(parser)
    args = parser.parse_args(argv)
    try:
        spec = apply_common_overrides(load(args), args)
        cells = build_cells(spec)
        output = Path(args.output) if args.output else new_output_dir(f"{name}-{spec.name}")
        if args.plan:
            from ..study.plan import make_plan
            print(make_plan(cells, output, name=spec.name, jobs=args.jobs, sample=args.plan_sample,
                            max_seconds=args.plan_max_seconds, device=args.device).text())
            return 0
        print(f"study {spec.name}: {len(cells)} cells -> {output}")
        started = time.time()
        summary = run_study(cells, output, executor=args.executor, jobs=args.jobs, device=args.device,
                            threads=args.threads,
                            ray_address=args.address, progress=not args.quiet,
                            meta={"kind": name, "spec": _plain_spec(spec)})
        print(summary.line())
        pdf = build_report(output)
        print(f"report: {pdf}  ({time.time() - started:.0f} s)")
        return 1 if summary.failed else 0
    except (MMStudyError, UnknownNameError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _plain_spec(spec: StudySpec) -> dict:
    from ..config import as_plain
    return as_plain(spec)
