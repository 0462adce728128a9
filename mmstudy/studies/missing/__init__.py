"""The missing-modality study (`python -m mmstudy.studies.missing`).

When some items lack a modality, how much does each way of handling it cost, for which models,
at which missing rates, and which differences are real? The study file's `missing:` section
(`design.MissingSection`) crosses missingness mechanisms, masking settings, rates and strategies
(`dropped` and the imputers); each multimodal model is paired with its CF counterpart. Default study file:
studies/missing-quick.yaml on the embedded synthetic dataset.
"""
from __future__ import annotations

import argparse
from functools import partial

from ...study.kinds import StudyKind, register_kind
from ..command import run_kind_command
from . import analysis, design, report


def _options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rates", nargs="+", type=float, help="override missing.rates")
    parser.add_argument("--strategies", nargs="+", help="override missing.strategies")
    parser.add_argument("--settings", nargs="+", help="override missing.settings")


def _apply_options(section: dict, args: argparse.Namespace) -> dict:
    section = dict(section)
    for key in ("rates", "strategies", "settings"):
        if getattr(args, key, None):
            section[key] = list(getattr(args, key))
    if getattr(args, "strategies", None) and section.get("reference") not in args.strategies:
        section["reference"] = args.strategies[0]
    return section


KIND = register_kind(StudyKind(
    name="missing", title="Missing-modality study",
    question="When items lack modalities, what does each handling strategy cost, for which model, at which rate?",
    default_config="missing-quick.yaml", section=design.MissingSection, cells=design.study_cells,
    analyse=analysis.analyse_missing, protocol=report.protocol, summary=report.summary, pages=report.pages,
    options=_options, apply_options=_apply_options, reference=design.reference_cells))

main = partial(run_kind_command, KIND)  # `python -m mmstudy.studies.missing [flags]`, from Python
