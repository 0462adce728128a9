"""Ranking many configurations over blocks: Friedman, pairwise Wilcoxon-Holm, Nemenyi CD.

Blocks are independent units of replication such as datasets or (seed x dataset) cells, never
users: users of one dataset share the trained models, so treating them as blocks would make
the test count the same training run thousands of times. Follows Demsar (2006) for average
ranks and the Nemenyi critical difference, and Benavoli et al. (2016) for replacing the
mean-rank post-hoc test by pairwise Wilcoxon signed-rank tests with Holm correction.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import ConfigError, DataError
from .corrections import adjust_pvalues, correction_name
from .paired import paired_wilcoxon

USER_BLOCK_NAMES = frozenset({"user", "users", "user_id", "userid", "user_idx"})


def performance_matrix(df: pd.DataFrame, *, block: str = "dataset", config: str = "config",
                       value: str = "value") -> pd.DataFrame:
    """Pivot a long table to blocks x configurations, refusing user blocks and gaps.

    Raises `ConfigError` if the block column is a user column, `DataError` for missing
    columns, duplicate or missing (block, config) cells, non-finite values, fewer than
    2 configurations or fewer than 3 blocks.
    """
    if str(block).lower() in USER_BLOCK_NAMES:
        raise ConfigError(f"block column {block!r} looks like users; rank over datasets or "
                          f"seed x dataset blocks (users share one trained model per block)")
    missing = [c for c in (block, config, value) if c not in df.columns]
    if missing:
        raise DataError(f"ranking table lacks columns {missing}; has {list(df.columns)}")
    dup = df.duplicated([block, config])
    if dup.any():
        raise DataError(f"duplicate ({block}, {config}) rows: {df.index[dup][:5].tolist()}")
    matrix = df.pivot(index=block, columns=config, values=value).astype(float)
    gaps = matrix.isna().stack()
    if gaps.any():
        raise DataError(f"missing or NaN {value!r} for ({block}, {config}) cells "
                        f"{gaps[gaps].index[:5].tolist()}")
    if not np.isfinite(matrix.to_numpy()).all():
        raise DataError(f"non-finite {value!r} values in the ranking table")
    if matrix.shape[1] < 2 or matrix.shape[0] < 3:
        raise DataError(f"ranking needs >= 2 configurations and >= 3 blocks, got "
                        f"{matrix.shape[1]} configurations and {matrix.shape[0]} blocks")
    return matrix


def average_ranks(matrix: pd.DataFrame, higher_is_better: bool = True) -> pd.Series:
    """Mean rank of each configuration over blocks (1 = best, ties averaged), best first."""
    scores = -matrix.to_numpy() if higher_is_better else matrix.to_numpy()
    ranks = stats.rankdata(scores, axis=1)
    return pd.Series(ranks.mean(axis=0), index=matrix.columns, name="avg_rank").sort_values()


def friedman_test(matrix: pd.DataFrame) -> tuple[float, float]:
    """Friedman chi-square statistic and p-value over blocks (rows) x configurations (columns).

    Needs at least 3 configurations (scipy); with two, use the pairwise Wilcoxon test.
    """
    if matrix.shape[1] < 3:
        raise DataError(f"the Friedman test needs >= 3 configurations, got {matrix.shape[1]}")
    res = stats.friedmanchisquare(*matrix.to_numpy().T)
    return float(res.statistic), float(res.pvalue)


def nemenyi_cd(n_configs: int, n_blocks: int, alpha: float = 0.05) -> float:
    """Nemenyi critical difference of average ranks, q_alpha * sqrt(k (k + 1) / (6 N)).

    q_alpha is the studentized range quantile (infinite df) divided by sqrt(2) (Demsar 2006).
    """
    if n_configs < 2 or n_blocks < 1 or not 0 < alpha < 1:
        raise ConfigError(f"need n_configs >= 2, n_blocks >= 1 and 0 < alpha < 1, got "
                          f"{n_configs}, {n_blocks}, {alpha}")
    q = stats.studentized_range.ppf(1 - alpha, n_configs, np.inf) / np.sqrt(2)
    return float(q * np.sqrt(n_configs * (n_configs + 1) / (6.0 * n_blocks)))


def pairwise_wilcoxon(matrix: pd.DataFrame, *, correction: str = "holm", alpha: float = 0.05,
                      zero_method: str = "wilcox") -> pd.DataFrame:
    """Wilcoxon signed-rank test over blocks for every pair of configurations, corrected.

    Columns: config_a, config_b, mean_diff (a - b over blocks), statistic, pvalue, p_adj,
    correction, significant (p_adj < alpha).
    """
    method = correction_name(correction)
    names = list(matrix.columns)
    rows = []
    for i, a in enumerate(names):  # k (k - 1) / 2 tests over a handful of configurations
        for b in names[i + 1:]:
            xa, xb = matrix[a].to_numpy(), matrix[b].to_numpy()
            res = paired_wilcoxon(xa, xb, zero_method=zero_method)
            rows.append({"config_a": a, "config_b": b, "mean_diff": float((xa - xb).mean()),
                         "statistic": res.statistic, "pvalue": res.pvalue})
    out = pd.DataFrame(rows)
    out["p_adj"] = adjust_pvalues(out["pvalue"].to_numpy(), method)
    out["correction"] = method
    out["significant"] = out["p_adj"] < alpha
    return out


def _maximal_runs(order: list, related) -> list[tuple]:
    """Maximal runs of consecutive items in `order` whose members are pairwise `related`."""
    runs, reach = [], 0
    for i in range(len(order)):
        j = i
        while j + 1 < len(order) and all(related(order[m], order[j + 1])
                                         for m in range(i, j + 1)):
            j += 1
        if j > i and j > reach:
            runs.append(tuple(order[i:j + 1]))
            reach = j
    return runs


def cliques_from_cd(avg_ranks: pd.Series, cd: float) -> list[tuple]:
    """Groups of configurations whose average ranks differ by less than `cd` (not significant)."""
    ranks = avg_ranks.sort_values()
    return _maximal_runs(list(ranks.index), lambda a, b: abs(ranks[a] - ranks[b]) < cd)


def cliques_from_pairwise(avg_ranks: pd.Series, pairwise: pd.DataFrame) -> list[tuple]:
    """Groups of rank-consecutive configurations with no significant pairwise difference."""
    sig = {frozenset(p) for p in pairwise.loc[pairwise["significant"],
                                              ["config_a", "config_b"]].itertuples(index=False)}
    return _maximal_runs(list(avg_ranks.sort_values().index),
                         lambda a, b: frozenset((a, b)) not in sig)


@dataclass(frozen=True)
class RankingResult:
    """Average ranks (best first), omnibus and post-hoc results, and cliques for a CD diagram."""

    avg_ranks: pd.Series
    n_blocks: int
    n_configs: int
    friedman_statistic: float
    friedman_pvalue: float
    cd: float
    alpha: float
    pairwise: pd.DataFrame
    cliques: list = field(default_factory=list)
    note: str = ""


def rank_configs(df: pd.DataFrame, *, block: str = "dataset", config: str = "config",
                 value: str = "value", higher_is_better: bool = True, alpha: float = 0.05,
                 correction: str = "holm", cliques: str = "pairwise") -> RankingResult:
    """Friedman test, average ranks, Nemenyi CD and pairwise Wilcoxon-`correction` tests.

    `cliques` = "pairwise" (Benavoli et al.: groups without a significant corrected Wilcoxon
    difference) or "nemenyi" (groups within one critical difference). With two configurations
    the Friedman test is skipped (NaN) and the single Wilcoxon test decides.
    """
    if cliques not in ("pairwise", "nemenyi"):
        raise ConfigError(f"cliques must be 'pairwise' or 'nemenyi', got {cliques!r}")
    matrix = performance_matrix(df, block=block, config=config, value=value)
    k, n = matrix.shape[1], matrix.shape[0]
    ranks = average_ranks(matrix, higher_is_better)
    stat, p, note = np.nan, np.nan, "Friedman test skipped: only 2 configurations"
    if k >= 3:
        (stat, p), note = friedman_test(matrix), ""
    cd = nemenyi_cd(k, n, alpha)
    pairwise = pairwise_wilcoxon(matrix, correction=correction, alpha=alpha)
    groups = (cliques_from_pairwise(ranks, pairwise) if cliques == "pairwise"
              else cliques_from_cd(ranks, cd))
    return RankingResult(ranks, n, k, stat, p, cd, alpha, pairwise, groups, note)
