"""Minimum detectable effect of the paired t-test."""
import numpy as np
import pytest
from statsmodels.stats.power import TTestPower

from mmstudy.errors import ConfigError, DataError
from mmstudy.stats.power import minimum_detectable_difference, minimum_detectable_effect


def test_known_value_and_round_trip():
    mde = minimum_detectable_effect(100, alpha=0.05, power=0.8, sd_diff=0.1)
    assert mde.d_z == pytest.approx(0.2829, abs=1e-3)  # G*Power: n = 100 -> d = 0.283
    assert mde.mean_diff == pytest.approx(0.1 * mde.d_z)
    achieved = TTestPower().power(effect_size=mde.d_z, nobs=100, alpha=0.05)
    assert achieved == pytest.approx(0.8, abs=1e-4)


def test_more_users_or_looser_alpha_detect_smaller_effects():
    small, large = minimum_detectable_effect(50), minimum_detectable_effect(5000)
    assert large.d_z < small.d_z and np.isnan(small.mean_diff)
    assert minimum_detectable_effect(100, alpha=0.005).d_z > minimum_detectable_effect(100).d_z
    assert minimum_detectable_effect(100, alternative="larger").d_z < small.d_z * 1.5


def test_from_paired_data_uses_sd_of_differences():
    rng = np.random.default_rng(0)
    a = rng.normal(size=200)
    b = a + rng.normal(0, 0.5, 200)
    mde = minimum_detectable_difference(a, b)
    assert mde.n_users == 200 and mde.sd_diff == pytest.approx(np.std(a - b, ddof=1))


@pytest.mark.parametrize("kwargs, err", [({"n_users": 1}, ConfigError),
                                         ({"n_users": 10, "power": 1.0}, ConfigError),
                                         ({"n_users": 10, "alternative": "both"}, ConfigError),
                                         ({"n_users": 10, "sd_diff": -1.0}, DataError)])
def test_bad_input(kwargs, err):
    with pytest.raises(err):
        minimum_detectable_effect(**kwargs)
