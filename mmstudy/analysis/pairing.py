"""Seed-matched, user-paired comparisons between groups of cells, judged by the claim rule.

A *group* is the set of cells of one configuration over several seeds. Two groups are compared
on the seeds they share and the users present in every matched cell: the per-user metrics form a
users x seeds table per group, and `stats.claims.claim_family` applies the project's claim rule
(the two-level test over users and training seeds, corrected over the family) with the user-
and seed-level tests beside it.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..stats.claims import claim_family
from ..study.results import StudyResults
from ..study.spec import AnalysisConfig


@dataclass(frozen=True)
class GroupPair:
    """Candidate cells `a` and baseline cells `b`, keyed by seed, and the per-user view of each."""

    label: str
    a: dict[int, str]
    b: dict[int, str]
    view_a: str = "full"
    view_b: str = "full"
    keys: tuple = ()


MIN_PAIRED_USERS = 2  # a paired test needs at least two users


def matched_tables(results: StudyResults, pair: GroupPair, metric: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(a, b): users x seeds tables of `metric` over the seeds both groups have (columns in seed
    order, pairing a's and b's runs of one seed) and the users present in every matched cell."""
    seeds = sorted(set(pair.a) & set(pair.b))
    if not seeds:
        raise ValueError(f"{pair.label}: the two groups share no seed")
    tables_a = [results.per_user(pair.a[s], pair.view_a)[metric] for s in seeds]
    tables_b = [results.per_user(pair.b[s], pair.view_b)[metric] for s in seeds]
    users = tables_a[0].index
    for t in (*tables_a, *tables_b):
        users = users.intersection(t.index)
    return (pd.concat([t.loc[users] for t in tables_a], axis=1, keys=seeds),
            pd.concat([t.loc[users] for t in tables_b], axis=1, keys=seeds))


def compare_groups(results: StudyResults, pairs: list[GroupPair], metric: str, analysis: AnalysisConfig,
                   correction: str | None = None) -> pd.DataFrame:
    """One row per pair: its factor keys, the metric and the claim-rule row (`claim_family`), one
    corrected family (the analysis' correction unless `correction` is given). A pair whose groups
    share fewer than two users in every matched cell (e.g. `dropped` at a high rate, whose common
    catalogue keeps no test user) cannot be tested and is left out of the family."""
    tables = {pair.label: matched_tables(results, pair, metric) for pair in pairs}
    pairs = [pair for pair in pairs if len(tables[pair.label][0]) >= MIN_PAIRED_USERS]
    if not pairs:
        return pd.DataFrame()
    tables = {pair.label: tables[pair.label] for pair in pairs}
    table = claim_family(tables, correction=correction or analysis.correction, alpha=analysis.alpha,
                         user_test=analysis.test, min_effect=analysis.min_effect, power=analysis.power)
    keys = pd.DataFrame([dict(pair.keys) for pair in pairs])
    table = pd.concat([keys, table], axis=1)
    table.insert(len(keys.columns), "metric", metric)
    return table
