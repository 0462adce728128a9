"""Minimum detectable effect of the paired t-test (statsmodels `TTestPower`)."""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from statsmodels.stats.power import TTestPower

from ..errors import ConfigError, DataError
from .paired import align_pairs


@dataclass(frozen=True)
class MinimumDetectableEffect:
    """Smallest true effect the paired t-test detects with `power` at level `alpha`.

    `d_z` is in standard-deviation-of-differences units; `mean_diff` is in metric units
    (d_z * sd_diff) when `sd_diff` is known, else NaN.
    """

    n_users: int
    alpha: float
    power: float
    d_z: float
    sd_diff: float
    mean_diff: float

    def to_dict(self) -> dict:
        return asdict(self)


def minimum_detectable_effect(n_users: int, *, alpha: float = 0.05, power: float = 0.8,
                              sd_diff: float | None = None,
                              alternative: str = "two-sided") -> MinimumDetectableEffect:
    """Solve the paired t-test power equation for the effect size d_z given n, alpha, power.

    Pass the family-wise alpha divided by the family size (Bonferroni bound) to plan for a
    corrected family, and `sd_diff` (sd of per-user differences, e.g. from a pilot run) to get
    the effect in metric units.
    """
    if n_users < 2:
        raise ConfigError(f"n_users must be >= 2, got {n_users}")
    if not (0 < alpha < 1 and 0 < power < 1):
        raise ConfigError(f"alpha and power must lie in (0, 1), got {alpha}, {power}")
    if alternative not in ("two-sided", "larger", "smaller"):
        raise ConfigError(f"alternative must be two-sided, larger or smaller, got {alternative!r}")
    if sd_diff is not None and not (np.isfinite(sd_diff) and sd_diff >= 0):
        raise DataError(f"sd_diff must be a finite non-negative number, got {sd_diff}")
    d = TTestPower().solve_power(effect_size=None, nobs=n_users, alpha=alpha, power=power,
                                 alternative=alternative)
    d = abs(float(np.asarray(d).item()))
    sd = np.nan if sd_diff is None else float(sd_diff)
    return MinimumDetectableEffect(int(n_users), alpha, power, d, sd, d * sd)


def minimum_detectable_difference(a, b, *, alpha: float = 0.05, power: float = 0.8,
                                  alternative: str = "two-sided") -> MinimumDetectableEffect:
    """`minimum_detectable_effect` with n and sd of differences taken from paired data."""
    xa, xb, _ = align_pairs(a, b)
    return minimum_detectable_effect(xa.size, alpha=alpha, power=power,
                                     sd_diff=float(np.std(xa - xb, ddof=1)),
                                     alternative=alternative)
