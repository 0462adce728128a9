"""Friedman / Nemenyi / pairwise Wilcoxon-Holm ranking over blocks (datasets)."""
import numpy as np
import pandas as pd
import pytest

from mmstudy.errors import ConfigError, DataError
from mmstudy.stats.ranking import (average_ranks, cliques_from_cd, cliques_from_pairwise,
                                   friedman_test, nemenyi_cd, pairwise_wilcoxon,
                                   performance_matrix, rank_configs)

# Demsar (2006), Table 6: AUC of four C4.5 variants on 14 data sets. The printed table rounds
# voting's C4.5+cf to 0.975; 0.97501 reproduces the paper's (unrounded) ranks.
DEMSAR = np.array([
    [0.763, 0.768, 0.771, 0.798], [0.599, 0.591, 0.590, 0.569], [0.954, 0.971, 0.968, 0.967],
    [0.628, 0.661, 0.654, 0.657], [0.882, 0.888, 0.886, 0.898], [0.936, 0.931, 0.916, 0.931],
    [0.661, 0.668, 0.609, 0.685], [0.583, 0.583, 0.563, 0.625], [0.775, 0.838, 0.866, 0.875],
    [1.000, 1.000, 1.000, 1.000], [0.940, 0.962, 0.965, 0.962], [0.619, 0.666, 0.614, 0.669],
    [0.972, 0.981, 0.97501, 0.975], [0.957, 0.978, 0.946, 0.970]])
CONFIGS = ["C4.5", "C4.5+m", "C4.5+cf", "C4.5+m+cf"]
# Hollander & Wolfe rounding times (R `?friedman.test`): 22 players x 3 methods
ROUNDING = np.array([
    5.40, 5.50, 5.55, 5.85, 5.70, 5.75, 5.20, 5.60, 5.50, 5.55, 5.50, 5.40, 5.90, 5.85, 5.70,
    5.45, 5.55, 5.60, 5.40, 5.40, 5.35, 5.45, 5.50, 5.35, 5.25, 5.15, 5.00, 5.85, 5.80, 5.70,
    5.25, 5.20, 5.10, 5.65, 5.55, 5.45, 5.60, 5.35, 5.45, 5.05, 5.00, 4.95, 5.50, 5.50, 5.40,
    5.45, 5.55, 5.50, 5.55, 5.55, 5.35, 5.45, 5.50, 5.55, 5.50, 5.45, 5.25, 5.65, 5.60, 5.40,
    5.70, 5.65, 5.55, 6.30, 6.30, 6.25]).reshape(22, 3)


def _long(matrix, configs, block="dataset"):
    wide = pd.DataFrame(matrix, columns=configs, index=[f"b{i}" for i in range(len(matrix))])
    return wide.rename_axis(block).reset_index().melt(id_vars=block, var_name="config")


def test_average_ranks_and_cd_match_demsar():
    res = rank_configs(_long(DEMSAR, CONFIGS))
    expected = {"C4.5": 3.143, "C4.5+m": 2.000, "C4.5+cf": 2.893, "C4.5+m+cf": 1.964}
    assert res.avg_ranks.to_dict() == pytest.approx(expected, abs=1e-3)
    assert list(res.avg_ranks.index) == ["C4.5+m+cf", "C4.5+m", "C4.5+cf", "C4.5"]
    assert res.cd == pytest.approx(1.25, abs=0.005)  # 2.569 * sqrt(4 * 5 / (6 * 14))
    assert (res.n_blocks, res.n_configs) == (14, 4) and res.friedman_pvalue < 0.05


def test_friedman_matches_r_rounding_times():
    stat, p = friedman_test(pd.DataFrame(ROUNDING))
    assert stat == pytest.approx(11.143, abs=1e-3) and p == pytest.approx(0.003805, abs=1e-6)


@pytest.mark.parametrize("k, q", [(2, 1.960), (3, 2.343), (4, 2.569), (5, 2.728), (10, 3.164)])
def test_nemenyi_q_values_match_demsar_table(k, q):
    assert nemenyi_cd(k, 6) == pytest.approx(q * np.sqrt(k * (k + 1) / 36), abs=2e-3)


def test_pairwise_wilcoxon_demsar_c45_vs_m():
    matrix = pd.DataFrame(DEMSAR.round(3), columns=CONFIGS)
    pw = pairwise_wilcoxon(matrix, zero_method="zsplit").set_index(["config_a", "config_b"])
    assert pw.loc[("C4.5", "C4.5+m"), "statistic"] == 12.0  # Demsar: T = min(93, 12)
    assert pw.loc[("C4.5", "C4.5+m"), "pvalue"] < 0.05
    assert (pw["p_adj"] >= pw["pvalue"]).all() and set(pw["correction"]) == {"holm"}


def test_cliques():
    ranks = pd.Series({"a": 1.0, "b": 1.5, "c": 2.2, "d": 3.9})
    assert cliques_from_cd(ranks, 1.25) == [("a", "b", "c")]
    assert cliques_from_cd(ranks, 0.1) == []
    pw = pd.DataFrame({"config_a": ["a", "a", "b", "a", "b", "c"],
                       "config_b": ["b", "c", "c", "d", "d", "d"],
                       "significant": [False, True, False, True, True, False]})
    assert cliques_from_pairwise(ranks, pw) == [("a", "b"), ("b", "c"), ("c", "d")]


def test_lower_is_better_reverses_ranks():
    m = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [2.0, 3.0, 4.0]})
    assert average_ranks(m, higher_is_better=False).to_dict() == {"x": 1.0, "y": 2.0}


def test_two_configs_skip_friedman():
    res = rank_configs(_long(DEMSAR[:, :2], CONFIGS[:2]))
    assert np.isnan(res.friedman_pvalue) and "skipped" in res.note and len(res.pairwise) == 1
    with pytest.raises(DataError, match=">= 3 configurations"):
        friedman_test(pd.DataFrame(DEMSAR[:, :2]))


@pytest.mark.parametrize("block", ["user", "Users", "user_id"])
def test_user_blocks_are_refused(block):
    with pytest.raises(ConfigError, match="looks like users"):
        rank_configs(_long(DEMSAR, CONFIGS, block=block), block=block)


@pytest.mark.parametrize("mutate, match", [
    (lambda d: d.iloc[1:], "missing or NaN"),
    (lambda d: pd.concat([d, d.iloc[:1]]), "duplicate"),
    (lambda d: d[d["dataset"].isin(["b0", "b1"])], ">= 3 blocks"),
    (lambda d: d[d["config"] == "C4.5"], ">= 2 configurations"),
    (lambda d: d.drop(columns="value"), "lacks columns"),
])
def test_bad_tables(mutate, match):
    with pytest.raises(DataError, match=match):
        performance_matrix(mutate(_long(DEMSAR, CONFIGS)))


def test_bad_options():
    with pytest.raises(ConfigError):
        rank_configs(_long(DEMSAR, CONFIGS), cliques="graph")
    with pytest.raises(ConfigError):
        nemenyi_cd(1, 5)
