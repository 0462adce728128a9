"""mmstudy's claim rule: when a report may call a difference significant.

Primary rule (it alone decides every "significant" in tables, figures and summaries): a
difference must stand out against the spread over users and retrained models together (the
two-level test of `stats.crossed`, users and training seeds as crossed random effects) AND against
the spread of the per-seed means alone (the seed-level paired t-test): the rule's p-value is the
larger of the two (an intersection-union test), corrected over the declared family (Holm by
default); significant iff the corrected p < alpha. It needs at least two seeds per side: a
single-seed comparison is "untestable".

Supporting column, which never decides: the user-level test (per-user metrics averaged over the
matched seeds, the study's `analysis.test`), corrected over the same family. It treats each trained
model as fixed, so training variance turns into false "significance" when seeds differ (A/A
comparisons across seeds: 70% "significant" for LightGCN-M on the quick synthetic data).

Power: every row carries the minimum detectable effect at `power` for its users and seeds and,
with `min_effect` declared, the seeds that effect needs; a comparison that is not significant and
could not have detected `min_effect` is "underpowered" rather than "not significant".
"""
from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

from .compare import compare_family
from .corrections import adjust_pvalues
from .crossed import crossed_tests, rule_detectable_effect, seeds_needed

RULE = "two-level (users x seeds) and seed-level t-tests must both reject"
VERDICTS = ("significant", "not significant", "underpowered", "untestable")
USER_LEVEL = {"pvalue": "user_pvalue", "p_adj": "user_p_adj", "significant": "user_significant",
              "statistic": "user_statistic", "test": "user_test", "diff_ci_low": "user_diff_ci_low",
              "diff_ci_high": "user_diff_ci_high", "rel_ci_low": "user_rel_ci_low", "rel_ci_high": "user_rel_ci_high"}


def claim_family(pairs: Mapping[str, tuple[pd.DataFrame, pd.DataFrame]], *, correction: str = "holm",
                 alpha: float = 0.05, user_test: str = "t", min_effect: float | None = None, power: float = 0.8,
                 confidence: float = 0.95) -> pd.DataFrame:
    """One row per comparison of a family: the primary two-level test and its verdict, effect sizes,
    power, and the supporting user- and seed-level tests.

    `pairs` maps a label to (a, b): users x seeds metric tables of the candidate and the baseline
    (same users in the same order, column s of each trained with the s-th matched seed).
    """
    user = compare_family({k: (a.mean(axis=1), b.mean(axis=1)) for k, (a, b) in pairs.items()}, correction,
                          alpha=alpha, test=user_test, confidence=confidence, seed=0).rename(columns=USER_LEVEL)
    rows = [_two_level_row(a, b, alpha, power, min_effect, confidence) for a, b in pairs.values()]
    table = pd.concat([user, pd.DataFrame(rows)], axis=1)
    for column in ("p", "two_level_p", "seed_p"):
        table[f"{column}_adj"] = _adjusted(table["pvalue" if column == "p" else f"{column}value"], correction)
    table["significant"] = (table["p_adj"] < alpha).to_numpy()
    table["verdict"] = [_verdict(r, min_effect) for r in table.itertuples()]
    baseline = table["mean_b"].where(table["mean_b"] != 0)
    table["rel_ci_low"], table["rel_ci_high"] = 100 * table["diff_ci_low"] / baseline, 100 * table["diff_ci_high"] / baseline
    table["rule"] = RULE
    return table


def _two_level_row(a: pd.DataFrame, b: pd.DataFrame, alpha: float, power: float, min_effect: float | None,
                   confidence: float) -> dict:
    res = crossed_tests(a.to_numpy().T, b.to_numpy().T, confidence)
    parts = res.components
    tested = parts is not None
    needed = seeds_needed(parts, res.n_users, min_effect, alpha=alpha, power=power) if tested and min_effect else None
    return {"test": "two-level + seed-level t", "n_seeds": res.n_seeds, "statistic": res.statistic, "df": res.df,
            "se": res.se, "pvalue": max(res.pvalue, res.seed_pvalue), "two_level_pvalue": res.pvalue,
            "seed_pvalue": res.seed_pvalue, "diff_ci_low": res.ci_low, "diff_ci_high": res.ci_high,
            "seed_sd": parts.seed_sd if tested else np.nan, "user_sd": parts.user_sd if tested else np.nan,
            "mde": rule_detectable_effect(parts, res.n_users, res.n_seeds, alpha=alpha, power=power)
            if tested else np.nan,
            "seeds_for_min_effect": np.nan if needed is None else float(needed),
            "two_level_note": res.note or "-"}


def _adjusted(pvalues: pd.Series, correction: str) -> np.ndarray:
    """Corrected p-values over the finite ones (a one-seed row stays NaN)."""
    out = np.full(len(pvalues), np.nan)
    finite = np.isfinite(pvalues.to_numpy(float))
    if finite.any():
        out[finite] = adjust_pvalues(pvalues.to_numpy(float)[finite], correction)
    return out


def _verdict(row, min_effect: float | None) -> str:
    if not np.isfinite(row.pvalue):
        return "untestable"
    if row.significant:
        return "significant"
    if min_effect is not None and not row.mde <= min_effect:
        return "underpowered"
    return "not significant"
