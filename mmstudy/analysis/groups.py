"""Groups of cells — one configuration over several training seeds — and their seed-level
summaries: the building blocks every study analysis tabulates with."""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..evaluation.metrics import parse_metric
from ..study.spec import AnalysisConfig

BEYOND = ("Coverage", "GiniDiversity", "APLT", "EFD")  # list-level and per-user beyond-accuracy
PER_USER_BEYOND = ("APLT", "EFD")


def seed_groups(cells: pd.DataFrame, keys: list[str]) -> dict[tuple, dict[int, str]]:
    """{factor values: {seed: fingerprint}}, in sorted key order."""
    out: dict[tuple, dict[int, str]] = {}
    for row in cells.sort_values([*keys, "seed"]).itertuples(index=False):
        out.setdefault(tuple(getattr(row, k) for k in keys), {})[int(row.seed)] = row.fingerprint
    return out


def seed_summary(values: pd.Series, confidence: float = 0.95) -> dict:
    """Mean over seeds with a t-based confidence interval of the seed-level means."""
    x = values.to_numpy(dtype=float)
    n = len(x)
    mean = float(x.mean())
    if n < 2:
        return {"mean": mean, "ci_low": np.nan, "ci_high": np.nan, "n_seeds": n}
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1) * x.std(ddof=1) / np.sqrt(n))
    return {"mean": mean, "ci_low": mean - half, "ci_high": mean + half, "n_seeds": n}


def summary_table(cells: pd.DataFrame, keys: list[str], metrics: list[str]) -> pd.DataFrame:
    """One row per (configuration, metric): the keys, the metric and its `seed_summary`."""
    return pd.DataFrame([{**dict(zip(keys, key)), "metric": metric, **seed_summary(group[metric])}
                         for key, group in cells.groupby(keys, sort=True) for metric in metrics])


def reported_metrics(analysis: AnalysisConfig, columns, extra: tuple[str, ...] = BEYOND) -> list[str]:
    """The analysis metrics, then the `extra` metrics at the main metric's cutoff (those present)."""
    _, k = parse_metric(analysis.metric)
    names = [analysis.metric, *analysis.metrics, *(f"{b}@{k}" for b in extra)]
    return [m for m in dict.fromkeys(names) if m in columns]
