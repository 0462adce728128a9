"""One paired comparison with its test and effect sizes, and families of them with correction."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Mapping

import numpy as np
import pandas as pd

from ..errors import ConfigError, DataError
from .corrections import adjust_pvalues, correction_label, correction_name
from .effects import (cohens_dz, mean_difference_ci, rank_biserial, relative_change_ci,
                      win_tie_loss)
from .paired import PAIRED_TESTS, align_pairs, run_test


@dataclass(frozen=True)
class Comparison:
    """Candidate `a` versus baseline `b` over the same users; differences are a - b."""

    label: str
    test: str
    n_users: int
    mean_a: float
    mean_b: float
    mean_diff: float
    diff_ci_low: float
    diff_ci_high: float
    rel_change_pct: float
    rel_ci_low: float
    rel_ci_high: float
    cohens_dz: float
    rank_biserial: float
    wins: int
    ties: int
    losses: int
    statistic: float
    pvalue: float
    n_zero: int
    confidence: float
    ci_method: str
    note: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def compare(a, b, test: str = "t", *, label: str = "", confidence: float = 0.95,
            n_boot: int = 2000, ci_method: str = "percentile", n_resamples: int = 9999,
            zero_method: str = "wilcox", seed: int = 0) -> Comparison:
    """Paired comparison of per-user metrics `a` (candidate) and `b` (baseline).

    `test`: "t" (paired t-test), "wilcoxon" (signed-rank, zeros handled by `zero_method`) or
    "permutation" (sign-flip, `n_resamples` flips). Effect sizes: mean difference and relative
    change (ratio of means, %) with bootstrap CIs over users (`n_boot` resamples,
    `ci_method` "percentile"|"basic"|"bca", `seed`), Cohen's d_z, rank-biserial r and
    win/tie/loss counts. All tests are two-sided.
    """
    xa, xb, _ = align_pairs(a, b, label=label)
    res = run_test(test, xa, xb, n_resamples=n_resamples, seed=seed, zero_method=zero_method)
    boot = dict(confidence=confidence, n_boot=n_boot, method=ci_method, seed=seed)
    diff, d_low, d_high = mean_difference_ci(xa, xb, **boot)
    rel, r_low, r_high = relative_change_ci(xa, xb, **boot)
    notes = [res.note] + (["baseline mean is 0: relative change undefined"] if np.isnan(rel)
                          else [])
    return Comparison(
        label=label, test=res.test, n_users=res.n, mean_a=float(xa.mean()),
        mean_b=float(xb.mean()), mean_diff=diff, diff_ci_low=d_low, diff_ci_high=d_high,
        rel_change_pct=rel, rel_ci_low=r_low, rel_ci_high=r_high,
        cohens_dz=cohens_dz(xa, xb), rank_biserial=rank_biserial(xa, xb),
        **dict(zip(("wins", "ties", "losses"), win_tie_loss(xa, xb))),
        statistic=res.statistic, pvalue=res.pvalue, n_zero=res.n_zero, confidence=confidence,
        ci_method=ci_method.lower(), note="; ".join(n for n in notes if n))


def compare_family(pairs: Mapping[str, tuple], correction: str = "holm", *,
                   alpha: float = 0.05, test: str = "t", **options) -> pd.DataFrame:
    """Compare every (a, b) in `pairs` and correct the p-values over the whole family.

    Returns one row per comparison (column "comparison" = the key) with all `Comparison`
    fields plus "p_adj", "correction" (statsmodels name), "correction_label", "alpha" and
    "significant" (p_adj < alpha). `options` are passed to `compare` (e.g. seed, n_boot).
    """
    if not pairs:
        raise DataError("compare_family needs at least one comparison")
    if not 0 < alpha < 1:
        raise ConfigError(f"alpha must be in (0, 1), got {alpha}")
    method = correction_name(correction)
    PAIRED_TESTS.get(test)  # fail on a bad name before any work
    rows = []
    for name, pair in pairs.items():
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise DataError(f"comparison {name!r} must be an (a, b) pair of metric vectors")
        rows.append(compare(pair[0], pair[1], test, label=str(name), **options).to_dict())
    df = pd.DataFrame(rows).rename(columns={"label": "comparison"})
    df["p_adj"] = adjust_pvalues(df["pvalue"].to_numpy(), method)
    df["correction"] = method
    df["correction_label"] = correction_label(method)
    df["alpha"] = alpha
    df["significant"] = df["p_adj"] < alpha
    return df
