"""New items (`new_items` phase): how well held-out items, never seen in training, are ranked.

Each `new_items` cell stores its cold items' own per-user metrics (`per_user_cold`: the test
targets restricted to the cold items, ranked with the warm catalogue) and each user's random-
ranking floor (`RandomRecall@k`). The table gives, per configuration, the mean over seeds (95% CI)
of the cold metric, the floor and their ratio; the CF counterpart, which has no content to place
a new item with, stands beside it, and each multimodal configuration is compared with it, paired
per user on the cold items (claim rule, Benjamini-Hochberg as an exploratory family).
"""
from __future__ import annotations

import pandas as pd

from ...analysis.groups import seed_groups, seed_summary
from ...analysis.pairing import GroupPair, compare_groups
from ...report.tables import comparison_table, format_mean_ci
from ...study.results import StudyResults

KEYS = ["role", "model", "mechanism", "setting", "strategy", "rate"]


def cold_cells(cells: pd.DataFrame) -> pd.DataFrame:
    """The `new_items` cells (multimodal and CF), labelled as `analysis.labelled` does."""
    return cells[cells["phase"] == "new_items"] if not cells.empty else cells


def new_items_table(results: StudyResults, cells: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Per configuration: the cold items' `metric` and its random floor, mean over seeds with CI."""
    cold = cold_cells(cells)
    if cold.empty:
        return pd.DataFrame()
    floor = "Random" + metric
    rows = []
    for key, group in cold.groupby(KEYS, sort=True):
        per_seed = pd.DataFrame([results.per_user(fp, "cold")[[metric, floor]].mean() for fp in group["fingerprint"]])
        value, chance = seed_summary(per_seed[metric]), seed_summary(per_seed[floor])
        rows.append({**dict(zip(KEYS, key)), "metric": metric, **value, "random_floor": chance["mean"],
                     "lift_over_random": value["mean"] / chance["mean"] if chance["mean"] > 0 else float("nan")})
    return pd.DataFrame(rows)


def new_items_vs_cf(results: StudyResults, cells: pd.DataFrame, factors: list[str], complete: tuple,
                    metric: str) -> pd.DataFrame:
    """Each multimodal `new_items` configuration against its CF counterpart's complete-data cells,
    paired per user over the cold items only."""
    cold = cold_cells(cells)
    if cold.empty:
        return pd.DataFrame()
    cf_groups = seed_groups(cold[cold["role"] == "cf"], factors)
    pairs = []
    for (model, phase, mechanism, setting, strategy, rate), fps in seed_groups(cold[cold["role"] == "multimodal"],
                                                                             factors).items():
        counterpart = results.manifests[next(iter(fps.values()))].cf_counterpart
        base = cf_groups.get((counterpart, phase, *complete))
        if counterpart is None or base is None or strategy == "dropped":
            continue
        pairs.append(GroupPair(label=f"{model} vs {counterpart} on new items | {mechanism} {setting} @ {rate:.0%}: "
                                     f"{strategy}", a=fps, b=base, view_a="cold", view_b="cold",
                               keys=(("model", model), ("cf_model", counterpart), ("mechanism", mechanism),
                                     ("setting", setting), ("rate", rate), ("strategy", strategy))))
    return compare_groups(results, pairs, metric, results.analysis, correction="fdr_bh")


def shown(table: pd.DataFrame) -> pd.DataFrame:
    out = table[["role", "model", "mechanism", "setting", "strategy", "rate", "n_seeds"]].copy()
    out["rate"] = out["rate"].map(lambda r: f"{r:.0%}")
    metric = table["metric"].iloc[0]
    out[f"new items {metric} [95% CI]"] = [format_mean_ci(r.mean, r.ci_low, r.ci_high) for r in table.itertuples()]
    out["random floor"] = table["random_floor"].map(lambda v: f"{v:.4f}")
    out["x random"] = table["lift_over_random"].map(lambda v: f"{v:.1f}")
    return out


def pages(rep, tables: dict[str, pd.DataFrame]) -> None:
    """The new-items table and the comparison with CF on them (a `report.writer.StudyReport`)."""
    table = tables.get("new_items", pd.DataFrame())
    if table.empty:
        return
    rep.table("new_items", table, "New items: held out of training, ranked with the warm catalogue", shown(table),
              note="Metric over each user's test items that are new (never in training); random floor: the "
                   "expected value of a uniformly random ranking of the user's candidates. CF models have no "
                   "content to place a new item with.")
    versus = tables.get("new_items_vs_cf", pd.DataFrame())
    rep.table("new_items_vs_cf", versus, "New items: multimodal model vs its CF counterpart",
              comparison_table(versus) if not versus.empty else None,
              note="Paired per user over the new items; exploratory family (Benjamini-Hochberg).")
