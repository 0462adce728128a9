"""The crossed tests (users x training seeds): their mean squares agree with a two-way ANOVA, the
pair the claim rule requires stays calibrated whichever variance dominates (where the user-level
test does not), and detectable effects and seed counts are consistent."""
import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from scipy import stats
from statsmodels.stats.anova import anova_lm

from mmstudy.errors import DataError
from mmstudy.stats.crossed import (VarianceComponents, crossed_tests, detectable_effect, rule_detectable_effect,
                                   seeds_needed, variance_components)


def simulate(rng, users=200, seeds=3, user_sd=0.2, seed_sd=0.0, noise_sd=0.1, mean=0.0):
    return mean + rng.normal(0, user_sd, users)[None, :] + rng.normal(0, seed_sd, seeds)[:, None] \
        + rng.normal(0, noise_sd, (seeds, users))


def test_components_follow_the_two_way_anova_mean_squares():
    d = simulate(np.random.default_rng(1), users=30, seeds=4, seed_sd=0.05)
    long = pd.DataFrame({"d": d.ravel(), "seed": np.repeat(np.arange(4), 30), "user": np.tile(np.arange(30), 4)})
    table = anova_lm(smf.ols("d ~ C(seed) + C(user)", long).fit())
    ms = table["sum_sq"] / table["df"]
    parts = variance_components(d)
    assert parts.residual == pytest.approx(ms["Residual"])
    assert parts.mean_squares(30, 4) == pytest.approx((ms["C(user)"], ms["C(seed)"]))


def test_the_seed_level_test_is_the_paired_t_test_on_seed_means():
    d = simulate(np.random.default_rng(2), users=100, seeds=5, seed_sd=0.05, mean=0.03)
    res = crossed_tests(d + 1, np.ones_like(d))
    assert res.seed_pvalue == pytest.approx(stats.ttest_1samp(d.mean(axis=1), 0.0).pvalue)
    assert res.mean_diff == pytest.approx(d.mean()) and res.ci_low < res.mean_diff < res.ci_high


@pytest.mark.parametrize("seeds", [2, 3, 5])
@pytest.mark.parametrize("user_sd, seed_sd", [(0.05, 0.0), (0.05, 0.02), (0.3, 0.01), (0.0, 0.03)])
def test_a_a_false_positive_rate_stays_at_alpha(seeds, user_sd, seed_sd):
    rng = np.random.default_rng(3)
    runs, rule, user_level = 400, 0, 0
    for _ in range(runs):
        d = simulate(rng, users=150, seeds=seeds, user_sd=user_sd, seed_sd=seed_sd)
        res = crossed_tests(d, np.zeros_like(d))
        rule += max(res.pvalue, res.seed_pvalue) < 0.05
        user_level += stats.ttest_1samp(d.mean(axis=0), 0.0).pvalue < 0.05
    assert rule / runs <= stats.binom.ppf(0.99, runs, 0.05) / runs
    if seed_sd >= 0.02:  # training variance the user-level test ignores: it over-claims
        assert user_level / runs > 0.15


def test_degenerate_inputs():
    one_seed = crossed_tests(np.ones((1, 5)), np.zeros((1, 5)))
    assert np.isnan(one_seed.pvalue) and np.isnan(one_seed.seed_pvalue) and "one seed" in one_seed.note
    constant = crossed_tests(np.full((3, 5), 0.2), np.full((3, 5), 0.1))
    assert constant.pvalue == constant.seed_pvalue == 0.0 and constant.note == "differences have zero variance"
    assert crossed_tests(np.full((3, 5), 0.2), np.full((3, 5), 0.2)).pvalue == 1.0
    with pytest.raises(DataError, match="one shape"):
        crossed_tests(np.ones((3, 5)), np.ones((3, 4)))
    with pytest.raises(DataError, match="non-finite"):
        crossed_tests(np.full((3, 5), np.nan), np.ones((3, 5)))


def test_detectable_effect_and_seeds_needed_agree():
    assert detectable_effect(0.01, 1e6) == pytest.approx((1.959964 + 0.841621) * 0.01, rel=1e-3)
    assert detectable_effect(0.01, 2) > detectable_effect(0.01, 20)  # few seeds: a wide t
    parts = VarianceComponents(users=0.04, seeds=0.0004, residual=0.01)
    n = seeds_needed(parts, 500, 0.03)
    assert n is not None and rule_detectable_effect(parts, 500, n) <= 0.03 < rule_detectable_effect(parts, 500, n - 1)
    assert seeds_needed(parts, 500, 1e-6, max_seeds=10) is None


@pytest.mark.parametrize("seed", range(6))
def test_seeds_needed_is_the_first_count_that_detects(seed):
    """The bisection returns what a scan over 2, 3, ... seeds returns (negative components included)."""
    rng = np.random.default_rng(seed)
    parts = VarianceComponents(users=rng.uniform(-0.001, 0.05), seeds=rng.uniform(-1e-5, 5e-4),
                               residual=rng.uniform(0.001, 0.02))
    effect = rng.uniform(0.005, 0.04)
    scan = next((n for n in range(2, 41) if rule_detectable_effect(parts, 300, n) <= effect), None)
    assert seeds_needed(parts, 300, effect, max_seeds=40) == scan


def test_constant_seed_differences_are_zero_variance_not_a_tiny_p():
    """Every seed shifts by the same amount (users still vary): the seed-level test has zero variance
    (p exactly 0, as `stats.paired` handles it), so the rule falls back on the two-level test."""
    users = np.random.default_rng(5).normal(0, 0.1, 50)
    d = np.tile(users - users.mean() + 0.01, (3, 1))
    res = crossed_tests(d, np.zeros_like(d))
    assert res.seed_pvalue == 0.0 and res.seed_se == 0.0
    assert 0 < res.pvalue < 1 and max(res.pvalue, res.seed_pvalue) == res.pvalue
