"""How close each imputation came to the truth, and whether closeness predicts the recommendation gain.

Both tables are derived from the stored results only (each cell's `missing.quality`, recorded by
`handle_missing` on the synthetically masked rows, and the per-user test files), so `verify`
recomputes them.

* `quality_table` (tables/imputation_quality.csv): per strategy x setting x rate x modality (x
  mechanism, when the study labels one) the mean over cells (models x seeds) of the cosine
  similarity and the pooled relative squared error of the imputed rows to the true rows
  (`mmstudy.missing.quality`), and how many rows were scored per cell.
* `quality_vs_gain` (tables/imputation_quality_vs_gain.csv): across cells of every imputing
  strategy except the reference, the Spearman rank correlation (with its p-value) of each quality
  measure with the cell's gain in the analysis metric over the reference strategy at the same
  model, setting, rate and seed: the mean per-user metric minus the reference cell's, over the
  users both have (on the common items when either side is `dropped`, as the paired tests).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ...analysis.pairing import GroupPair, matched_tables
from ...study.results import StudyResults

MEASURES = ("cosine", "rse")


def quality_rows(results: StudyResults) -> pd.DataFrame:
    """One row per (multimodal cell, scored modality): its labels and its recorded quality."""
    rows = []
    for fp, m in results.manifests.items():
        if m.labels.get("role") != "multimodal" or not m.missing.quality:
            continue
        labels = {k: m.labels.get(k) for k in ("model", "setting", "strategy", "rate", "seed", "mechanism")
                  if k in m.labels}
        for modality, q in sorted(m.missing.quality.items()):
            rows.append({"fingerprint": fp, **labels, "modality": modality, "rows": q["rows"],
                         "cosine": q["cosine"], "rse": q["rse"]})
    return pd.DataFrame(rows)


def quality_table(rows: pd.DataFrame) -> pd.DataFrame:
    """Mean quality per strategy x setting x rate (x mechanism) x modality over models and seeds."""
    if rows.empty:
        return pd.DataFrame()
    keys = [k for k in ("mechanism", "strategy", "setting", "rate", "modality") if k in rows]
    return (rows.groupby(keys, as_index=False, sort=True)
            .agg(n_cells=("fingerprint", "size"), rows=("rows", "mean"), cosine=("cosine", "mean"),
                 rse=("rse", "mean")))


def cell_gains(results: StudyResults, pairs: list[GroupPair], metric: str) -> pd.DataFrame:
    """Per candidate cell of each pair: its gain in `metric` over the matched reference cell."""
    out = []
    for pair in pairs:
        a, b = matched_tables(results, pair, metric)
        gains = a.mean(axis=0) - b.mean(axis=0)
        out += [{"fingerprint": pair.a[seed], "gain": float(gain)} for seed, gain in gains.items()]
    return pd.DataFrame(out, columns=["fingerprint", "gain"])


def quality_vs_gain(rows: pd.DataFrame, gains: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Spearman correlation of each quality measure with the gain, per modality, across cells."""
    if rows.empty or gains.empty:
        return pd.DataFrame()
    joined = rows.merge(gains, on="fingerprint")
    out = []
    for modality, part in joined.groupby("modality", sort=True):
        for measure in MEASURES:
            values = part[[measure, "gain"]].dropna()
            rho, p = _spearman(values[measure].to_numpy(), values["gain"].to_numpy())
            out.append({"modality": modality, "measure": measure, "metric": metric, "n_cells": len(values),
                        "spearman_rho": rho, "p_value": p})
    return pd.DataFrame(out)


def _spearman(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(rho, two-sided p); NaN when undefined (fewer than 3 cells, or a constant variable)."""
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan"), float("nan")
    result = stats.spearmanr(x, y)
    return float(result.statistic), float(result.pvalue)


def imputation_quality_tables(results: StudyResults, pairs: list[GroupPair], metric: str) -> dict[str, pd.DataFrame]:
    """{"imputation_quality", "imputation_quality_vs_gain"}; `pairs`: each strategy vs the reference."""
    rows = quality_rows(results)
    scored = set(rows["fingerprint"]) if not rows.empty else set()
    relevant = [p for p in pairs if scored & set(p.a.values())]
    return {"imputation_quality": quality_table(rows),
            "imputation_quality_vs_gain": quality_vs_gain(rows, cell_gains(results, relevant, metric), metric)}


def quality_pages(rep, tables: dict[str, pd.DataFrame]) -> None:
    """The two tables' report pages (a `report.writer.StudyReport`; empty tables add nothing)."""
    quality = tables.get("imputation_quality", pd.DataFrame())
    shown = quality.assign(rate=quality["rate"].map(lambda r: f"{r:.0%}")).round(3) if not quality.empty else None
    rep.table("imputation_quality", quality, "Imputation quality against the truth (synthetically masked rows)",
              shown, note="Mean over models and seeds. cosine: mean cosine similarity of imputed and true rows "
                          "(0 for a zero row); rse: pooled relative squared error sum||imputed - true||^2 / "
                          "sum||true||^2 (1 = zeros). Natural gaps have no truth and are not scored.")
    versus = tables.get("imputation_quality_vs_gain", pd.DataFrame())
    rep.table("imputation_quality_vs_gain", versus, "Does imputation quality predict the recommendation gain?",
              versus.round(4) if not versus.empty else None,
              note="Spearman rank correlation across cells of each quality measure with the cell's gain over the "
                   "reference strategy (same model, setting, rate and seed; mean per-user difference).")
