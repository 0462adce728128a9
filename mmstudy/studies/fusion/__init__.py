"""The fusion-point study (`python -m mmstudy.studies.fusion`).

Where should modalities meet — before the recommender (early), inside it (intermediate, with a
joint or a coordinated representation and a fusion operator) or at its scores (late) — and does
the answer change when a modality goes missing? Runs the declared variants on every backbone
(default: studies/fusion-quick.yaml on the embedded synthetic dataset), resumes finished cells,
and ends in a PDF report with paired tests, a critical-difference view and robustness curves.

The study file's `fusion:` section::

    variants:                 # name -> a cell fusion block (schema.fusion.FusionConfig keys)
      early-concat: {point: early, operator: concat}
      late-normsum: {point: late, method: normsum, norm: minmax, grid_step: 0.25}
    reference: early-concat   # the variant the others are compared with (default: the first)
    cross: {rates: [0.3, 0.6], setting: single:text, strategy: zeros, variants: [...]}
    extra_datasets: [{name: synthetic, options: {seed: 1, name: synthetic-b}}]

`cross` re-runs the chosen variants with a modality masked at each rate (the missing-modality
machinery: MissingConfig on the cell, handled by the pipeline); rate 0 is the base grid.
"""
from __future__ import annotations

import argparse
from functools import partial

from ...study.kinds import StudyKind, register_kind
from ..command import run_kind_command
from . import analysis, design, report


def _options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--variants", nargs="+", help="run only these fusion variants")
    parser.add_argument("--rates", nargs="+", type=float, help="override fusion.cross.rates")
    parser.add_argument("--no-cross", action="store_true", help="skip the fusion x missing-modality cells")


def _apply_options(section: dict, args: argparse.Namespace) -> dict:
    section = dict(section)
    variants = dict(section.get("variants") or {})
    if args.variants:
        for name in args.variants:
            design.known_variant(name, variants, "variants (--variants)")
        section["variants"] = {k: v for k, v in variants.items() if k in args.variants}
        if section.get("reference") not in args.variants:
            section["reference"] = args.variants[0]
    cross = section.get("cross")
    if args.no_cross:
        section["cross"] = None
    elif cross:
        cross = dict(cross)
        if args.rates:
            cross["rates"] = list(args.rates)
        if args.variants and cross.get("variants"):
            cross["variants"] = [v for v in cross["variants"] if v in args.variants] or None
        section["cross"] = cross
    return section


KIND = register_kind(StudyKind(
    name="fusion", title="Fusion-point study",
    question="Where should modalities meet (early, intermediate, late), represented how, and does it survive missing content?",
    default_config="fusion-quick.yaml", section=design.FusionSection, cells=design.fusion_cells,
    analyse=analysis.analyse_fusion, protocol=report.protocol, summary=report.summary, pages=report.pages,
    checks=report.late_weight_checks, options=_options, apply_options=_apply_options, reference=design.reference_cells))

main = partial(run_kind_command, KIND)  # `python -m mmstudy.studies.fusion [flags]`, from Python
