"""Effect sizes: known values, bounds, degenerate inputs and bootstrap CI coverage."""
import numpy as np
import pytest

from mmstudy.errors import ConfigError
from mmstudy.stats.effects import (cohen_label, cohens_dz, mean_difference_ci, rank_biserial,
                                   relative_change_ci, win_tie_loss)

from .test_paired import DEPR_X, DEPR_Y, SLEEP_1, SLEEP_2


def test_cohens_dz_on_sleep_data():
    # mean difference -1.58, sd of differences 1.2299955 (R: sd(sleep1 - sleep2))
    assert cohens_dz(SLEEP_1, SLEEP_2) == pytest.approx(-1.58 / 1.2299955, rel=1e-6)


def test_cohens_dz_zero_variance():
    assert cohens_dz(np.ones(3), np.ones(3)) == 0.0
    assert cohens_dz(np.ones(3), np.zeros(3)) == np.inf


def test_rank_biserial_known_value_and_bounds():
    # depression data: W+ = 40, W- = 5 over ranks 1..9 -> r = 35 / 45
    assert rank_biserial(DEPR_X, DEPR_Y) == pytest.approx(35 / 45)
    assert rank_biserial(np.arange(5.0) + 1, np.zeros(5)) == 1.0
    assert rank_biserial(np.zeros(5), np.arange(5.0) + 1) == -1.0
    assert rank_biserial(np.ones(4), np.ones(4)) == 0.0
    rng = np.random.default_rng(0)
    r = [rank_biserial(rng.normal(size=20), rng.normal(size=20)) for _ in range(50)]
    assert -1 <= min(r) and max(r) <= 1


def test_win_tie_loss_counts():
    a = np.array([1.0, 2.0, 3.0, 4.0])
    b = np.array([0.0, 2.0, 3.05, 5.0])
    assert win_tie_loss(a, b) == (1, 1, 2)
    assert win_tie_loss(a, b, tol=0.1) == (1, 2, 1)


@pytest.mark.parametrize("d, label", [(0.0, "negligible"), (-0.19, "negligible"), (0.2, "small"),
                                      (-0.5, "medium"), (0.79, "medium"), (0.8, "large"),
                                      (np.inf, "large"), (np.nan, "undefined")])
def test_cohen_labels(d, label):
    assert cohen_label(d) == label


def test_mean_difference_ci_is_seeded_and_contains_estimate():
    rng = np.random.default_rng(1)
    a, b = rng.normal(1.0, 1, 60), rng.normal(0.8, 1, 60)
    first = mean_difference_ci(a, b, seed=7)
    assert first == mean_difference_ci(a, b, seed=7)
    assert first != mean_difference_ci(a, b, seed=8)
    est, low, high = first
    assert est == pytest.approx(np.mean(a - b)) and low < est < high


def test_degenerate_differences_give_point_interval():
    a = np.array([0.2, 0.4, 0.6])
    assert mean_difference_ci(a + 0.1, a, method="bca") == pytest.approx((0.1, 0.1, 0.1))
    assert relative_change_ci(a, a, method="bca") == (0.0, 0.0, 0.0)


def test_relative_change_is_ratio_of_means():
    a, b = np.array([0.3, 0.5, 0.7, 0.2]), np.array([0.2, 0.4, 0.5, 0.3])
    est, low, high = relative_change_ci(a, b, n_boot=500)
    assert est == pytest.approx(100 * (a.mean() / b.mean() - 1))
    assert low <= est <= high
    assert np.isnan(relative_change_ci(a, np.zeros(4))[0])


@pytest.mark.parametrize("method", ["percentile", "bca"])
def test_bootstrap_ci_coverage_is_near_nominal(method):
    rng = np.random.default_rng(2024)
    true_diff, hits, sims = 0.3, 0, 200
    for i in range(sims):
        b = rng.normal(0.0, 1.0, 60)
        a = b + rng.normal(true_diff, 1.0, 60)
        _, low, high = mean_difference_ci(a, b, n_boot=500, method=method, seed=i)
        hits += low <= true_diff <= high
    assert 0.90 <= hits / sims <= 0.99


@pytest.mark.parametrize("kwargs, match", [({"confidence": 1.0}, "confidence"),
                                           ({"method": "student"}, "ci_method"),
                                           ({"n_boot": 10}, "n_boot")])
def test_bad_bootstrap_options(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        mean_difference_ci(np.arange(5.0), np.zeros(5), **kwargs)
