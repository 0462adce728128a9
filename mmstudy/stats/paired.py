"""Paired per-user significance tests: t-test, sign-flip randomization and Wilcoxon signed-rank.

Every test compares two aligned per-user metric vectors `a` (candidate) and `b` (baseline) and
is two-sided. Inputs are pandas Series indexed by user (aligned on the index) or equal-length
arrays (aligned by position); see `align_pairs`.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import ConfigError, DataError
from ..registry import Registry

ZERO_METHODS = ("wilcox", "pratt", "zsplit")


@dataclass(frozen=True)
class TestResult:
    """Outcome of one two-sided paired test; `n_zero` counts users with a zero difference."""

    __test__ = False  # not a pytest class

    test: str
    statistic: float
    pvalue: float
    n: int
    n_zero: int
    note: str = ""


PAIRED_TESTS: Registry[Callable[..., TestResult]] = Registry("paired test")


def align_pairs(a, b, *, label: str = "") -> tuple[np.ndarray, np.ndarray, pd.Index]:
    """Return float arrays (a, b) aligned by user and the user index.

    Series are aligned on their index, which must hold the same users without duplicates;
    plain arrays are aligned by position and must have equal length. Raises `DataError` for
    differing user sets, NaN/inf values or fewer than 2 users.
    """
    where = f" in comparison {label!r}" if label else ""
    if isinstance(a, pd.Series) != isinstance(b, pd.Series):
        raise DataError(f"pass both metric vectors as pandas Series or both as arrays{where}")
    if isinstance(a, pd.Series):
        for name, s in (("a", a), ("b", b)):
            if s.index.has_duplicates:
                dup = s.index[s.index.duplicated()].unique()[:5].tolist()
                raise DataError(f"duplicate users in {name}{where}: {dup}")
        only_a, only_b = a.index.difference(b.index), b.index.difference(a.index)
        if len(only_a) or len(only_b):
            raise DataError(
                f"user sets differ{where}: {len(only_a)} users only in a (e.g. "
                f"{only_a[:5].tolist()}), {len(only_b)} only in b (e.g. {only_b[:5].tolist()})")
        users = a.index
        xa, xb = a.to_numpy(float), b.reindex(users).to_numpy(float)
    else:
        xa, xb = np.asarray(a, float).ravel(), np.asarray(b, float).ravel()
        if xa.shape != xb.shape:
            raise DataError(f"metric vectors have different lengths{where}: "
                            f"{xa.size} vs {xb.size}")
        users = pd.RangeIndex(xa.size, name="user")
    bad = ~(np.isfinite(xa) & np.isfinite(xb))
    if bad.any():
        raise DataError(f"non-finite metric values{where} for users {users[bad][:5].tolist()}")
    if xa.size < 2:
        raise DataError(f"need at least 2 users for a paired test{where}, got {xa.size}")
    return xa, xb, users


def is_constant(x: np.ndarray) -> bool:
    """True when all values agree up to float round-off (zero variance for all purposes)."""
    x = np.asarray(x, float)
    return bool(np.ptp(x) <= 1e-12 * max(1.0, float(np.abs(x).max())))


def _quiet(fn: Callable, *args, **kwargs):
    """Call a scipy function, silencing its precision warnings (degenerate cases are handled)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return fn(*args, **kwargs)


def _differences(name: str, a, b) -> tuple[np.ndarray, int, TestResult | None]:
    """Per-user differences a - b (aligned), how many are zero, and the result to return at once
    when all of them are (p = 1), else None."""
    xa, xb, _ = align_pairs(a, b)
    d = xa - xb
    n_zero = int(np.sum(d == 0))
    if n_zero < d.size:
        return d, n_zero, None
    return d, n_zero, TestResult(name, 0.0, 1.0, d.size, d.size, "all differences are zero: p set to 1")


@PAIRED_TESTS.register("t", "ttest", "t-test", "paired-t")
def paired_t(a, b) -> TestResult:
    """Two-sided paired t-test (`scipy.stats.ttest_rel`).

    If every difference is zero, p = 1. If the differences are constant but non-zero (zero
    variance), t = +/-inf and p = 0, noted in the result.
    """
    d, n_zero, done = _differences("t", a, b)
    if done is not None:
        return done
    res = _quiet(stats.ttest_1samp, d, 0.0)  # = ttest_rel(a, b): the test is on the differences
    note = "differences have zero variance" if is_constant(d) else ""
    return TestResult("t", float(res.statistic), float(res.pvalue), d.size, n_zero, note)


def _sign_flip_sums(d: np.ndarray, n_resamples: int, rng: np.random.Generator) -> np.ndarray:
    """Sums of `d` under all 2^n sign flips (when that is <= n_resamples) or random ones."""
    n = d.size
    if 2 ** min(n, 62) <= n_resamples:
        bits = (np.arange(2 ** n)[:, None] >> np.arange(n)) & 1
        return (2 * bits - 1) @ d
    chunk = max(1, 2_000_000 // n)  # bounds memory to ~16 MB per block of flips
    sums = [_random_flips(d, min(chunk, n_resamples - start), rng) for start in
            range(0, n_resamples, chunk)]
    return np.concatenate(sums)


def _random_flips(d: np.ndarray, m: int, rng: np.random.Generator) -> np.ndarray:
    packed = rng.integers(0, 256, size=(m, (d.size + 7) // 8), dtype=np.uint8)
    bits = np.unpackbits(packed, axis=1, count=d.size).astype(np.float64)
    return 2 * (bits @ d) - d.sum()


@PAIRED_TESTS.register("permutation", "randomization", "sign-flip")
def paired_permutation(a, b, *, n_resamples: int = 9999, seed: int = 0) -> TestResult:
    """Two-sided sign-flip randomization test; the statistic is the mean difference.

    Under H0 each user's difference is symmetric around 0, so its sign is exchangeable. The test
    is exact (all 2^n flips, p = share with |mean| >= observed) when 2^n <= n_resamples;
    otherwise it draws `n_resamples` random flips from `numpy.random.default_rng(seed)` and
    reports p = (hits + 1) / (n_resamples + 1).
    """
    if n_resamples < 1:
        raise ConfigError(f"n_resamples must be >= 1, got {n_resamples}")
    d, n_zero, done = _differences("permutation", a, b)
    if done is not None:
        return done
    sums = _sign_flip_sums(d, n_resamples, np.random.default_rng(seed))
    tol = 1e-10 * np.abs(d).sum()  # float round-off must not turn ties into misses
    hits = int(np.sum(np.abs(sums) >= abs(d.sum()) - tol))
    exact = sums.size == 2 ** d.size
    pvalue = hits / sums.size if exact else (hits + 1) / (n_resamples + 1)
    note = "exact (all sign flips)" if exact else f"{n_resamples} random sign flips, seed {seed}"
    return TestResult("permutation", float(d.mean()), float(pvalue), d.size, n_zero, note)


@PAIRED_TESTS.register("wilcoxon", "signed-rank", "signrank")
def paired_wilcoxon(a, b, *, zero_method: str = "wilcox") -> TestResult:
    """Two-sided Wilcoxon signed-rank test (`scipy.stats.wilcoxon`, method "auto").

    Zero differences: "wilcox" (default) drops them before ranking; "pratt" ranks them and then
    drops their ranks; "zsplit" splits their ranks evenly between the positive and negative sums.
    The number of zero differences is reported as `n_zero`; all-zero differences give p = 1.
    """
    if zero_method not in ZERO_METHODS:
        raise ConfigError(f"zero_method must be one of {ZERO_METHODS}, got {zero_method!r}")
    d, n_zero, done = _differences("wilcoxon", a, b)
    if done is not None:
        return done
    res = _quiet(stats.wilcoxon, d, zero_method=zero_method, alternative="two-sided")
    note = f"{n_zero} zero differences ({zero_method})" if n_zero else ""
    return TestResult("wilcoxon", float(res.statistic), float(res.pvalue), d.size, n_zero, note)


def run_test(test: str, a, b, *, n_resamples: int = 9999, seed: int = 0,
             zero_method: str = "wilcox") -> TestResult:
    """Run the registered paired test `test` ("t", "wilcoxon" or "permutation")."""
    fn = PAIRED_TESTS.get(test)
    if fn is paired_permutation:
        return fn(a, b, n_resamples=n_resamples, seed=seed)
    if fn is paired_wilcoxon:
        return fn(a, b, zero_method=zero_method)
    return fn(a, b)
