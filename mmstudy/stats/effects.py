"""Effect sizes for paired per-user comparisons of a candidate `a` against a baseline `b`.

All functions take aligned float arrays (see `paired.align_pairs`); differences are a - b.
Bootstrap intervals resample users with a seeded `numpy.random.Generator`
(`scipy.stats.bootstrap`, paired, vectorised).
"""
from __future__ import annotations

import warnings

import numpy as np
from scipy import stats

from ..errors import ConfigError
from .paired import is_constant

CI_METHODS = ("percentile", "basic", "bca")
COHEN_THRESHOLDS = ((0.2, "negligible"), (0.5, "small"), (0.8, "medium"))


def _check_ci(confidence: float, method: str, n_boot: int) -> str:
    if not 0 < confidence < 1:
        raise ConfigError(f"confidence must be in (0, 1), got {confidence}")
    if method.lower() not in CI_METHODS:
        raise ConfigError(f"ci_method must be one of {CI_METHODS}, got {method!r}")
    if n_boot < 100:
        raise ConfigError(f"n_boot must be >= 100 for a usable interval, got {n_boot}")
    return "BCa" if method.lower() == "bca" else method.lower()


def _paired_bootstrap(a, b, statistic, *, confidence, n_boot, method, seed) -> tuple[float, float]:
    method = _check_ci(confidence, method, n_boot)
    batch = max(1, 4_000_000 // a.size)  # bounds memory for many users
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # degenerate samples -> NaN, handled
        res = stats.bootstrap((a, b), statistic, paired=True, vectorized=True,
                              n_resamples=n_boot, batch=batch, confidence_level=confidence,
                              method=method, rng=np.random.default_rng(seed))
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def _mean_diff(x, y, axis=-1):
    return np.mean(x, axis=axis) - np.mean(y, axis=axis)


def _relative_change(x, y, axis=-1):
    with np.errstate(divide="ignore", invalid="ignore"):
        return 100.0 * (np.mean(x, axis=axis) / np.mean(y, axis=axis) - 1.0)


def mean_difference_ci(a: np.ndarray, b: np.ndarray, *, confidence: float = 0.95,
                       n_boot: int = 2000, method: str = "percentile",
                       seed: int = 0) -> tuple[float, float, float]:
    """Mean difference a - b and its bootstrap CI over users: (estimate, low, high).

    Constant differences give the degenerate interval (estimate, estimate).
    """
    d = a - b
    est = float(d.mean())
    if is_constant(d):
        _check_ci(confidence, method, n_boot)
        return est, est, est
    low, high = _paired_bootstrap(a, b, _mean_diff, confidence=confidence, n_boot=n_boot,
                                  method=method, seed=seed)
    return est, low, high


def relative_change_ci(a: np.ndarray, b: np.ndarray, *, confidence: float = 0.95,
                       n_boot: int = 2000, method: str = "percentile",
                       seed: int = 0) -> tuple[float, float, float]:
    """Relative change in percent, 100 * (mean(a) / mean(b) - 1), with a paired bootstrap CI.

    Returns NaNs when mean(b) is 0 (the ratio is undefined).
    """
    if b.mean() == 0:
        _check_ci(confidence, method, n_boot)
        return (np.nan,) * 3
    est = float(_relative_change(a, b))
    if np.all(a == b) or (is_constant(a - b) and is_constant(b)):
        return est, est, est  # the ratio is the same in every resample
    low, high = _paired_bootstrap(a, b, _relative_change, confidence=confidence,
                                  n_boot=n_boot, method=method, seed=seed)
    return est, low, high


def cohens_dz(a: np.ndarray, b: np.ndarray) -> float:
    """Paired Cohen's d_z = mean(a - b) / sd(a - b) (sd with ddof=1).

    Zero-variance differences give 0 when the mean is 0 and +/-inf otherwise.
    """
    d = a - b
    sd = d.std(ddof=1)
    if sd == 0:
        return 0.0 if d.mean() == 0 else float(np.sign(d.mean()) * np.inf)
    return float(d.mean() / sd)


def rank_biserial(a: np.ndarray, b: np.ndarray) -> float:
    """Matched-pairs rank-biserial correlation r = (R+ - R-) / (R+ + R-), in [-1, 1].

    R+ and R- are the sums of the ranks of |a - b| over positive and negative differences;
    zero differences are dropped (Kerby 2014). All-zero differences give 0.
    """
    d = a - b
    d = d[d != 0]
    if d.size == 0:
        return 0.0
    ranks = stats.rankdata(np.abs(d))
    return float((ranks[d > 0].sum() - ranks[d < 0].sum()) / ranks.sum())


def win_tie_loss(a: np.ndarray, b: np.ndarray, tol: float = 0.0) -> tuple[int, int, int]:
    """Counts of users where a beats b, ties within `tol` (absolute), and loses."""
    d = a - b
    ties = np.abs(d) <= tol
    return int(np.sum((d > 0) & ~ties)), int(np.sum(ties)), int(np.sum((d < 0) & ~ties))


def cohen_label(d: float) -> str:
    """Cohen's label for |d|: negligible < 0.2 <= small < 0.5 <= medium < 0.8 <= large."""
    if not np.isfinite(d):
        return "large" if np.isinf(d) else "undefined"
    for bound, label in COHEN_THRESHOLDS:
        if abs(d) < bound:
            return label
    return "large"
