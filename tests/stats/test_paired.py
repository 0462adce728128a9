"""Paired tests: known values (R's sleep and depression examples), alignment and edge cases."""
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from mmstudy.errors import ConfigError, DataError
from mmstudy.registry import UnknownNameError
from mmstudy.stats.paired import (align_pairs, paired_permutation, paired_t, paired_wilcoxon,
                                  run_test)

# Student's sleep data (R `sleep`): extra hours of sleep under drug 1 and drug 2
SLEEP_1 = np.array([0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0])
SLEEP_2 = np.array([1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4])
# Hollander & Wolfe depression scores (R `?wilcox.test`): first and second visit
DEPR_X = np.array([1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30])
DEPR_Y = np.array([0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29])


def test_paired_t_matches_r_sleep_example():
    res = paired_t(SLEEP_1, SLEEP_2)
    assert res.statistic == pytest.approx(-4.062128, abs=1e-5)  # R: t = -4.0621, df = 9
    assert res.pvalue == pytest.approx(0.002833, abs=1e-6)
    assert (res.test, res.n, res.n_zero) == ("t", 10, 1)  # patient 5: -0.1 vs -0.1


def test_wilcoxon_matches_r_depression_example():
    res = paired_wilcoxon(DEPR_X, DEPR_Y)
    assert res.statistic == 5.0  # min(V, n(n+1)/2 - V) with R's V = 40
    assert res.pvalue == pytest.approx(0.0390625)  # R two-sided exact p


@pytest.mark.parametrize("zero_method", ["wilcox", "pratt", "zsplit"])
def test_wilcoxon_zero_policy_matches_scipy_and_counts_zeros(zero_method):
    a = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0])
    b = np.array([1.0, 1.0, 3.5, 2.0, 5.0, 3.0, 9.0, 1.0])
    res = paired_wilcoxon(a, b, zero_method=zero_method)
    ref = stats.wilcoxon(a - b, zero_method=zero_method)
    assert res.pvalue == pytest.approx(ref.pvalue)
    assert res.n_zero == 2 and "2 zero differences" in res.note


def test_all_zero_differences_give_p_one_not_a_crash():
    a = np.array([0.1, 0.2, 0.3])
    for test in ("t", "wilcoxon", "permutation"):
        res = run_test(test, a, a.copy())
        assert res.pvalue == 1.0 and res.n_zero == 3 and "all differences are zero" in res.note


def test_constant_nonzero_difference_is_flagged():
    res = paired_t([1.0, 2.0, 3.0], [0.0, 1.0, 2.0])
    assert res.pvalue == 0.0 and "zero variance" in res.note


def test_permutation_exact_matches_scipy_permutation_test():
    rng = np.random.default_rng(3)
    a, b = rng.normal(0.4, 1, 11), rng.normal(0, 1, 11)
    res = paired_permutation(a, b, n_resamples=9999)
    ref = stats.permutation_test((a, b), lambda x, y, axis: np.mean(x - y, axis=axis),
                                 permutation_type="samples", vectorized=True)
    assert "exact" in res.note
    assert res.pvalue == pytest.approx(ref.pvalue)
    assert res.statistic == pytest.approx(np.mean(a - b))


def test_permutation_random_is_seeded_and_close_to_t_test():
    rng = np.random.default_rng(4)
    a = rng.normal(0.0, 1.0, 400)
    b = a - rng.normal(0.1, 1.0, 400)
    r1 = paired_permutation(a, b, n_resamples=4000, seed=1)
    r2 = paired_permutation(a, b, n_resamples=4000, seed=1)
    assert r1 == r2 and "4000 random sign flips" in r1.note
    assert r1.pvalue == pytest.approx(paired_t(a, b).pvalue, abs=0.02)
    assert r1.pvalue >= 1 / 4001  # never exactly zero


def test_permutation_minimum_exact_p_value():
    res = paired_permutation(np.arange(1.0, 6.0), np.zeros(5))  # all positive: 2 of 32 flips
    assert res.pvalue == pytest.approx(2 / 32)


def test_series_are_aligned_on_user_index():
    a = pd.Series([1.0, 2.0, 3.0], index=["u1", "u2", "u3"])
    b = pd.Series([2.5, 0.5, 1.5], index=["u3", "u1", "u2"])
    xa, xb, users = align_pairs(a, b)
    np.testing.assert_allclose(xa - xb, [0.5, 0.5, 0.5])
    assert list(users) == ["u1", "u2", "u3"]


@pytest.mark.parametrize("a, b, match", [
    (pd.Series([1.0, 2.0], index=[1, 2]), pd.Series([1.0, 2.0], index=[1, 3]), "user sets"),
    (pd.Series([1.0, 2.0], index=[1, 1]), pd.Series([1.0, 2.0], index=[1, 2]), "duplicate"),
    (pd.Series([1.0, 2.0]), [1.0, 2.0], "both"),
    ([1.0, 2.0, 3.0], [1.0, 2.0], "different lengths"),
    ([1.0, np.nan], [1.0, 2.0], "non-finite"),
    ([1.0], [2.0], "at least 2 users"),
])
def test_bad_input_raises_data_error(a, b, match):
    with pytest.raises(DataError, match=match):
        align_pairs(a, b)


def test_unknown_test_and_bad_options():
    with pytest.raises(UnknownNameError, match="Did you mean"):
        run_test("wilcoxn", [1.0, 2.0], [2.0, 3.0])
    with pytest.raises(ConfigError, match="zero_method"):
        paired_wilcoxon([1.0, 2.0], [2.0, 4.0], zero_method="drop")
    with pytest.raises(ConfigError, match="n_resamples"):
        paired_permutation([1.0, 2.0], [2.0, 4.0], n_resamples=0)
