"""The missing-modality study's report pages (numbers come from `.analysis`)."""
from __future__ import annotations

import pandas as pd

from ...config import from_mapping
from ...missing.mechanisms import MECHANISMS
from ...report.figures import difference_heatmaps, paired_difference_plot, robustness_curve
from ...report.summary import claim_count, summarize_comparisons, training_settings
from ...report.tables import comparison_table, format_mean_ci
from ...report.writer import StudyReport, slug
from ...study.results import StudyResults
from . import new_items, who_is_missing, who_pays
from .analysis import complete_phase
from .design import MissingSection, parse_mechanisms
from .imputation_quality import quality_pages


def pages(rep: StudyReport, results: StudyResults, tables: dict[str, pd.DataFrame]) -> None:
    """The headline heatmaps, robustness curves and paired differences per model, phase and
    mechanism, then every analysis table."""
    cfg = results.analysis
    comparisons = tables["strategy_vs_reference"]
    headline_pages(rep, comparisons, cfg.metric)
    robustness_pages(rep, tables["robustness"], cfg.metric)
    for (model, phase, mechanism), part in (comparisons.groupby(["model", "phase", "mechanism"])
                                            if not comparisons.empty else []):
        rep.figure(f"differences_{slug(model)}_{slug(phase)}_{slug(mechanism)}", paired_difference_plot(
            part, title=f"{model} ({phase}, {mechanism}): each strategy minus {part['reference'].iloc[0]}",
            xlabel=f"Δ {cfg.metric} (paired per user, mean over seeds)"),
            caption=f"Filled markers: significant under the claim rule (two-level test over users and seeds) after "
                    f"{part['correction_label'].iloc[0]} correction over all {len(comparisons)} comparisons "
                    f"(alpha {cfg.alpha}).")
    rep.table("strategy_vs_reference", comparisons, f"Each strategy vs the reference on {cfg.metric}",
              comparison_table(comparisons) if not comparisons.empty else None,
              note="Paired over test users (per-user metric averaged over seeds); comparisons with "
                   "'dropped' use the common items and users.")
    rep.table("robustness", tables["robustness"], "Robustness: mean and 95% CI over seeds",
              robustness_shown(tables["robustness"]))
    gains = tables["multimodal_vs_cf"]
    rep.table("multimodal_vs_cf", gains, "Multimodal gain over the CF counterpart",
              comparison_table(gains) if not gains.empty else None,
              note="Exploratory family: Benjamini-Hochberg correction.")
    who_pays.pages(rep, tables, cfg.metric)
    new_items.pages(rep, tables)
    rep.table("dropped_losses", tables["dropped_losses"], "What the dropped setting loses (mean over seeds)",
              losses_shown(tables["dropped_losses"]))
    rep.table("homophily", tables["homophily"], "Feature homophily of the training co-interaction graph")
    rep.table("imputer_settings", tables["imputer_settings"], "Imputer settings chosen on validation")
    who_is_missing.pages(rep, tables)
    quality_pages(rep, tables)


PANELS_PER_PAGE = 4
PHASE_ORDER = ("train_and_test", "serving", "new_items")


def headline_pages(rep: StudyReport, comparisons: pd.DataFrame, metric: str) -> None:
    """Per model: a heatmap per (phase, mechanism, setting) of each strategy's paired difference to
    the reference across rates, significant cells starred (the claim rule after correction)."""
    if comparisons.empty:
        return
    for model, part in comparisons.groupby("model", sort=False):
        panels = []
        order = part.assign(order=part["phase"].map({p: i for i, p in enumerate(PHASE_ORDER)}))
        for (_, phase, mechanism, setting), cell in order.groupby(["order", "phase", "mechanism", "setting"]):
            values = cell.pivot_table(index="strategy", columns="rate", values="mean_diff", sort=False)
            marks = cell.pivot_table(index="strategy", columns="rate", values="significant", aggfunc="any",
                                     sort=False).reindex_like(values).fillna(False).astype(bool)
            values.columns = marks.columns = [f"{r:.0%}" for r in values.columns]
            panels.append((f"{phase} · {mechanism} · {setting}", values, marks))
        reference = part["reference"].iloc[0]
        for page, start in enumerate(range(0, len(panels), PANELS_PER_PAGE)):
            chunk = panels[start:start + PANELS_PER_PAGE]
            rep.figure(f"headline_{slug(model)}" + (f"_{page + 1}" if page else ""), difference_heatmaps(
                chunk, ncols=2 if len(chunk) > 1 else 1, cbar_label=f"Δ {metric} vs {reference}",
                title=f"{model}: each strategy minus {reference} ({metric}), by missing rate"),
                caption="Paired difference per user, mean over seeds; * = significant under the claim rule after "
                        f"{part['correction_label'].iloc[0]} correction over all {len(comparisons)} comparisons. "
                        "'dropped' is compared on the common items and users.")


def robustness_pages(rep: StudyReport, robust: pd.DataFrame, metric: str) -> None:
    """A robustness curve per (model, phase, mechanism, setting), every strategy starting from the
    model's complete-data cells at 0%; `dropped` in its own panel (its own, smaller catalogue)."""
    part = robust[robust["metric"] == metric]
    complete = part[part["strategy"] == "none"]
    for (model, phase, mechanism, setting), curve in part[part["strategy"] != "none"].groupby(
            ["model", "phase", "mechanism", "setting"]):
        start = complete[(complete["model"] == model) & (complete["phase"] == complete_phase(phase))]
        curve = pd.concat([start.assign(strategy=s) for s in curve["strategy"].unique()] + [curve],
                          ignore_index=True) if not start.empty and setting != "natural" else curve
        rep.figure(f"robustness_{slug(model)}_{slug(phase)}_{slug(mechanism)}_{slug(setting)}", robustness_curve(
            curve, x="rate", y="mean", hue="strategy", ci=("ci_low", "ci_high"), x_percent=True,
            title=f"{model}, {setting} masking ({mechanism}, {phase})", xlabel="missing rate", ylabel=metric,
            side=["dropped"], side_title="dropped (own catalogue)"),
            caption=f"{metric} (mean over {int(curve['n_seeds'].max())} seeds; band = 95% CI of the seed-level "
                    "means) against the share of items with masked modalities; 0% = the model on complete data "
                    "(same seeds). 'dropped' ranks its own, smaller catalogue: its panel is not comparable with "
                    "the others; the paired tests compare it on the common items.")


def summary(results: StudyResults, tables: dict[str, pd.DataFrame]) -> list[str]:
    """The summary page: significant strategy differences, then the best strategy per model and rate."""
    cfg = results.analysis
    comparisons = tables["strategy_vs_reference"]
    out = []
    if not comparisons.empty:
        out.append(claim_count(comparisons, "strategy-vs-reference differences"))
        out += summarize_comparisons(comparisons.assign(condition=""), collapse_nonsignificant=True)
    gains = tables["multimodal_vs_cf"]
    if not gains.empty:
        out.append("Multimodal gain over the CF counterpart: " + claim_count(gains, "multimodal-vs-CF differences"))
        out += summarize_comparisons(gains.assign(condition=""), collapse_nonsignificant=True)
    best = best_strategies(tables["robustness"], cfg.metric)
    if not best.empty:
        out.append("Best imputation per model, phase, mechanism and rate (mean over seeds; 'dropped' is compared "
                   "only through the paired common-items tests): " + "; ".join(
            f"{r.model} ({r.phase}, {r.mechanism}) @ {r.rate:.0%}: {r.strategy} ({r.mean:.4f})"
            for r in best.itertuples()))
    out += who_pays_summary(tables.get("who_pays", pd.DataFrame()))
    cold = tables.get("new_items", pd.DataFrame())
    if not cold.empty:
        out.append("New items (held out of training): " + "; ".join(
            f"{r.model} {r.strategy} @ {r.rate:.0%}: {r.mean:.4f} ({r.lift_over_random:.1f}x random)"
            for r in cold.itertuples()))
    return out


def who_pays_summary(table: pd.DataFrame) -> list[str]:
    """Which segment loses most under each model's strategies (mean over its configurations)."""
    if table.empty:
        return []
    loss = table.groupby(["model", "segment"])["mean_diff"].mean().reset_index()
    worst = loss.loc[loss.groupby("model")["mean_diff"].idxmin()]
    return ["Who pays (vs complete data, mean over strategies and rates): " + claim_count(
        table, "segment losses") + " Largest loss: " + "; ".join(
        f"{r.model}: {r.segment} ({r.mean_diff:+.4f})" for r in worst.itertuples())]


def best_strategies(robust: pd.DataFrame, metric: str) -> pd.DataFrame:
    part = robust[(robust["metric"] == metric) & ~robust["strategy"].isin(["dropped", "none"])]
    if part.empty:
        return part
    return part.loc[part.groupby(["model", "phase", "mechanism", "setting", "rate"])["mean"].idxmax()]


def robustness_shown(robust: pd.DataFrame) -> pd.DataFrame:
    if robust.empty:
        return robust
    shown = robust[["model", "phase", "mechanism", "setting", "strategy", "rate", "metric", "n_seeds"]].copy()
    shown["strategy"] = shown["strategy"].replace("none", "complete data")
    shown["rate"] = shown["rate"].map(lambda r: f"{r:.0%}")
    shown["mean [95% CI]"] = [format_mean_ci(r.mean, r.ci_low, r.ci_high) for r in robust.itertuples()]
    return shown


def losses_shown(losses: pd.DataFrame) -> pd.DataFrame:
    if losses.empty:
        return losses
    names = {"items_lost": "items", "train_interactions_lost": "train inter.", "valid_interactions_lost":
             "valid inter.", "test_interactions_lost": "test inter.", "users_lost_train": "users (train)",
             "users_lost_test": "users (test)", "test_users_evaluable_lost": "evaluable test users"}
    shown = losses.rename(columns=names)
    shown["rate"] = shown["rate"].map(lambda r: f"{r:.0%}")
    for column in names.values():
        if column in shown:
            shown[column] = shown[column].map(lambda v: f"{v:,.0f}")
    return shown


def protocol(results: StudyResults) -> list[str]:
    """The first page's protocol: models, masking, strategies, training and tests (defaults filled in)."""
    spec, cfg = results.study.spec, results.analysis
    section = from_mapping(MissingSection, results.study.section, "missing")
    return [f"models: {', '.join(spec.get('models', []))} (+ CF counterparts); seeds: {spec.get('seeds')}",
            f"masking: {', '.join(section.settings)} at rates {list(section.rates)}; strategies: "
            f"{', '.join(section.strategies)} (reference {section.reference})",
            "mechanisms: " + "; ".join(f"{c.label} ({MECHANISMS.get(c.name).rule})"
                                       for c in parse_mechanisms(section.mechanisms)),
            "phases: " + ", ".join(section.phases)
            + (f" (new items: {section.new_items_share:.0%} of the items held out of training)"
               if "new_items" in section.phases else "")
            + f"; imputer grids decided by {section.select}"
            + ("; complete-data cells at 0% for every model" if section.complete else ""),
            f"{training_settings(spec)}; model and imputer settings selected on validation "
            f"{cfg.metric}; test scored once per cell, full ranking",
            f"tests: paired {cfg.test}-test per user, {cfg.correction} correction, alpha {cfg.alpha}; "
            "seed-level paired t-test reported alongside"]
