"""The command line every study kind shares (`python -m mmstudy.studies.<name>`): load the study
file, apply flags, expand it into cells, plan or run them (resuming), then write the report."""
from __future__ import annotations

import argparse
import math
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

from ..cli import (OneLineParser, add_energy_options, check_positive, energy_config, new_output_dir,
                   one_line_warnings)
from ..config import as_plain, check_unique, located
from ..device import resolve_device
from ..errors import ConfigError, MMStudyError
from ..registry import UnknownNameError
from ..report.study_report import build_report
from ..study.kinds import StudyKind
from ..study.plan import make_plan
from ..study.output import check_output
from ..study.runner import run_study
from ..study.worker import cpu_cores
from ..study.spec import StudySpec, load_spec, trained_models

PACKAGE_STUDIES = Path(__file__).resolve().parents[2] / "studies"


def default_config(filename: str) -> Path:
    """The shipped study file (studies/<filename>), found next to the package checkout."""
    return PACKAGE_STUDIES / filename


def study_parser(name: str, default: str) -> argparse.ArgumentParser:
    p = OneLineParser(prog=f"python -m mmstudy.studies.{name}",
                      description=f"Run the {name} study and build its PDF report.")
    p.add_argument("--config", default=str(default_config(default)), help=f"study file (default: studies/{default})")
    p.add_argument("--output", help="results folder (default: a new folder under reports/)")
    p.add_argument("--dataset", help="override data.name")
    p.add_argument("--models", nargs="+", help="override the models")
    p.add_argument("--seeds", nargs="+", type=int, help="override the seeds")
    p.add_argument("--epochs", type=int, help="override train.epochs")
    p.add_argument("--jobs", type=int, help="worker processes (default: one per CPU core on cpu, each with one "
                                             "torch thread; 1 on a GPU)")
    p.add_argument("--executor", default="local", choices=("local", "ray"))
    p.add_argument("--address", help="Ray cluster address (with --executor ray)")
    p.add_argument("--device", default="cpu", help="cpu | cuda[:i] | auto")
    p.add_argument("--threads", type=int, help="torch threads per running cell (default: cores // jobs)")
    p.add_argument("--plan", action="store_true",
                   help="print the cells, what is finished and cached, and a time estimate; run no study cell")
    p.add_argument("--plan-sample", type=int, default=2, metavar="N",
                   help="with --plan: time at most N sample cells when no finished cell has a timing (default 2)")
    p.add_argument("--plan-max-seconds", type=float, default=60.0, metavar="S",
                   help="with --plan: training time budget of the sample cells in all (default 60)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_energy_options(p)
    return p


JOBS_ENV = "MMSTUDY_JOBS"


def default_jobs(device: str, executor: str) -> int:
    """Worker processes when --jobs is not given: $MMSTUDY_JOBS if set, else one per core on CPU
    (each cell then gets one torch thread: small models gain little from a second thread, and
    one-thread processes lose the least when another program competes for the cores; see
    benchmarks.contention), and one on a GPU or with Ray."""
    if executor != "local" or resolve_device(device).type != "cpu":
        return 1
    value = os.environ.get(JOBS_ENV, "").strip()
    if not value:
        return cpu_cores()
    if not value.isdigit() or int(value) < 1:
        raise ConfigError(f"{JOBS_ENV} must be a positive integer (worker processes), got {value!r}")
    return int(value)


def check_flags(args: argparse.Namespace) -> None:
    """Refuse impossible flag values before the study file is read (each error names its flag)."""
    from ..data import check_dataset
    from ..models import MODELS

    check_positive(args, "--epochs", "--jobs", "--threads")
    if args.plan_sample < 0:
        raise ConfigError(f"--plan-sample must be at least 0, got {args.plan_sample}")
    if not (math.isfinite(args.plan_max_seconds) and args.plan_max_seconds > 0):
        raise ConfigError(f"--plan-max-seconds must be a finite number > 0, got {args.plan_max_seconds}")
    for flag in ("--seeds", "--models"):
        values = getattr(args, flag[2:])
        if values is not None:
            check_unique(values, flag)
    with located("--models"):
        for model in args.models or ():
            MODELS.get(model)
    if args.dataset is not None:
        with located("--dataset"):
            check_dataset(args.dataset)


def apply_common_overrides(spec: StudySpec, args: argparse.Namespace) -> StudySpec:
    changes = {}
    if args.dataset:
        changes["data"] = replace(spec.data, name=args.dataset, options={}, modalities=None)
    if args.models:
        keep = {m.lower() for m in args.models}
        changes["models"] = tuple(args.models)
        changes["params"] = {m: p for m, p in spec.params.items() if m.lower() in keep}
        changes["grids"] = {m: g for m, g in spec.grids.items() if m.lower() in keep}
        trained = trained_models(args.models)
        changes["train_by_model"] = {m: t for m, t in spec.train_by_model.items() if m in trained}
    if args.seeds:
        changes["seeds"] = tuple(args.seeds)
    if args.epochs is not None:  # the budget of every model's training, per-model changes included
        changes["train"] = {**spec.train, "epochs": args.epochs}
        changes["train_by_model"] = {m: {**t, "epochs": args.epochs} if "epochs" in t else t
                                     for m, t in changes.get("train_by_model", spec.train_by_model).items()}
    if args.no_energy or args.energy_country:
        changes["energy"] = energy_config(args, spec.energy)
    return replace(spec, **changes) if changes else spec


def run_kind_command(kind: StudyKind, argv: list[str] | None = None) -> int:
    """Parse arguments, expand the study into cells, run them (resuming), then write the report."""
    parser = study_parser(kind.name, kind.default_config)
    kind.options(parser)
    args = parser.parse_args(argv)
    one_line_warnings()
    try:
        check_flags(args)
        with located(args.config):
            spec = load_spec(args.config, kind.name)
            spec = apply_common_overrides(replace(spec, section=kind.apply_options(dict(spec.section), args)), args)
        output = Path(args.output) if args.output else new_output_dir(f"{kind.name}-{spec.name}")
        meta = {"kind": kind.name, "spec": as_plain(spec)}
        if not args.plan:
            check_output(output, meta)  # before the cells are expanded (which may load data)
        with located(args.config):
            cells = kind.expand(spec)
        args.jobs = args.jobs or default_jobs(args.device, args.executor)
        if args.plan:
            print(make_plan(cells, output, name=spec.name, jobs=args.jobs, sample=args.plan_sample,
                            max_seconds=args.plan_max_seconds, device=args.device, threads=args.threads).text())
            return 0
        print(f"study {spec.name}: {len(cells)} cells -> {output}")
        started = time.time()
        summary = run_study(cells, output, executor=args.executor, jobs=args.jobs, device=args.device,
                            threads=args.threads, ray_address=args.address, progress=not args.quiet,
                            meta=meta, energy=spec.energy)
        print(summary.line())
        if kind.finish is not None and (summary.done or summary.skipped):  # nothing to finish without results
            kind.finish(output, args.device)
        print(f"report: {build_report(output)}  ({time.time() - started:.0f} s)")
        return 1 if summary.failed else 0
    except (MMStudyError, UnknownNameError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
