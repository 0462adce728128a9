r"""The tests behind mmstudy's claim rule: users and training seeds as crossed random effects.

Per-user differences under seed-matched training runs, $d_{su} = a_{su} - b_{su}$ for seeds
$s = 1..S$ and the users $u = 1..U$ both systems were scored on, follow

$$d_{su} = \mu + \alpha_u + \beta_s + \varepsilon_{su},$$

with $\alpha_u$ the user's own departure (test users are a sample of users), $\beta_s$ the training
run's departure (a trained pair is a sample of trainings) and $\varepsilon$ their interaction. The
two-way ANOVA without replication gives the mean squares $MS_U$ (users, $U-1$ df), $MS_S$ (seeds,
$S-1$ df) and $MS_E$, with $E[MS_U] = \sigma^2_\varepsilon + S\sigma^2_\alpha$ and
$E[MS_S] = \sigma^2_\varepsilon + U\sigma^2_\beta$. Two tests of $\mu = 0$ use them:

- the **two-level test**: $t = \bar d / \sqrt{(MS_U + MS_S)/(US)}$ on Satterthwaite's degrees of
  freedom for $MS_U + MS_S$. The variance counts the user and the seed spread (and the interaction
  once more than the unbiased $MS_U + MS_S - MS_E$, which with few seeds is too noisy to test
  against: its Satterthwaite df then understate the tails);
- the **seed-level test**: the paired t-test on the $S$ per-seed means ($t = \bar d /
  \sqrt{MS_S/(US)}$, df $S-1$): does the difference stand out against retraining alone?

The claim rule (`stats.claims`) requires both. In simulations with user-, seed- and
interaction-variance mixes and 2, 3 or 5 seeds the pair keeps A/A false positives at or below
alpha, where either test alone reaches 7-12% (two-level, 2 seeds) or 20-70% (seed-level when users
dominate; the user-level test when seeds do). One seed leaves the training variance unestimable: no
test. The detectable effect and the seeds needed for an effect follow from the same components.

References: Satterthwaite (1946), Biometrics Bulletin 2(6); crossed random effects for paired
evaluations: Baayen, Davidson & Bates (2008), J. Memory and Language 59(4); training-seed variance
in benchmarks: Bouthillier et al. (2021), "Accounting for variance in machine learning
benchmarks", MLSys; intersection-union tests: Berger (1982), Technometrics 24(4).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np
from scipy import stats
from statsmodels.stats.power import TTestPower

from ..errors import ConfigError, DataError
from .paired import is_constant


@dataclass(frozen=True)
class VarianceComponents:
    """Variance components of the differences (ANOVA estimates, not truncated): per user, per seed
    and their interaction; `seed_sd` and `user_sd` report them truncated at zero."""

    users: float
    seeds: float
    residual: float

    @property
    def seed_sd(self) -> float:
        return float(np.sqrt(max(0.0, self.seeds)))

    @property
    def user_sd(self) -> float:
        return float(np.sqrt(max(0.0, self.users)))

    def mean_squares(self, n_users: int, n_seeds: int) -> tuple[float, float]:
        """(MS_U, MS_S) expected for a design of `n_users` x `n_seeds`."""
        return (max(0.0, self.residual + n_seeds * self.users), max(0.0, self.residual + n_users * self.seeds))

    def two_level(self, n_users: int, n_seeds: int) -> tuple[float, float]:
        """(standard error, Satterthwaite df) of the two-level test."""
        ms_users, ms_seeds = self.mean_squares(n_users, n_seeds)
        total = ms_users + ms_seeds
        denominator = ms_users ** 2 / (n_users - 1) + ms_seeds ** 2 / (n_seeds - 1)
        return float(np.sqrt(total / (n_users * n_seeds))), float(total ** 2 / denominator) if denominator else np.inf

    def seed_level(self, n_users: int, n_seeds: int) -> tuple[float, float]:
        """(standard error, df) of the paired t-test on per-seed means."""
        return float(np.sqrt(self.mean_squares(n_users, n_seeds)[1] / (n_users * n_seeds))), float(n_seeds - 1)


@dataclass(frozen=True)
class CrossedTests:
    """Both tests of one paired comparison (differences a - b) and the two-level CI."""

    n_users: int
    n_seeds: int
    mean_diff: float
    se: float
    df: float
    statistic: float
    pvalue: float
    ci_low: float
    ci_high: float
    seed_se: float
    seed_pvalue: float
    components: VarianceComponents | None
    note: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def variance_components(d: np.ndarray) -> VarianceComponents:
    """The ANOVA estimates of a seeds x users difference matrix (>= 2 of each)."""
    n_seeds, n_users = d.shape
    grand = d.mean()
    seed_means, user_means = d.mean(axis=1), d.mean(axis=0)
    ms_users = n_seeds * np.sum((user_means - grand) ** 2) / (n_users - 1)
    ms_seeds = n_users * np.sum((seed_means - grand) ** 2) / (n_seeds - 1)
    resid = d - seed_means[:, None] - user_means[None, :] + grand
    ms_resid = np.sum(resid ** 2) / ((n_users - 1) * (n_seeds - 1))
    return VarianceComponents(users=float((ms_users - ms_resid) / n_seeds),
                              seeds=float((ms_seeds - ms_resid) / n_users), residual=float(ms_resid))


def _t(mean: float, se: float, df: float) -> tuple[float, float]:
    """(t, two-sided p); a zero standard error gives p 0 (or 1 for a zero mean)."""
    if se == 0:
        return (np.copysign(np.inf, mean) if mean else 0.0), (1.0 if mean == 0 else 0.0)
    t = mean / se
    return float(t), float(2 * stats.t.sf(abs(t), df))


def crossed_tests(a: np.ndarray, b: np.ndarray, confidence: float = 0.95) -> CrossedTests:
    """The two-level and the seed-level test of mean(a - b) = 0 for seeds x users metric matrices
    `a`, `b` (row s of each trained with the s-th matched seed, columns the same users)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.shape != b.shape or a.ndim != 2:
        raise DataError(f"crossed tests need two seeds x users matrices of one shape, got {a.shape} and {b.shape}")
    if not np.isfinite(a).all() or not np.isfinite(b).all():
        raise DataError("crossed tests: non-finite metric values")
    n_seeds, n_users = a.shape
    if n_users < 2:
        raise DataError(f"crossed tests need at least 2 users, got {n_users}")
    d = a - b
    mean = float(d.mean())
    if n_seeds < 2:
        return CrossedTests(n_users, n_seeds, mean, *[np.nan] * 8, None,
                            "one seed: training variance cannot be estimated, no claim is possible")
    parts = VarianceComponents(0.0, 0.0, 0.0) if is_constant(d.ravel()) else variance_components(d)
    (se, df), (seed_se, seed_df) = parts.two_level(n_users, n_seeds), parts.seed_level(n_users, n_seeds)
    if is_constant(d.mean(axis=1)):  # every seed moves the mean alike: zero variance, not round-off noise
        seed_se = 0.0
    t, p = _t(mean, se, df)
    half = float(stats.t.ppf(0.5 + confidence / 2, df) * se) if se else 0.0
    note = ("differences have zero variance" if se == 0 else
            "the per-seed mean differences are all equal (zero seed-level variance)" if seed_se == 0 else "")
    return CrossedTests(n_users, n_seeds, mean, se, df, t, p, mean - half, mean + half, seed_se,
                        _t(mean, seed_se, seed_df)[1], parts, note)


def detectable_effect(se: float, df: float, *, alpha: float = 0.05, power: float = 0.8) -> float:
    """Smallest true mean difference a two-sided t-test with this standard error and df detects with
    probability `power` at level `alpha` (noncentral t; statsmodels `TTestPower`)."""
    if not (0 < alpha < 1 and 0 < power < 1):
        raise ConfigError(f"alpha and power must lie in (0, 1), got {alpha}, {power}")
    if se == 0:
        return 0.0
    if not (np.isfinite(se) and np.isfinite(df)) or df < 1:
        return float("nan")
    nobs = df + 1  # TTestPower's one-sample test: df = nobs - 1, effect = mean / (se * sqrt(nobs))
    return _standardised_effect(nobs, alpha, power) * se * float(np.sqrt(nobs))


@lru_cache(maxsize=4096)
def _standardised_effect(nobs: float, alpha: float, power: float) -> float:
    """The standardised effect a two-sided one-sample t-test of `nobs` detects with `power`
    (a root search: cached, since seed-level tests repeat the same few sizes)."""
    d = TTestPower().solve_power(effect_size=None, nobs=nobs, alpha=alpha, power=power, alternative="two-sided")
    return abs(float(np.asarray(d).item()))


def rule_detectable_effect(components: VarianceComponents, n_users: int, n_seeds: int, *, alpha: float = 0.05,
                           power: float = 0.8) -> float:
    """The effect both tests detect with `power` (the larger of their detectable effects)."""
    return max(detectable_effect(*components.two_level(n_users, n_seeds), alpha=alpha, power=power),
               detectable_effect(*components.seed_level(n_users, n_seeds), alpha=alpha, power=power))


def seeds_needed(components: VarianceComponents, n_users: int, effect: float, *, alpha: float = 0.05,
                 power: float = 0.8, max_seeds: int = 100) -> int | None:
    """Fewest seeds (>= 2) whose expected detectable effect under the claim rule is at most
    `effect` (None: more than `max_seeds`), from the variance components of a pilot comparison.
    The detectable effect shrinks as seeds are added, so a bisection finds it."""
    if effect <= 0 or not np.isfinite(effect):
        raise ConfigError(f"effect must be a positive number, got {effect}")

    def detects(n_seeds: int) -> bool:
        return rule_detectable_effect(components, n_users, n_seeds, alpha=alpha, power=power) <= effect

    if max_seeds < 2 or not detects(max_seeds):
        return None
    fails, passes = 1, max_seeds  # one seed never detects anything
    while passes - fails > 1:
        middle = (fails + passes) // 2
        fails, passes = (fails, middle) if detects(middle) else (middle, passes)
    return passes
