"""compare / compare_family: one row per comparison with test, effects and correction."""
import numpy as np
import pandas as pd
import pytest

from mmstudy.errors import ConfigError, DataError
from mmstudy.registry import UnknownNameError
from mmstudy.stats.compare import compare, compare_family
from mmstudy.stats.paired import paired_t

from .test_paired import SLEEP_1, SLEEP_2


def _users(rng, n=300, shift=0.0):
    idx = pd.Index([f"u{i}" for i in range(n)], name="user")
    b = pd.Series(rng.uniform(0, 0.5, n), index=idx)
    return b + shift + rng.normal(0, 0.05, n), b


def test_compare_collects_test_and_effects():
    c = compare(SLEEP_2, SLEEP_1, label="drug2-vs-drug1", n_boot=1000)
    assert c.pvalue == pytest.approx(paired_t(SLEEP_2, SLEEP_1).pvalue)
    assert c.mean_diff == pytest.approx(1.58)
    assert c.diff_ci_low < 1.58 < c.diff_ci_high
    assert c.rel_change_pct == pytest.approx(100 * (SLEEP_2.mean() / SLEEP_1.mean() - 1))
    assert (c.wins, c.ties, c.losses) == (9, 1, 0) and c.n_zero == 1
    assert c.cohens_dz > 1.2 and c.rank_biserial == 1.0
    assert c.to_dict()["label"] == "drug2-vs-drug1"


@pytest.mark.parametrize("test", ["t", "wilcoxon", "permutation"])
def test_compare_tests_agree_on_a_clear_effect(test):
    a, b = _users(np.random.default_rng(0), shift=0.02)
    c = compare(a, b, test, n_resamples=2000, n_boot=500)
    assert c.test == test and c.pvalue < 0.01 and c.n_users == 300


def test_compare_reports_which_comparison_has_bad_users():
    a = pd.Series([1.0, 2.0, 3.0], index=["x", "y", "z"])
    with pytest.raises(DataError, match="'A vs B'.*only in a"):
        compare(a, a.iloc[:2], label="A vs B")


def test_compare_family_corrects_and_flags():
    rng = np.random.default_rng(1)
    pairs = {"strong": _users(rng, shift=0.03), "weak": _users(rng, shift=0.004),
             "null": _users(rng, shift=0.0), "same": (lambda s: (s, s.copy()))(_users(rng)[0])}
    df = compare_family(pairs, "holm", alpha=0.05, n_boot=300)
    assert list(df["comparison"]) == list(pairs)
    assert set(df["correction"]) == {"holm"} and set(df["correction_label"]) == {"Holm"}
    assert (df["p_adj"] >= df["pvalue"]).all()
    np.testing.assert_array_equal(df["significant"], df["p_adj"] < 0.05)
    assert df.set_index("comparison").loc["strong", "significant"]
    assert df.set_index("comparison").loc["same", "p_adj"] == 1.0
    bh = compare_family(pairs, "fdr_bh", n_boot=300)
    assert (bh["p_adj"] <= df["p_adj"] + 1e-12).all()  # BH is never stricter than Holm


def test_compare_family_bad_input():
    a, b = _users(np.random.default_rng(2), n=20)
    with pytest.raises(DataError, match="at least one"):
        compare_family({})
    with pytest.raises(DataError, match="'x' must be an"):
        compare_family({"x": (a, b, a)})
    with pytest.raises(UnknownNameError):
        compare_family({"x": (a, b)}, test="ttset")
    with pytest.raises(UnknownNameError):
        compare_family({"x": (a, b)}, correction="holmes")
    with pytest.raises(ConfigError, match="alpha"):
        compare_family({"x": (a, b)}, alpha=5)
