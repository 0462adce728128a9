"""The missing-modality study's numbers: robustness, paired strategy differences, the
multimodal gain over CF, dropped-setting losses, homophily, chosen imputer settings and who is
missing, each per missingness mechanism."""
from __future__ import annotations

import json

import pandas as pd

from ...analysis.groups import seed_groups, summary_table
from ...analysis.pairing import GroupPair, compare_groups
from ...study.manifest import CellManifest
from ...study.results import StudyResults
from . import who_is_missing
from .design import mechanism_label
from .imputation_quality import imputation_quality_tables

FACTORS = ["model", "mechanism", "setting", "strategy", "rate"]


def labelled(cells: pd.DataFrame) -> pd.DataFrame:
    """The cells with a `mechanism` label each (folders written before mechanisms have none)."""
    if cells.empty:
        return cells
    return cells.assign(mechanism=[mechanism_label(row) for row in cells.to_dict("records")])


def labels_of(manifest: CellManifest) -> dict:
    return {**manifest.labels, "mechanism": mechanism_label(manifest.labels)}


def robustness(cells: pd.DataFrame, metrics: list[str]) -> pd.DataFrame:
    """Mean and seed-level CI of each metric per (model, mechanism, setting, strategy, rate)."""
    return summary_table(cells[cells["role"] == "multimodal"], FACTORS, metrics)


def strategy_pairs(cells: pd.DataFrame, reference: str) -> list[GroupPair]:
    """Each strategy against the reference, per (model, mechanism, setting, rate), seed-matched."""
    mm = cells[cells["role"] == "multimodal"]
    groups = seed_groups(mm, FACTORS)
    pairs = []
    for (model, mechanism, setting, strategy, rate), fps in sorted(groups.items()):
        ref = groups.get((model, mechanism, setting, reference, rate))
        if strategy == reference or ref is None:
            continue
        involves_dropped = "dropped" in (strategy, reference)
        pairs.append(GroupPair(
            label=f"{model} | {mechanism} {setting} @ {rate:.0%}: {strategy} vs {reference}", a=fps, b=ref,
            view_a="full" if strategy == "dropped" or not involves_dropped else "common",
            view_b="full" if reference == "dropped" or not involves_dropped else "common",
            keys=(("model", model), ("mechanism", mechanism), ("setting", setting), ("rate", rate),
                  ("strategy", strategy), ("reference", reference))))
    return pairs


def cf_pairs(cells: pd.DataFrame, results: StudyResults) -> list[GroupPair]:
    """Each multimodal configuration against its CF counterpart (same seeds, same catalogue)."""
    mm = cells[cells["role"] == "multimodal"]
    cf = cells[cells["role"] == "cf"]
    cf_groups = seed_groups(cf, FACTORS)
    pairs = []
    for (model, mechanism, setting, strategy, rate), fps in sorted(seed_groups(mm, FACTORS).items()):
        counterpart = results.manifests[next(iter(fps.values()))].cf_counterpart
        base = (cf_groups.get((counterpart, mechanism, setting, "dropped", rate)) if strategy == "dropped"
                else cf_groups.get((counterpart, "none", "none", "none", 0.0)))
        if counterpart is None or base is None:
            continue
        pairs.append(GroupPair(label=f"{model} vs {counterpart} | {mechanism} {setting} @ {rate:.0%}: {strategy}",
                               a=fps, b=base, keys=(("model", model), ("cf_model", counterpart),
                                                    ("mechanism", mechanism), ("setting", setting), ("rate", rate),
                                                    ("strategy", strategy))))
    return pairs


def dropped_losses(results: StudyResults) -> pd.DataFrame:
    rows = []
    for m in results.manifests.values():
        lost = m.missing.dropped
        if lost and m.labels.get("role") == "multimodal":
            labels = labels_of(m)
            rows.append({key: labels[key] for key in ("mechanism", "setting", "rate", "seed")} | lost)
    if not rows:
        return pd.DataFrame()
    table = pd.DataFrame(rows).drop_duplicates(["mechanism", "setting", "rate", "seed"])
    return table.drop(columns="seed").groupby(["mechanism", "setting", "rate"], as_index=False).mean()


def homophily(results: StudyResults) -> pd.DataFrame:
    """Feature homophily of the training co-interaction graph per modality (observed rows)."""
    rows = []
    for m in results.manifests.values():
        for modality, value in (m.missing.homophily or {}).items():
            rows.append({"mechanism": mechanism_label(m.labels), "setting": m.labels.get("setting"),
                         "rate": m.labels.get("rate"), "modality": modality, "homophily": value})
    if not rows:
        return pd.DataFrame()
    return pd.DataFrame(rows).groupby(["mechanism", "setting", "rate", "modality"], as_index=False)["homophily"].mean()


def chosen_imputer_params(results: StudyResults) -> pd.DataFrame:
    """Imputer settings chosen on validation: how often each value won, per configuration."""
    rows = []
    for m in results.manifests.values():
        chosen = m.selection.selected_imputer_params or {}
        if chosen and m.labels.get("role") == "multimodal":
            labels = labels_of(m)
            rows.append({k: labels[k] for k in FACTORS} | {"chosen": json.dumps(chosen, sort_keys=True),
                                                            "fallback_items": _fallbacks(m)})
    if not rows:
        return pd.DataFrame()
    table = pd.DataFrame(rows)
    return (table.groupby([*FACTORS, "chosen"], as_index=False)
            .agg(times_chosen=("fallback_items", "size"), fallback_items=("fallback_items", "mean")))


def _fallbacks(manifest: CellManifest) -> int:
    imputation = manifest.missing.imputation or {}
    return int(sum(v.get("fallback_items", 0) for v in imputation.values()))


def analyse_missing(results: StudyResults) -> dict[str, pd.DataFrame]:
    """Every table the missing-modality report shows, keyed by table name."""
    analysis = results.analysis
    cells = labelled(results.cells)
    metrics = list(dict.fromkeys([analysis.metric, *analysis.metrics]))
    reference = analysis.reference or _reference(results)
    tables, pairs = {"robustness": robustness(cells, metrics)}, strategy_pairs(cells, reference)
    tables["strategy_vs_reference"] = compare_groups(results, pairs, analysis.metric, analysis)
    tables["multimodal_vs_cf"] = compare_groups(results, cf_pairs(cells, results), analysis.metric, analysis,
                                                correction="fdr_bh")
    tables["dropped_losses"] = dropped_losses(results)
    tables["homophily"] = homophily(results)
    tables["imputer_settings"] = chosen_imputer_params(results)
    tables["who_is_missing"] = who_is_missing.table(results)
    tables.update(imputation_quality_tables(results, pairs, analysis.metric))
    return tables


def _reference(results: StudyResults) -> str:
    return results.study.section.get("reference", "zeros")
