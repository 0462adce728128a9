"""Seed-matched, user-paired comparisons between groups of cells.

A *group* is the set of cells of one configuration over several seeds. Two groups are compared
on the users they share: each user's metric is averaged over the matched seeds (so the test is
paired per user), and a second, seed-level test (paired t-test on the per-seed means) respects
the seed level of uncertainty.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ..stats.compare import compare_family
from ..stats.corrections import adjust_pvalues
from ..study.results import StudyResults


@dataclass(frozen=True)
class GroupPair:
    """Candidate cells `a` and baseline cells `b`, keyed by seed, and the per-user view of each."""

    label: str
    a: dict[int, str]
    b: dict[int, str]
    view_a: str = "full"
    view_b: str = "full"
    keys: tuple = ()


def matched_user_means(results: StudyResults, pair: GroupPair, metric: str) -> tuple[pd.Series, pd.Series, np.ndarray, np.ndarray]:
    """Per-user means over the seeds both groups have, on users present in every matched cell;
    plus the per-seed means of each group (on the same users)."""
    seeds = sorted(set(pair.a) & set(pair.b))
    if not seeds:
        raise ValueError(f"{pair.label}: the two groups share no seed")
    tables_a = [results.per_user(pair.a[s], pair.view_a)[metric] for s in seeds]
    tables_b = [results.per_user(pair.b[s], pair.view_b)[metric] for s in seeds]
    users = tables_a[0].index
    for t in (*tables_a, *tables_b):
        users = users.intersection(t.index)
    a = pd.concat([t.loc[users] for t in tables_a], axis=1)
    b = pd.concat([t.loc[users] for t in tables_b], axis=1)
    return a.mean(axis=1), b.mean(axis=1), a.mean(axis=0).to_numpy(), b.mean(axis=0).to_numpy()


def seed_level_pvalue(seed_a: np.ndarray, seed_b: np.ndarray) -> float:
    """Two-sided paired t-test on per-seed means (NaN with fewer than 2 seeds)."""
    if len(seed_a) < 2:
        return float("nan")
    diff = seed_a - seed_b
    if np.allclose(diff, diff[0]) and np.isclose(diff[0], 0.0):
        return 1.0
    return float(stats.ttest_rel(seed_a, seed_b).pvalue)


def compare_groups(results: StudyResults, pairs: list[GroupPair], metric: str, *, test: str = "t",
                   correction: str = "holm", alpha: float = 0.05) -> pd.DataFrame:
    """One row per pair (a `compare_family` row: user-level test, effect sizes, corrected p)
    plus the pair's factor keys and the seed-level test, corrected over the same family."""
    if not pairs:
        return pd.DataFrame()
    user_pairs, seed_p = {}, []
    for pair in pairs:
        a, b, seed_a, seed_b = matched_user_means(results, pair, metric)
        user_pairs[pair.label] = (a, b)
        seed_p.append((len(seed_a), seed_level_pvalue(seed_a, seed_b)))
    table = compare_family(user_pairs, correction, alpha=alpha, test=test, seed=0)
    keys = pd.DataFrame([dict(pair.keys) for pair in pairs])
    table = pd.concat([keys, table], axis=1)
    table.insert(len(keys.columns), "metric", metric)
    table["n_seeds"] = [n for n, _ in seed_p]
    table["seed_pvalue"] = [p for _, p in seed_p]
    finite = np.isfinite(table["seed_pvalue"].to_numpy())
    table["seed_p_adj"] = np.nan
    if finite.any():
        table.loc[finite, "seed_p_adj"] = adjust_pvalues(table.loc[finite, "seed_pvalue"].to_numpy(), correction)
    return table
