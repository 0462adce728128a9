"""The fusion-point study's report pages (numbers come from `.analysis`)."""
from __future__ import annotations


import pandas as pd

from ...analysis.groups import BEYOND
from ...report.audit import AuditCheck
from ...report.figures import bar_with_ci, critical_difference_diagram, paired_difference_plot, robustness_curve
from ...report.summary import claim_count, summarize_comparisons, training_settings
from ...report.tables import comparison_table, format_mean_ci, format_number
from ...report.writer import StudyReport, slug
from ...stats.ranking import RankingResult
from ...study.results import StudyResults
from ...study.spec import AnalysisConfig
from .analysis import rankings, variant_order, wilcoxon_floor_note

TITLES = {
    "accuracy": ("Accuracy and beyond-accuracy per variant: mean [95% CI] over seeds",
                 "Beyond-accuracy metrics at the main cutoff: Coverage, GiniDiversity (higher = more diverse), "
                 "APLT (long-tail share), EFD (novelty)."),
    "variant_vs_reference": ("Each variant vs the reference variant (paired per user)",
                             "Per-user metric averaged over matched seeds; one corrected family per metric."),
    "ranks": ("Average rank of the variants over (dataset x seed) blocks (1 = best)", ""),
    "ranking_tests": ("Friedman test and Nemenyi critical difference per backbone",
                      "Blocks are (dataset x seed), never users; cliques: no significant pairwise "
                      "Wilcoxon-corrected difference."),
    "ranking_pairwise": ("Pairwise Wilcoxon signed-rank tests over blocks", ""),
    "cost": ("Model size and training cost per variant (late fusion: all components together)",
             "Training time = wall time of fit (training + validation); reused late-fusion components count "
             "with the time they took when trained."),
    "robustness": ("Robustness to a missing modality: mean [95% CI] over seeds", ""),
    "retention": ("Share of the unmasked accuracy kept at each missing rate", ""),
    "cross_vs_reference": ("With the modality masked: each variant vs the reference at the same rate", ""),
    "drop_vs_reference": ("Is the loss from masking smaller than the reference's? (difference in differences)",
                          "Per user: (variant at rate - variant unmasked) vs (reference at rate - reference "
                          "unmasked); a positive difference means a smaller loss than the reference."),
    "late_weights": ("Late-fusion weights chosen on validation", "argmax_on_valid recomputes the best "
                                                                 "validation trial from the manifest."),
}


def pages(rep: StudyReport, results: StudyResults, tables: dict[str, pd.DataFrame]) -> None:
    """Accuracy, paired differences, critical-difference diagrams, robustness, and every table."""
    cfg = results.analysis
    _accuracy_pages(rep, tables, cfg)
    _ranking_pages(rep, results, cfg)
    _robustness_pages(rep, tables, cfg)
    for name, table in tables.items():
        title, note = TITLES[name]
        rep.table(name, table, title, shown_table(name, table), note=note)


def late_weight_checks(results: StudyResults, tables: dict[str, pd.DataFrame]) -> list[AuditCheck]:
    """The late-fusion weight check, beside the audit on page 1."""
    return [late_weight_check(tables["late_weights"])]


def late_weight_check(weights: pd.DataFrame) -> AuditCheck:
    name = "late-fusion weights on validation"
    if weights.empty:
        return AuditCheck(name, True, "no late-fusion cell")
    bad = weights[~weights["argmax_on_valid"].astype(bool)]
    if len(bad):
        return AuditCheck(name, False, f"{len(bad)} of {len(weights)} late-fusion cells did not select the best "
                                       "validation weights")
    return AuditCheck(name, True, f"all {len(weights)} late-fusion cells chose the best of their "
                                  f"{int(weights['n_trials'].max())} validation weight trials (argmax recomputed); "
                                  "the test part scored once with the fused scorer")


def _accuracy_pages(rep: StudyReport, tables: dict, cfg: AnalysisConfig) -> None:
    acc = tables["accuracy"].query("metric == @cfg.metric")
    for dataset, part in acc.groupby("dataset", sort=True):
        rep.figure(f"accuracy_{slug(dataset)}", bar_with_ci(
            part, x="variant", y="mean", low="ci_low", high="ci_high", hue="model", title=f"{dataset}: {cfg.metric}",
            xlabel="fusion variant", ylabel=cfg.metric),
            caption=f"Mean {cfg.metric} over {int(part['n_seeds'].max())} seeds; bars = 95% CI of the seed means.")
    comparisons = tables["variant_vs_reference"]
    if comparisons.empty:
        return
    main = comparisons[comparisons["metric"] == cfg.metric]
    for (dataset, model), part in main.groupby(["dataset", "model"], sort=True):
        rep.figure(f"differences_{slug(dataset)}_{slug(model)}", paired_difference_plot(
            part, label="variant", title=f"{dataset}, {model}: each variant minus {part['reference'].iloc[0]}",
            xlabel=f"Δ {cfg.metric} (paired per user, mean over seeds)"),
            caption=f"Filled markers: significant under the claim rule (two-level test over users and seeds) after {part['correction_label'].iloc[0]} correction over the "
                    f"{len(main)} comparisons on {cfg.metric} (alpha {cfg.alpha}).")


def _ranking_pages(rep: StudyReport, results: StudyResults, cfg: AnalysisConfig) -> None:
    notes = []
    for model, result in rankings(results.cells, cfg.metric, cfg).items():
        if not isinstance(result, RankingResult):
            notes.append(f"{model}: critical-difference view skipped: {result}.")
            continue
        rep.figure(f"critical_difference_{slug(model)}", critical_difference_diagram(
            result.avg_ranks, result.cd, result.cliques, title=f"{model}: average rank on {cfg.metric}"),
            caption=f"{result.n_blocks} blocks (dataset x seed); Friedman p = "
                    f"{format_number(result.friedman_pvalue, 4)}; CD = Nemenyi critical difference at alpha "
                    f"{result.alpha}; bars join variants without a significant pairwise Wilcoxon "
                    f"({cfg.correction}) difference. {result.note} {wilcoxon_floor_note(result.n_blocks)}".strip())
    if notes:
        rep.text("Critical-difference view", notes)


def _robustness_pages(rep: StudyReport, tables: dict, cfg: AnalysisConfig) -> None:
    robust = tables["robustness"]
    if robust.empty:
        return
    for (dataset, model), curve in robust.groupby(["dataset", "model"], sort=True):
        rep.figure(f"robustness_{slug(dataset)}_{slug(model)}", robustness_curve(
            curve, x="rate", y="mean", hue="variant", ci=("ci_low", "ci_high"), x_percent=True,
            title=f"{dataset}, {model}: masked modality", xlabel="missing rate", ylabel=cfg.metric),
            caption=f"{cfg.metric} (mean over seeds; band = 95% CI of the seed means) against the share of items "
                    "whose modality is masked (rate 0 = the unmasked grid).")


def shown_table(name: str, table: pd.DataFrame) -> pd.DataFrame | None:
    """The readable form of an analysis table (None: shown as is)."""
    if table.empty:
        return None
    if name in ("variant_vs_reference", "cross_vs_reference", "drop_vs_reference"):
        shown = comparison_table(table)
        if "metric" in table:
            shown.insert(1, "Metric", table["metric"].to_numpy())
        return shown
    if name == "accuracy":
        return accuracy_shown(table)
    if name in ("robustness", "retention"):
        keys = [c for c in table.columns if c not in ("mean", "ci_low", "ci_high", "n_seeds")]
        shown = table[keys].copy()
        if "rate" in shown:
            shown["rate"] = shown["rate"].map(lambda r: f"{r:.0%}")
        shown["mean [95% CI]"] = [format_mean_ci(r.mean, r.ci_low, r.ci_high) for r in table.itertuples()]
        shown["seeds"] = table["n_seeds"].to_numpy()
        return shown
    if name == "cost":
        shown = table.drop(columns=["train_seconds_sd"]).copy()
        shown["n_parameters"] = shown["n_parameters"].map(lambda v: f"{v:,.0f}")
        for col in ("train_seconds", "epochs_run", "seconds_per_epoch"):
            shown[col] = shown[col].map(lambda v: format_number(v, 2))
        return shown
    return None


def accuracy_shown(table: pd.DataFrame) -> pd.DataFrame:
    """One row per variant, one "mean [95% CI]" column per metric (metrics in reported order)."""
    keys = ["dataset", "model", "variant"] if table["dataset"].nunique() > 1 else ["model", "variant"]
    text = table.assign(value=[format_mean_ci(r.mean, r.ci_low, r.ci_high) for r in table.itertuples()])
    wide = text.pivot(index=keys, columns="metric", values="value")
    rows = text[keys].drop_duplicates()  # keep the analysis' row order
    return wide.loc[pd.MultiIndex.from_frame(rows), list(dict.fromkeys(table["metric"]))].reset_index()


def summary(results: StudyResults, tables: dict[str, pd.DataFrame]) -> list[str]:
    """Best variant per backbone, significant differences, late-fusion weights and robustness."""
    cfg, out = results.analysis, []
    acc = tables["accuracy"].query("metric == @cfg.metric")
    for (dataset, model), part in acc.groupby(["dataset", "model"], sort=True):
        order = part.sort_values("mean", ascending=False)
        out.append(f"{dataset}, {model}: best variant on {cfg.metric} is {order['variant'].iloc[0]} "
                   f"({format_mean_ci(*order[['mean', 'ci_low', 'ci_high']].iloc[0])}); ranking: "
                   + " > ".join(f"{r.variant} ({r.mean:.4f})" for r in order.itertuples()) + ".")
    comparisons = tables["variant_vs_reference"]
    if not comparisons.empty:
        main = comparisons[comparisons["metric"] == cfg.metric]
        out.append(claim_count(main, "variant-vs-reference differences"))
        out += summarize_comparisons(main.assign(condition=""), collapse_nonsignificant=True)
    out += late_weight_sentences(tables["late_weights"])
    drops = tables["drop_vs_reference"]
    if not drops.empty:
        out.append("Robustness (is the loss from masking smaller than the reference's?):")
        out += summarize_comparisons(drops.assign(condition=""), collapse_nonsignificant=True)
    return out


def late_weight_sentences(weights: pd.DataFrame) -> list[str]:
    """The late-fusion weights chosen on validation, mean over seeds, per model, variant and rate."""
    if weights.empty:
        return []
    columns = [c for c in weights.columns if c.startswith("w_")]
    parts = []
    for (model, variant, rate), group in weights.groupby(["model", "variant", "rate"], sort=False):
        mean = group[columns].mean().dropna()
        text = ", ".join(f"{c[2:]} {v:.2f}" for c, v in mean.items())
        only_ids = "; the fused scorer is the ID-only model" if mean.get("w_id", 0) == 1 else ""
        parts.append(f"{model} {variant}{f' at {rate:.0%} missing' if rate else ''}: {text}{only_ids}")
    return ["Late-fusion weights chosen on validation (mean over seeds): " + "; ".join(parts) + "."]


def protocol(results: StudyResults) -> list[str]:
    """The first page's protocol: backbones, variants, reference, cross study, training and tests."""
    spec, cfg, section = results.study.spec, results.analysis, results.study.section
    variants = section.get("variants", {})
    order, reference = variant_order(results, cfg)
    cross = section.get("cross")
    lines = [f"backbones: {', '.join(spec.get('models', []))}; seeds: {spec.get('seeds')}",
             "variants: " + "; ".join(f"{k} ({', '.join(str(x) for x in variants.get(k, {}).values())})"
                                      for k in order),
             f"reference variant: {reference}"]
    if cross:
        lines.append(f"cross study: {cross.get('setting')} masked at rates {cross.get('rates')}, handled by "
                     f"{cross.get('strategy', 'zeros')}, variants {cross.get('variants') or 'all'}")
    lines += [f"{training_settings(spec)}; selection (early stopping, late-fusion weights) on validation "
              f"{cfg.metric}; test scored once per cell, full ranking",
              f"tests: paired {cfg.test}-test per user, {cfg.correction} correction, alpha {cfg.alpha}; "
              f"beyond-accuracy: {', '.join(BEYOND)}"]
    return lines

