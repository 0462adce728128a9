"""The missing-modality study's report pages (numbers come from `.analysis`)."""
from __future__ import annotations

import pandas as pd

from ...missing.mechanisms import MECHANISMS
from ...report.figures import paired_difference_plot, robustness_curve
from ...report.summary import claim_count, summarize_comparisons
from ...report.tables import comparison_table, format_mean_ci
from ...report.writer import StudyReport, slug
from ...study.results import StudyResults
from . import who_is_missing
from .design import parse_mechanisms
from .imputation_quality import quality_pages


def pages(rep: StudyReport, results: StudyResults, tables: dict[str, pd.DataFrame]) -> None:
    """Robustness curves and paired differences per model and mechanism, and every analysis table."""
    cfg = results.analysis
    comparisons = tables["strategy_vs_reference"]
    for model, part in tables["robustness"].query("metric == @cfg.metric").groupby("model"):
        for (mechanism, setting), curve in part.groupby(["mechanism", "setting"]):
            rep.figure(f"robustness_{slug(model)}_{slug(mechanism)}_{slug(setting)}", robustness_curve(
                curve, x="rate", y="mean", hue="strategy", ci=("ci_low", "ci_high"), x_percent=True,
                title=f"{model}, {setting} masking ({mechanism})", xlabel="missing rate", ylabel=cfg.metric),
                caption=f"{cfg.metric} (mean over {int(curve['n_seeds'].max())} seeds; band = 95% CI of the "
                        "seed-level means) against the share of items with masked modalities. 'dropped' is "
                        "scored on its own, smaller catalogue (not comparable here): see the paired tests.")
    for (model, mechanism), part in comparisons.groupby(["model", "mechanism"]) if not comparisons.empty else []:
        rep.figure(f"differences_{slug(model)}_{slug(mechanism)}", paired_difference_plot(
            part, title=f"{model} ({mechanism}): each strategy minus {part['reference'].iloc[0]}",
            xlabel=f"Δ {cfg.metric} (paired per user, mean over seeds)"),
            caption=f"Filled markers: significant under the claim rule (two-level test over users and seeds) after {part['correction_label'].iloc[0]} correction "
                    f"over all {len(comparisons)} comparisons (alpha {cfg.alpha}).")
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
    rep.table("dropped_losses", tables["dropped_losses"], "What the dropped setting loses (mean over seeds)",
              losses_shown(tables["dropped_losses"]))
    rep.table("homophily", tables["homophily"], "Feature homophily of the training co-interaction graph")
    rep.table("imputer_settings", tables["imputer_settings"], "Imputer settings chosen on validation")
    who_is_missing.pages(rep, tables)
    quality_pages(rep, tables)


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
        out.append("Best imputation per model, mechanism and rate (mean over seeds; 'dropped' is compared only "
                   "through the paired common-items tests): " + "; ".join(
            f"{r.model} ({r.mechanism}) @ {r.rate:.0%}: {r.strategy} ({r.mean:.4f})" for r in best.itertuples()))
    return out


def best_strategies(robust: pd.DataFrame, metric: str) -> pd.DataFrame:
    part = robust[(robust["metric"] == metric) & (robust["strategy"] != "dropped")]
    if part.empty:
        return part
    return part.loc[part.groupby(["model", "mechanism", "setting", "rate"])["mean"].idxmax()]


def robustness_shown(robust: pd.DataFrame) -> pd.DataFrame:
    if robust.empty:
        return robust
    shown = robust[["model", "mechanism", "setting", "strategy", "rate", "metric", "n_seeds"]].copy()
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
    """The first page's protocol: models, masking, strategies, training and tests."""
    spec, cfg, section = results.study.spec, results.analysis, results.study.section
    return [f"models: {', '.join(spec.get('models', []))} (+ CF counterparts); seeds: {spec.get('seeds')}",
            f"masking: {section.get('settings')} at rates {section.get('rates')}; strategies: "
            f"{section.get('strategies')} (reference {section.get('reference')})",
            "mechanisms: " + "; ".join(f"{c.label} ({MECHANISMS.get(c.name).rule})"
                                       for c in parse_mechanisms(section.get("mechanisms", "mcar"))),
            f"training: {spec.get('train')}; model and imputer settings selected on validation "
            f"{cfg.metric}; test scored once per cell, full ranking",
            f"tests: paired {cfg.test}-test per user, {cfg.correction} correction, alpha {cfg.alpha}; "
            "seed-level paired t-test reported alongside"]
