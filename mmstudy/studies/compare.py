"""The model-comparison study (`python -m mmstudy.studies.compare`): which recommender ranks best on
this dataset, by how much, and is the difference real?

Every model of the study file is trained on the same split with the same budget and seeds, and
compared with the reference model, paired per user over matched seeds. The smallest complete
study kind, and the worked example of the README's "Adding a study": a section, its cells, the
tables `verify` recomputes, the report pages, one registered record. Its study-file section::

    compare:
      reference: BPR-MF     # the model the others are compared with (default: the first model)
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import partial

import pandas as pd

from ..analysis.groups import reported_metrics, seed_groups, summary_table
from ..analysis.pairing import GroupPair, compare_groups
from ..errors import ConfigError
from ..models import MODELS
from ..report.figures import bar_with_ci, paired_difference_plot
from ..report.summary import claim_count, summarize_comparisons, training_settings
from ..report.tables import comparison_table, format_mean_ci
from ..report.writer import StudyReport
from ..study.cell import Cell
from ..study.kinds import StudyKind, register_kind
from ..study.results import StudyResults
from ..study.spec import StudySpec
from .command import run_kind_command


@dataclass(frozen=True)
class CompareSection:
    """The `compare:` section: the reference model (default: the study's first model)."""

    reference: str | None = None


def reference_model(models, reference: str | None) -> str:
    """The canonical name of the reference, which must be one of the study's models."""
    chosen = MODELS.canonical(reference or models[0])
    if chosen not in {MODELS.canonical(m) for m in models}:
        raise ConfigError(f"compare.reference {reference!r} is not among the models {list(models)}")
    return chosen


def cells(spec: StudySpec, section: CompareSection) -> list[Cell]:
    """One cell per (model, seed), identical but for the model."""
    reference_model(spec.models, section.reference)
    return [Cell(data=spec.data, model=MODELS.canonical(model), **spec.model_settings(model), seed=seed,
                 cutoffs=spec.cutoffs,
                 missing=spec.natural_gaps, labels={"model": MODELS.canonical(model), "seed": seed})
            for model in spec.models for seed in spec.seeds]


def reference_cells(cells_: list[Cell], section: CompareSection) -> list[Cell]:
    """Every cell: each model is a configuration the study makes claims about, so each gets its A/A
    control, and each multimodal model its noise control."""
    return cells_


def analyse(results: StudyResults) -> dict[str, pd.DataFrame]:
    """Accuracy (mean and seed-level CI) per model, and each model against the reference."""
    cfg, cells_ = results.analysis, results.cells
    reference = reference_model(results.study.spec["models"], results.study.section.get("reference"))
    groups = seed_groups(cells_, ["model"])
    pairs = [GroupPair(f"{model} vs {reference}", fps, groups[(reference,)],
                       keys=(("model", model), ("reference", reference)))
             for (model,), fps in groups.items() if model != reference and (reference,) in groups]
    return {"accuracy": summary_table(cells_, ["model"], reported_metrics(cfg, cells_.columns)),
            "vs_reference": compare_groups(results, pairs, cfg.metric, cfg)}


def protocol(results: StudyResults) -> list[str]:
    spec, cfg = results.study.spec, results.analysis
    return [f"models: {', '.join(spec['models'])}; reference "
            f"{reference_model(spec['models'], results.study.section.get('reference'))}; seeds: {spec['seeds']}",
            f"{training_settings(spec)}{'' if spec.get('train_by_model') else ', identical for every model'}; "
            f"selected on validation {cfg.metric}; "
            "test scored once per cell, full ranking",
            f"tests: paired {cfg.test}-test per user, {cfg.correction} correction, alpha {cfg.alpha}"]


def summary(results: StudyResults, tables: dict[str, pd.DataFrame]) -> list[str]:
    cfg = results.analysis
    main = tables["accuracy"].query("metric == @cfg.metric").sort_values("mean", ascending=False)
    out = ([f"Ranking on {cfg.metric}: " + " > ".join(
        f"{r.model} ({format_mean_ci(r.mean, r.ci_low, r.ci_high)})" for r in main.itertuples()) + "."]
        if not main.empty else [])
    tests = tables["vs_reference"]
    if tests.empty:
        return out
    return out + [claim_count(tests, "model-vs-reference differences")] + summarize_comparisons(
        tests, collapse_nonsignificant=True)


def pages(rep: StudyReport, results: StudyResults, tables: dict[str, pd.DataFrame]) -> None:
    cfg = results.analysis
    accuracy, tests = tables["accuracy"], tables["vs_reference"]
    main = accuracy.query("metric == @cfg.metric")
    if not main.empty:
        rep.figure("accuracy", bar_with_ci(main, x="model", y="mean", low="ci_low", high="ci_high",
                                           title=cfg.metric, xlabel="model", ylabel=cfg.metric),
                   caption=f"Mean {cfg.metric} over seeds; bars = 95% CI of the seed means.")
    if not tests.empty:
        rep.figure("differences", paired_difference_plot(tests, label="model",
                                                          title=f"Each model minus {tests['reference'].iloc[0]}",
                                                          xlabel=f"Δ {cfg.metric} (paired per user)"))
    rep.table("accuracy", accuracy, "Accuracy per model: mean and 95% CI over seeds")
    rep.table("vs_reference", tests, "Each model vs the reference", comparison_table(tests) if not tests.empty
              else None)


KIND = register_kind(StudyKind(
    name="compare", title="Model-comparison study",
    question="Which recommender ranks best on this dataset, by how much, and is the difference real?",
    default_config="compare-quick.yaml", section=CompareSection, cells=cells, analyse=analyse,
    protocol=protocol, summary=summary, pages=pages, reference=reference_cells))

main = partial(run_kind_command, KIND)  # `python -m mmstudy.studies.compare [flags]`, from Python


if __name__ == "__main__":
    sys.exit(main())
