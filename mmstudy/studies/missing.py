"""`python -m mmstudy.studies.missing`: the missing-modality study.

When some items lack a modality, how much does each way of handling it cost, for which models,
at which missing rates, and which differences are real? Runs the declared grid (default:
studies/missing-quick.yaml on the embedded synthetic dataset), resumes finished cells, and ends
in a PDF report with paired tests.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import replace

from ..missing.design import missing_cells
from ..report.missing import build_missing_report
from ..study.spec import StudySpec, load_spec
from .common import run_study_command


def _extra_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rates", nargs="+", type=float, help="override missing.rates")
    parser.add_argument("--strategies", nargs="+", help="override missing.strategies")
    parser.add_argument("--settings", nargs="+", help="override missing.settings")


def _load(args: argparse.Namespace) -> StudySpec:
    spec = load_spec(args.config, "missing")
    section = dict(spec.section)
    for key in ("rates", "strategies", "settings"):
        if getattr(args, key):
            section[key] = list(getattr(args, key))
    if args.strategies and section.get("reference") not in args.strategies:
        section["reference"] = args.strategies[0]
    return replace(spec, section=section)


def _cells(spec: StudySpec) -> list:
    from ..study.pipeline import Workspace

    dataset = Workspace().dataset(spec.data)
    return missing_cells(spec, list(dataset.modalities))


def main(argv: list[str] | None = None) -> int:
    return run_study_command("missing", argv, "missing-quick.yaml", _load, _cells, build_missing_report,
                             _extra_args)


if __name__ == "__main__":
    sys.exit(main())
