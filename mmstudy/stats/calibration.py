"""Calibration of the claim rule by A/A comparisons: one configuration against itself trained with
other seeds. Every difference found there is a false positive, so the share of A/A pairs with
p < alpha estimates each test's false-positive rate; a calibrated rule stays within the binomial
interval of alpha. Uncorrected p-values, as for one comparison.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import ConfigError
from .claims import claim_family

LEVELS = {"claim rule": "pvalue", "two-level": "two_level_pvalue", "seed-level": "seed_pvalue",
          "user-level": "user_pvalue"}


@dataclass(frozen=True)
class Calibration:
    """False-positive rates of each test over `n_pairs` A/A pairs of `per_side` seeds a side."""

    n_pairs: int
    per_side: int
    alpha: float
    rates: dict[str, float]
    interval: tuple[float, float]  # the binomial 95% interval of alpha's share over n_pairs

    def calibrated(self, level: str = "claim rule") -> bool:
        return self.interval[0] <= self.rates[level] <= self.interval[1]


def aa_splits(seeds: list[int], per_side: int, n_pairs: int, seed: int = 0) -> list[tuple[list[int], list[int]]]:
    """`n_pairs` (side a, side b) splits of disjoint seeds: random partitions of `seeds` into groups
    of `per_side`, consecutive groups paired, until `n_pairs` are drawn."""
    if per_side < 1 or len(seeds) < 2 * per_side:
        raise ConfigError(f"A/A pairs of {per_side} seed(s) a side need at least {2 * per_side} seeds, got {len(seeds)}")
    rng = np.random.default_rng(seed)
    out: list[tuple[list[int], list[int]]] = []
    while len(out) < n_pairs:
        order = [int(s) for s in rng.permutation(seeds)]
        groups = [order[i:i + per_side] for i in range(0, len(order) - per_side + 1, per_side)]
        out += [(groups[i], groups[i + 1]) for i in range(0, len(groups) - 1, 2)]
    return out[:n_pairs]


def aa_calibration(per_user: dict[int, pd.Series], *, per_side: int = 3, n_pairs: int = 40, alpha: float = 0.05,
                   seed: int = 0) -> Calibration:
    """False-positive rates of the claim rule and the user- and seed-level tests over A/A pairs
    drawn from one configuration's per-user metrics `{training seed: per-user Series}`."""
    users = sorted(set.intersection(*(set(s.index) for s in per_user.values())))
    table = pd.DataFrame({s: per_user[s].loc[users] for s in sorted(per_user)})
    splits = aa_splits(list(table.columns), per_side, n_pairs, seed)
    pairs = {f"A/A {i}": (table[a].set_axis(range(per_side), axis=1), table[b].set_axis(range(per_side), axis=1))
             for i, (a, b) in enumerate(splits)}
    tested = claim_family(pairs, correction="none", alpha=alpha)
    rates = {level: float((tested[column] < alpha).mean()) for level, column in LEVELS.items()}
    low, high = stats.binom.ppf([0.025, 0.975], n_pairs, alpha) / n_pairs
    return Calibration(n_pairs, per_side, alpha, rates, (float(low), float(high)))
