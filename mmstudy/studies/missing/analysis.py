"""The missing-modality study's numbers: robustness, paired strategy differences, the
multimodal gain over CF, dropped-setting losses, homophily, chosen imputer settings, who is
missing, who pays and new items, each per phase and missingness mechanism."""
from __future__ import annotations

import json

import pandas as pd

from ...analysis.groups import seed_groups, summary_table
from ...analysis.pairing import GroupPair, compare_groups
from ...study.manifest import CellManifest
from ...study.results import StudyResults
from . import who_is_missing
from .design import mechanism_label, phase_label
from .imputation_quality import imputation_quality_tables
from .new_items import new_items_table, new_items_vs_cf
from .who_pays import who_pays, who_pays_pairs

FACTORS = ["model", "phase", "mechanism", "setting", "strategy", "rate"]
COMPLETE = ("none", "none", "none", 0.0)  # (mechanism, setting, strategy, rate) of complete-data cells


def labelled(cells: pd.DataFrame) -> pd.DataFrame:
    """The cells with `phase` and `mechanism` labels each (older folders lack them)."""
    if cells.empty:
        return cells
    rows = cells.to_dict("records")
    return cells.assign(phase=[phase_label(r) for r in rows], mechanism=[mechanism_label(r) for r in rows])


def labels_of(manifest: CellManifest) -> dict:
    return {**manifest.labels, "phase": phase_label(manifest.labels), "mechanism": mechanism_label(manifest.labels)}


def complete_phase(phase: str) -> str:
    """The phase whose complete-data cells a phase starts from (`serving`: `train_and_test`'s)."""
    return "new_items" if phase == "new_items" else "train_and_test"


def robustness(cells: pd.DataFrame, metrics: list[str]) -> pd.DataFrame:
    """Mean and seed-level CI of each metric per (model, phase, mechanism, setting, strategy, rate);
    complete-data cells are the rows with strategy 'none' at rate 0."""
    return summary_table(cells[cells["role"] == "multimodal"], FACTORS, metrics)


def strategy_pairs(cells: pd.DataFrame, reference: str) -> list[GroupPair]:
    """Each strategy against the reference, per (model, phase, mechanism, setting, rate), seed-matched."""
    mm = cells[cells["role"] == "multimodal"]
    groups = seed_groups(mm, FACTORS)
    pairs = []
    for (model, phase, mechanism, setting, strategy, rate), fps in sorted(groups.items()):
        ref = groups.get((model, phase, mechanism, setting, reference, rate))
        if strategy == reference or ref is None:
            continue
        involves_dropped = "dropped" in (strategy, reference)
        pairs.append(GroupPair(
            label=f"{model} | {phase} {mechanism} {setting} @ {rate:.0%}: {strategy} vs {reference}", a=fps, b=ref,
            view_a="full" if strategy == "dropped" or not involves_dropped else "common",
            view_b="full" if reference == "dropped" or not involves_dropped else "common",
            keys=(("model", model), ("phase", phase), ("mechanism", mechanism), ("setting", setting), ("rate", rate),
                  ("strategy", strategy), ("reference", reference))))
    return pairs


def cf_pairs(cells: pd.DataFrame, results: StudyResults) -> list[GroupPair]:
    """Each multimodal configuration against its CF counterpart (same seeds, same catalogue; the
    complete-data CF cells of the phase, or its `dropped` catalogue)."""
    mm = cells[cells["role"] == "multimodal"]
    cf_groups = seed_groups(cells[cells["role"] == "cf"], FACTORS)
    pairs = []
    for (model, phase, mechanism, setting, strategy, rate), fps in sorted(seed_groups(mm, FACTORS).items()):
        counterpart = results.manifests[next(iter(fps.values()))].cf_counterpart
        base = (cf_groups.get((counterpart, complete_phase(phase), mechanism, setting, "dropped", rate))
                if strategy == "dropped" else cf_groups.get((counterpart, complete_phase(phase), *COMPLETE)))
        if counterpart is None or base is None:
            continue
        pairs.append(GroupPair(
            label=f"{model} vs {counterpart} | {phase} {mechanism} {setting} @ {rate:.0%}: {strategy}", a=fps, b=base,
            keys=(("model", model), ("cf_model", counterpart), ("phase", phase), ("mechanism", mechanism),
                  ("setting", setting), ("rate", rate), ("strategy", strategy))))
    return pairs


LOSS_KEYS = ("phase", "mechanism", "setting", "rate")


def dropped_losses(results: StudyResults) -> pd.DataFrame:
    """What `dropped` removes (items, interactions, users), mean over seeds, per mask."""
    rows = []
    for m in results.manifests.values():
        lost = m.missing.dropped
        if lost and m.labels.get("role") == "multimodal":
            labels = labels_of(m)
            rows.append({key: labels[key] for key in LOSS_KEYS} | {"seed": labels["seed"]} | lost)
    if not rows:
        return pd.DataFrame()
    table = pd.DataFrame(rows).drop_duplicates([*LOSS_KEYS, "seed"])
    return table.drop(columns="seed").groupby(list(LOSS_KEYS), as_index=False).mean()


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
    tables["who_pays"] = who_pays(results, who_pays_pairs(cells, FACTORS, COMPLETE, complete_phase), analysis.metric)
    tables["new_items"] = new_items_table(results, cells, analysis.metric)
    tables["new_items_vs_cf"] = new_items_vs_cf(results, cells, FACTORS, COMPLETE, analysis.metric)
    return tables


def _reference(results: StudyResults) -> str:
    return results.study.section.get("reference", "zeros")
