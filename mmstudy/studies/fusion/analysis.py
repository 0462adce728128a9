"""The fusion-point study's numbers: accuracy and beyond-accuracy per variant, paired tests against
the reference variant, Friedman / critical-difference ranking over (dataset x seed) blocks, cost
(parameters, training time), robustness to a missing modality, and the late-fusion weights.

Every table is a deterministic function of the stored manifests and per-user files, so
`python -m mmstudy verify` recomputes it exactly.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ...analysis.groups import BEYOND, PER_USER_BEYOND, reported_metrics, seed_groups, seed_summary, summary_table
from ...analysis.pairing import GroupPair, compare_groups
from ...errors import DataError
from ...stats.claims import claim_family
from ...stats.ranking import RankingResult, rank_configs
from ...study.results import StudyResults
from ...study.spec import AnalysisConfig

FACTORS = ["dataset", "model", "variant", "point", "representation", "operator"]
MIN_BLOCKS = 3


def base_cells(cells: pd.DataFrame) -> pd.DataFrame:
    """Cells without masking (the fusion grid proper; rate 0 of the robustness curves)."""
    return cells[cells["setting"] == "none"]


def accuracy(cells: pd.DataFrame, metrics: list[str]) -> pd.DataFrame:
    """Mean and seed-level 95% CI of each metric per (dataset, model, variant)."""
    return summary_table(base_cells(cells), FACTORS, metrics)


def variant_pairs(cells: pd.DataFrame, reference: str, extra: tuple[str, ...] = ()) -> list[GroupPair]:
    """Each variant against `reference`, per dataset and model (and `extra` factors), seed-matched."""
    keys = ["dataset", "model", *extra, "variant"]
    groups = seed_groups(cells, keys)
    pairs = []
    for key, fps in groups.items():
        *where, variant = key
        ref = groups.get((*where, reference))
        if variant == reference or ref is None:
            continue
        context = dict(zip(keys[:-1], where))
        label = " | ".join(_show(k, v) for k, v in context.items())
        pairs.append(GroupPair(label=f"{label}: {variant} vs {reference}", a=fps, b=ref,
                               keys=(*context.items(), ("variant", variant), ("reference", reference))))
    return pairs


def _show(key: str, value) -> str:
    return f"{value:.0%} missing" if key == "rate" else str(value)


def reference_comparisons(results: StudyResults, cells: pd.DataFrame, reference: str, metrics: list[str],
                          analysis: AnalysisConfig) -> pd.DataFrame:
    """Paired per-user tests of every variant vs the reference; one corrected family per metric."""
    pairs = variant_pairs(base_cells(cells), reference)
    tables = [compare_groups(results, pairs, metric, analysis) for metric in metrics]
    return pd.concat([t for t in tables if not t.empty], ignore_index=True) if pairs else pd.DataFrame()


def rankings(cells: pd.DataFrame, metric: str, analysis: AnalysisConfig) -> dict[str, RankingResult | str]:
    """Per model: Friedman + critical difference of the variants over (dataset x seed) blocks, or
    the reason it was skipped. Blocks are never users."""
    out: dict[str, RankingResult | str] = {}
    for model, part in base_cells(cells).groupby("model", sort=True):
        table = part.assign(block=part["dataset"] + " / seed " + part["seed"].astype(str))
        counts = table.groupby("block")["variant"].nunique()
        complete = counts[counts == table["variant"].nunique()].index
        table = table[table["block"].isin(complete)]
        if table["variant"].nunique() < 2:
            out[model] = "fewer than 2 variants: nothing to rank"
        elif len(complete) < MIN_BLOCKS:
            out[model] = (f"only {len(complete)} complete (dataset x seed) block(s); a ranking needs >= {MIN_BLOCKS} "
                          "(run more seeds or datasets)")
        else:
            out[model] = rank_configs(table, block="block", config="variant", value=metric, alpha=analysis.alpha,
                                      correction=analysis.correction)
    return out


def ranking_tables(ranked: dict[str, RankingResult | str]) -> dict[str, pd.DataFrame]:
    ranks, tests, pairwise = [], [], []
    for model, result in ranked.items():
        if isinstance(result, str):
            tests.append({"model": model, "n_blocks": np.nan, "n_configs": np.nan, "friedman_statistic": np.nan,
                          "friedman_pvalue": np.nan, "cd": np.nan, "cliques": "", "note": result})
            continue
        ranks += [{"model": model, "variant": v, "avg_rank": r} for v, r in result.avg_ranks.items()]
        tests.append({"model": model, "n_blocks": result.n_blocks, "n_configs": result.n_configs,
                      "friedman_statistic": result.friedman_statistic, "friedman_pvalue": result.friedman_pvalue,
                      "cd": result.cd, "cliques": "; ".join(" = ".join(c) for c in result.cliques),
                      "note": "; ".join(n for n in (result.note, wilcoxon_floor_note(result.n_blocks)) if n)})
        pairwise.append(result.pairwise.assign(model=model))
    return {"ranks": pd.DataFrame(ranks), "ranking_tests": pd.DataFrame(tests),
            "ranking_pairwise": pd.concat(pairwise, ignore_index=True) if pairwise else pd.DataFrame()}


def wilcoxon_floor_note(n_blocks: int) -> str:
    """Why few blocks cannot separate two variants: the exact two-sided Wilcoxon p is >= 2 / 2^n."""
    floor = 2.0 / 2 ** n_blocks
    return (f"with {n_blocks} blocks the smallest possible exact pairwise Wilcoxon p is {floor:.3g}: no pair can differ "
            "significantly; the Friedman test and average ranks are the evidence") if floor >= 0.05 else ""


def cost(cells: pd.DataFrame) -> pd.DataFrame:
    """Parameters and training time per variant (late fusion: all components together)."""
    base = base_cells(cells).assign(seconds_per_epoch=lambda d: d["train_seconds"] / d["epochs_run"].clip(lower=1))
    return (base.groupby(FACTORS, sort=True)
            .agg(n_parameters=("n_parameters", "mean"), train_seconds=("train_seconds", "mean"),
                 train_seconds_sd=("train_seconds", "std"), epochs_run=("epochs_run", "mean"),
                 seconds_per_epoch=("seconds_per_epoch", "mean"), n_seeds=("seed", "nunique"))
            .reset_index())


def cross_cells(cells: pd.DataFrame) -> pd.DataFrame:
    """The cross study: masked cells plus the base cells of the same variants (rate 0)."""
    masked = cells[cells["setting"] != "none"]
    if masked.empty:
        return masked
    base = base_cells(cells)
    return pd.concat([base[base["variant"].isin(set(masked["variant"]))], masked], ignore_index=True)


def robustness(cells: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Mean and seed-level CI of `metric` per (dataset, model, variant, missing rate)."""
    return summary_table(cross_cells(cells), ["dataset", "model", "variant", "point", "rate"], [metric])


def retention(cells: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Share of the rate-0 `metric` kept at each missing rate, per seed, then mean and CI."""
    cross = cross_cells(cells)
    if cross.empty:
        return pd.DataFrame()
    keys = ["dataset", "model", "variant", "point"]
    full = cross[cross["rate"] == 0].set_index([*keys, "seed"])[metric]
    rows = []
    for key, group in cross[cross["rate"] > 0].groupby([*keys, "rate"], sort=True):
        ratio = group.set_index([*keys, "seed"])[metric] / full.reindex(group.set_index([*keys, "seed"]).index)
        rows.append({**dict(zip([*keys, "rate"], key)), "metric": metric, **seed_summary(ratio.dropna())})
    return pd.DataFrame(rows)


def cross_reference(cells: pd.DataFrame, reference: str) -> str | None:
    """The reference of the cross study: the study's reference if it was masked, else the first
    masked variant (in cell order)."""
    masked = cells[cells["setting"] != "none"]["variant"]
    if masked.empty:
        return None
    return reference if reference in set(masked) else masked.iloc[0]


def cross_comparisons(results: StudyResults, cells: pd.DataFrame, reference: str,
                      analysis: AnalysisConfig) -> pd.DataFrame:
    """Each masked variant vs the cross reference at the same rate (paired, one Holm family)."""
    masked = cells[cells["setting"] != "none"]
    ref = cross_reference(cells, reference)
    pairs = variant_pairs(masked, ref, ("rate",)) if ref else []
    return compare_groups(results, pairs, analysis.metric, analysis)


def drop_comparisons(results: StudyResults, cells: pd.DataFrame, reference: str,
                     analysis: AnalysisConfig) -> pd.DataFrame:
    """Is a variant's loss from masking smaller than the reference's? Per user (mean over matched
    seeds): (variant at rate - variant at 0) vs (reference at rate - reference at 0), paired."""
    cross = cross_cells(cells)
    ref = cross_reference(cells, reference)
    if ref is None:
        return pd.DataFrame()
    groups = seed_groups(cross, ["dataset", "model", "rate", "variant"])
    drops, keys = {}, []
    for (dataset, model, rate, variant), fps in groups.items():
        quad = [fps, groups.get((dataset, model, 0.0, variant)), groups.get((dataset, model, rate, ref)),
                groups.get((dataset, model, 0.0, ref))]
        if rate == 0 or variant == ref or any(q is None for q in quad):
            continue
        label = f"{dataset} | {model} | {rate:.0%} missing: drop of {variant} vs drop of {ref}"
        drops[label] = _paired_drops(results, quad, analysis.metric)
        keys.append({"dataset": dataset, "model": model, "rate": rate, "variant": variant, "reference": ref})
    if not drops:
        return pd.DataFrame()
    table = claim_family(drops, correction=analysis.correction, alpha=analysis.alpha, user_test=analysis.test,
                         min_effect=analysis.min_effect, power=analysis.power)
    return pd.concat([pd.DataFrame(keys), table], axis=1)


def _paired_drops(results: StudyResults, quad: list[dict[int, str]], metric: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Users x seeds tables (a_rate - a_0, b_rate - b_0) over the seeds all four groups share."""
    seeds = sorted(set.intersection(*(set(q) for q in quad)))
    if not seeds:
        raise DataError("drop comparison: the four groups share no seed")
    tables = [pd.concat([results.per_user(q[s])[metric] for s in seeds], axis=1, keys=seeds) for q in quad]
    users = tables[0].index
    for t in tables[1:]:
        users = users.intersection(t.index)
    a_rate, a_0, b_rate, b_0 = (t.loc[users] for t in tables)
    return a_rate - a_0, b_rate - b_0


def late_weights(results: StudyResults) -> pd.DataFrame:
    """Per late-fusion cell: the weights chosen on validation and a recomputed argmax check."""
    rows = []
    for manifest in results.manifests.values():
        selection = manifest.selection
        chosen = selection.selected_fusion_weights
        if chosen is None:
            continue
        best = max(t.valid for t in selection.trials)
        winners = [t.fusion_weights for t in selection.trials if t.valid == best]
        labels = manifest.labels
        rows.append({**{k: labels[k] for k in ("dataset", "model", "variant", "rate", "seed")},
                     **{f"w_{k}": v for k, v in chosen.items()}, "valid": selection.best_valid,
                     "n_trials": len(selection.trials), "argmax_on_valid": chosen in winners and math.isclose(
                         selection.best_valid, best)})
    if not rows:
        return pd.DataFrame()
    return pd.DataFrame(rows).sort_values(["dataset", "model", "variant", "rate", "seed"], ignore_index=True)


def in_variant_order(table: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    """Rows sorted by dataset, model, then variants in their declared order (stable otherwise)."""
    keys = [k for k in ("dataset", "model", "variant") if k in table]
    if table.empty or "variant" not in keys:
        return table
    rank = {v: i for i, v in enumerate(order)}
    return table.sort_values(keys, key=lambda s: s.map(rank) if s.name == "variant" else s, kind="stable",
                             ignore_index=True)


def variant_order(results: StudyResults, analysis: AnalysisConfig) -> tuple[list[str], str]:
    """(variants in their declared order, the reference variant: the analysis', the study's or the first)."""
    order = list(dict.fromkeys(c["labels"]["variant"] for c in results.study.cells if "variant" in c["labels"]))
    return order, analysis.reference or results.study.section.get("reference") or order[0]


def analyse_fusion(results: StudyResults) -> dict[str, pd.DataFrame]:
    """Every table the fusion report shows, keyed by table name."""
    analysis, cells = results.analysis, results.cells
    if cells.empty:
        raise DataError(f"{results.folder}: no finished cells to analyse")
    order, reference = variant_order(results, analysis)
    metrics = reported_metrics(analysis, cells.columns)
    paired = [m for m in metrics if m.split("@")[0] not in BEYOND or m.split("@")[0] in PER_USER_BEYOND]
    tables = {"accuracy": in_variant_order(accuracy(cells, metrics), order),
              "variant_vs_reference": reference_comparisons(results, cells, reference, paired, analysis)}
    tables.update(ranking_tables(rankings(cells, analysis.metric, analysis)))
    tables["cost"] = in_variant_order(cost(cells), order)
    tables["robustness"] = in_variant_order(robustness(cells, analysis.metric), order)
    tables["retention"] = in_variant_order(retention(cells, analysis.metric), order)
    tables["cross_vs_reference"] = cross_comparisons(results, cells, reference, analysis)
    tables["drop_vs_reference"] = drop_comparisons(results, cells, reference, analysis)
    tables["late_weights"] = late_weights(results)
    return tables
