"""Two-level uncertainty: users within seeds (training / masking seeds) for paired differences.

Input is a long DataFrame with one row per (seed, user) holding the metric of the candidate
(`a_col`) and of the baseline (`b_col`) for that user under that seed; pairs are matched by seed
and user. Seeds are the second level: each seed's users give one seed-level mean, and the
across-seed spread of those means is the seed-to-seed (training) variability.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import ConfigError, DataError
from .paired import is_constant

DESIGNS = ("auto", "nested", "crossed")


def mean_t_ci(values, confidence: float = 0.95) -> tuple[float, float, float]:
    """Mean and two-sided t-based CI of a mean: (mean, low, high); NaN CI for fewer than 2."""
    x = np.asarray(values, float)
    m = float(x.mean()) if x.size else np.nan
    if x.size < 2:
        return m, np.nan, np.nan
    if is_constant(x):
        return m, m, m
    ci = stats.ttest_1samp(x, 0.0).confidence_interval(confidence)
    return m, float(ci.low), float(ci.high)


def grouped_mean_ci(df: pd.DataFrame, by, value: str, confidence: float = 0.95) -> pd.DataFrame:
    """Per-group mean with a t-based CI over the group's rows (e.g. seeds).

    Returns the group keys as columns plus "mean", "ci_low", "ci_high" and "n"; groups with
    one row get a NaN interval.
    """
    g = df.groupby(by, sort=True, observed=True)[value].agg(["mean", "std", "count"])
    with np.errstate(invalid="ignore"):
        half = stats.t.ppf((1 + confidence) / 2, g["count"] - 1) * g["std"] / np.sqrt(g["count"])
    half = half.where(g["count"] > 1)
    return pd.DataFrame({"mean": g["mean"], "ci_low": g["mean"] - half,
                         "ci_high": g["mean"] + half, "n": g["count"]}).reset_index()


def _validated(df: pd.DataFrame, seed_col: str, user_col: str, a_col: str,
               b_col: str) -> pd.DataFrame:
    missing = [c for c in (seed_col, user_col, a_col, b_col) if c not in df.columns]
    if missing:
        raise DataError(f"seed-level data lacks columns {missing}; has {list(df.columns)}")
    out = df[[seed_col, user_col, a_col, b_col]]
    bad = ~np.isfinite(out[[a_col, b_col]].to_numpy(float)).all(axis=1)
    if bad.any():
        raise DataError(f"non-finite metric values in rows {out.index[bad][:5].tolist()}")
    dup = out.duplicated([seed_col, user_col])
    if dup.any():
        raise DataError(f"duplicate (seed, user) rows: {out.index[dup][:5].tolist()}")
    per_seed = out.groupby(seed_col, sort=True)[user_col].size()
    if len(per_seed) < 2:
        raise DataError(f"need at least 2 seeds for two-level inference, got {len(per_seed)}")
    if (per_seed < 2).any():
        raise DataError(f"every seed needs at least 2 users; seeds "
                        f"{per_seed[per_seed < 2].index.tolist()} have fewer")
    return out


def seed_means(df: pd.DataFrame, *, seed_col: str = "seed", user_col: str = "user",
               a_col: str = "value_a", b_col: str = "value_b") -> pd.DataFrame:
    """Seed-level means: index = seed, columns mean_a, mean_b, mean_diff (a - b), n_users."""
    out = _validated(df, seed_col, user_col, a_col, b_col)
    g = out.assign(_diff=out[a_col] - out[b_col]).groupby(seed_col, sort=True)
    return pd.DataFrame({"mean_a": g[a_col].mean(), "mean_b": g[b_col].mean(),
                         "mean_diff": g["_diff"].mean(), "n_users": g.size()})


@dataclass(frozen=True)
class SeedLevelTest:
    """Paired t-test on seed-level means (pairs matched by seed)."""

    n_seeds: int
    mean_diff: float
    ci_low: float
    ci_high: float
    statistic: float
    pvalue: float


def seed_level_ttest(df: pd.DataFrame, *, confidence: float = 0.95, **cols) -> SeedLevelTest:
    """Two-sided paired t-test of seed-level means of a versus b, with a t-based CI.

    Assumptions: seeds are independent draws of the training randomness and the seed-level mean
    differences are roughly normal. Users enter only through their seed means, so the test
    reflects seed-to-seed variability; with few seeds it has little power (df = seeds - 1).
    """
    means = seed_means(df, **cols)
    diff, low, high = mean_t_ci(means["mean_diff"], confidence)
    if is_constant(means["mean_diff"]):
        stat, p = (0.0, 1.0) if diff == 0 else (float(np.sign(diff) * np.inf), 0.0)
    else:
        res = stats.ttest_rel(means["mean_a"], means["mean_b"])
        stat, p = float(res.statistic), float(res.pvalue)
    return SeedLevelTest(len(means), diff, low, high, stat, p)


@dataclass(frozen=True)
class HierarchicalBootstrap:
    """Two-level bootstrap of the paired mean difference (percentile CI, approximate p)."""

    mean_diff: float
    ci_low: float
    ci_high: float
    pvalue: float
    design: str
    n_seeds: int
    n_boot: int

    def to_dict(self) -> dict:
        return asdict(self)


def hierarchical_bootstrap(df: pd.DataFrame, *, n_boot: int = 2000, confidence: float = 0.95,
                           design: str = "auto", seed: int = 0,
                           **cols) -> HierarchicalBootstrap:
    """Resample seeds, then users, and recompute the mean paired difference a - b.

    The estimate is the mean over seeds of the per-seed mean difference (seeds weighted
    equally). Each replicate draws seeds with replacement, then users with replacement:
    - "nested": users are redrawn independently within every drawn seed; right when each seed
      has its own users (e.g. a different split per seed);
    - "crossed": one user draw is shared by all drawn seeds; right when the same users are
      evaluated under every seed, because a user's effect is then correlated across seeds and
      nested resampling would understate its variance;
    - "auto": "crossed" if every seed has exactly the same users, else "nested".
    Assumes seeds are independent and users exchangeable. With few seeds (< ~10) resampling
    seeds understates their spread; prefer `seed_level_ttest` as the primary test then.
    The CI is the percentile interval; `pvalue` = 2 * min share of replicates on either side
    of 0 (with +1 correction), a rough two-sided bootstrap p-value.
    """
    if design not in DESIGNS:
        raise ConfigError(f"design must be one of {DESIGNS}, got {design!r}")
    if n_boot < 100 or not 0 < confidence < 1:
        raise ConfigError(f"need n_boot >= 100 and 0 < confidence < 1, got {n_boot}, "
                          f"{confidence}")
    names = {"seed_col": "seed", "user_col": "user", "a_col": "value_a", "b_col": "value_b"}
    names.update(cols)
    data = _validated(df, **names)
    wide = data.assign(_d=data[names["a_col"]] - data[names["b_col"]]).pivot(
        index=names["seed_col"], columns=names["user_col"], values="_d")
    crossed = bool(wide.notna().all(axis=None))
    if design == "crossed" and not crossed:
        raise DataError("design='crossed' needs the same users under every seed")
    design = ("crossed" if crossed else "nested") if design == "auto" else design
    rng = np.random.default_rng(seed)
    if design == "crossed":
        boot = _crossed_replicates(wide.to_numpy(), n_boot, rng)
    else:
        boot = _nested_replicates([row[~np.isnan(row)] for row in wide.to_numpy()], n_boot, rng)
    est = float(np.nanmean(wide.to_numpy(), axis=1).mean())
    low, high = np.quantile(boot, [(1 - confidence) / 2, (1 + confidence) / 2])
    tail = min(np.sum(boot <= 0), np.sum(boot >= 0)) + 1
    return HierarchicalBootstrap(est, float(low), float(high),
                                 float(min(1.0, 2 * tail / (n_boot + 1))), design,
                                 wide.shape[0], n_boot)


def _user_resampled_means(d: np.ndarray, m: int, rng: np.random.Generator) -> np.ndarray:
    """`m` bootstrap means of `d` (users resampled with replacement), in memory-bounded blocks."""
    block = max(1, 4_000_000 // d.size)
    return np.concatenate([d[rng.integers(0, d.size, size=(min(block, m - i), d.size))]
                           .mean(axis=1) for i in range(0, m, block)] or [np.empty(0)])


def _nested_replicates(diffs: list[np.ndarray], n_boot: int,
                       rng: np.random.Generator) -> np.ndarray:
    """Replicates where every drawn seed slot gets its own user resample."""
    n_seeds = len(diffs)
    drawn = rng.integers(0, n_seeds, size=(n_boot, n_seeds))
    slot_means = np.empty(drawn.shape)
    for s, d in enumerate(diffs):  # loop over seeds only (a handful)
        hit = drawn == s
        slot_means[hit] = _user_resampled_means(d, int(hit.sum()), rng)
    return slot_means.mean(axis=1)


def _crossed_replicates(matrix: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Replicates sharing one user resample across seeds: matrix is seeds x users."""
    n_seeds, n_users = matrix.shape
    block = max(1, 4_000_000 // n_users)
    out = []
    for i in range(0, n_boot, block):
        m = min(block, n_boot - i)
        weights = rng.multinomial(n_users, np.full(n_users, 1.0 / n_users), size=m)
        per_seed = weights @ matrix.T / n_users  # m x seeds
        drawn = rng.integers(0, n_seeds, size=(m, n_seeds))
        out.append(np.take_along_axis(per_seed, drawn, axis=1).mean(axis=1))
    return np.concatenate(out)


@dataclass(frozen=True)
class TwoLevelComparison:
    """Across-seed summary of a paired comparison and both two-level tests."""

    n_seeds: int
    mean_a: float
    mean_a_ci: tuple[float, float]
    mean_b: float
    mean_b_ci: tuple[float, float]
    seed_test: SeedLevelTest
    bootstrap: HierarchicalBootstrap

    def to_dict(self) -> dict:
        return asdict(self)


def two_level_compare(df: pd.DataFrame, *, confidence: float = 0.95, n_boot: int = 2000,
                      design: str = "auto", seed: int = 0, **cols) -> TwoLevelComparison:
    """Across-seed means of a and b with t-based CIs (seed means as observations), the paired
    t-test on seed means and the hierarchical bootstrap of the difference."""
    means = seed_means(df, **cols)
    ma, *ci_a = mean_t_ci(means["mean_a"], confidence)
    mb, *ci_b = mean_t_ci(means["mean_b"], confidence)
    return TwoLevelComparison(
        len(means), ma, tuple(ci_a), mb, tuple(ci_b),
        seed_level_ttest(df, confidence=confidence, **cols),
        hierarchical_bootstrap(df, n_boot=n_boot, confidence=confidence, design=design,
                               seed=seed, **cols))
