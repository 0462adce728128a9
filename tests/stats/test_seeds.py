"""Two-level (seed x user) inference: seed-level t-test, hierarchical bootstrap, t CIs."""
import numpy as np
import pandas as pd
import pytest

from mmstudy.errors import ConfigError, DataError
from mmstudy.stats.seeds import (grouped_mean_ci, hierarchical_bootstrap, mean_t_ci,
                                 seed_level_ttest, seed_means, two_level_compare)

from .test_paired import SLEEP_1, SLEEP_2


def _sleep_as_seeds() -> pd.DataFrame:
    """10 seeds x 2 users whose seed-level means are the sleep data."""
    seeds = np.repeat(np.arange(10), 2)
    jitter = np.tile([-0.3, 0.3], 10)
    return pd.DataFrame({"seed": seeds, "user": np.tile(["u1", "u2"], 10),
                         "value_a": SLEEP_1[seeds] + jitter, "value_b": SLEEP_2[seeds] - jitter})


def _simulated(rng, n_seeds=5, n_users=400, shared_users=True, effect=0.01, user_sd=0.05):
    users = np.arange(n_users)
    rows = []
    user_effect = rng.normal(0, user_sd, n_users * n_seeds)
    for s in range(n_seeds):
        ids = users if shared_users else users + s * n_users
        b = rng.uniform(0, 0.5, n_users)
        a = b + effect + rng.normal(0, 0.002) + user_effect[ids] + rng.normal(0, 0.02, n_users)
        rows.append(pd.DataFrame({"seed": s, "user": ids, "value_a": a, "value_b": b}))
    return pd.concat(rows, ignore_index=True)


def test_mean_t_ci_matches_r_sleep_interval():
    m, low, high = mean_t_ci(SLEEP_1 - SLEEP_2)
    assert (m, low, high) == pytest.approx((-1.58, -2.4598858, -0.7001142), abs=1e-6)
    assert np.isnan(mean_t_ci([1.0])[1]) and mean_t_ci([2.0, 2.0]) == (2.0, 2.0, 2.0)


def test_grouped_mean_ci_matches_per_group_computation():
    df = pd.DataFrame({"g": ["x"] * 10 + ["y"] * 4 + ["z"], "v": np.r_[SLEEP_1, 1, 2, 4, 8, 5]})
    out = grouped_mean_ci(df, "g", "v").set_index("g")
    assert tuple(out.loc["x", ["mean", "ci_low", "ci_high"]]) == pytest.approx(mean_t_ci(SLEEP_1))
    assert tuple(out.loc["y", ["mean", "ci_low", "ci_high"]]) == pytest.approx(
        mean_t_ci([1, 2, 4, 8]))
    assert out.loc["z", "n"] == 1 and np.isnan(out.loc["z", "ci_low"])


def test_seed_level_ttest_uses_seed_means():
    df = _sleep_as_seeds()
    means = seed_means(df)
    np.testing.assert_allclose(means["mean_a"], SLEEP_1)
    assert (means["n_users"] == 2).all()
    res = seed_level_ttest(df)
    assert res.n_seeds == 10 and res.pvalue == pytest.approx(0.002833, abs=1e-6)
    assert (res.ci_low, res.ci_high) == pytest.approx((-2.4598858, -0.7001142), abs=1e-6)


def test_hierarchical_bootstrap_designs():
    rng = np.random.default_rng(0)
    shared = _simulated(rng)
    crossed = hierarchical_bootstrap(shared, n_boot=1000, seed=1)
    nested = hierarchical_bootstrap(shared, n_boot=1000, design="nested", seed=1)
    assert crossed.design == "crossed" and nested.design == "nested"
    assert crossed.mean_diff == pytest.approx(seed_means(shared)["mean_diff"].mean())
    # a user's effect repeats under every seed: only the crossed design sees its full variance
    assert crossed.ci_high - crossed.ci_low > 1.5 * (nested.ci_high - nested.ci_low)
    assert crossed.ci_low < 0.01 < crossed.ci_high and crossed.pvalue < 0.01
    assert hierarchical_bootstrap(shared, n_boot=1000, seed=1) == crossed
    separate = _simulated(rng, shared_users=False)
    assert hierarchical_bootstrap(separate, n_boot=200).design == "nested"
    with pytest.raises(DataError, match="same users under every seed"):
        hierarchical_bootstrap(separate, n_boot=200, design="crossed")


def test_hierarchical_bootstrap_null_effect_is_not_significant():
    df = _simulated(np.random.default_rng(3), effect=0.0, user_sd=0.0)
    res = hierarchical_bootstrap(df, n_boot=1000)
    assert res.ci_low < 0 < res.ci_high and res.pvalue > 0.05


def test_two_level_compare_and_custom_columns():
    df = _simulated(np.random.default_rng(4)).rename(
        columns={"seed": "train_seed", "user": "uid", "value_a": "new", "value_b": "old"})
    res = two_level_compare(df, n_boot=300, seed_col="train_seed", user_col="uid",
                            a_col="new", b_col="old")
    assert res.n_seeds == 5 and res.mean_a_ci[0] < res.mean_a < res.mean_a_ci[1]
    assert res.seed_test.mean_diff == pytest.approx(res.bootstrap.mean_diff)
    assert res.to_dict()["bootstrap"]["design"] == "crossed"


@pytest.mark.parametrize("mutate, match", [
    (lambda d: d.drop(columns="value_b"), "lacks columns"),
    (lambda d: pd.concat([d, d.iloc[:1]]), "duplicate"),
    (lambda d: d[d["seed"] == 0], "at least 2 seeds"),
    (lambda d: d.assign(value_a=d["value_a"].where(d.index != 3)), "non-finite"),
    (lambda d: d[(d["seed"] != 1) | (d["user"] == 0)], "at least 2 users"),
])
def test_bad_seed_tables(mutate, match):
    df = mutate(_simulated(np.random.default_rng(5), n_users=20))
    with pytest.raises(DataError, match=match):
        seed_means(df)


def test_bad_bootstrap_options():
    df = _simulated(np.random.default_rng(6), n_users=20)
    with pytest.raises(ConfigError, match="design"):
        hierarchical_bootstrap(df, design="both")
    with pytest.raises(ConfigError, match="n_boot"):
        hierarchical_bootstrap(df, n_boot=10)
