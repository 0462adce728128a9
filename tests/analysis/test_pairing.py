"""Seed-matched, user-paired group comparisons on a finished tiny study, judged by the claim rule."""
import numpy as np
import pandas as pd
import pytest

from mmstudy.analysis.groups import seed_summary
from mmstudy.analysis.pairing import GroupPair, compare_groups, matched_tables
from mmstudy.errors import DataError
from mmstudy.stats.crossed import crossed_tests
from mmstudy.study.results import StudyResults
from mmstudy.study.spec import AnalysisConfig


def groups_of(res):
    cells = res.cells
    return {s: g.set_index("seed")["fingerprint"].to_dict()
            for s, g in cells[cells.role == "multimodal"].groupby("strategy")}


def test_matched_tables_hold_users_by_seeds(tiny_missing_study):
    res = StudyResults.load(tiny_missing_study)
    groups = groups_of(res)
    a, b = matched_tables(res, GroupPair("p vs z", groups["propagation"], groups["zeros"]), "Recall@20")
    assert list(a.columns) == [0, 1] and a.index.equals(b.index)
    np.testing.assert_allclose(a[1], res.per_user(groups["propagation"][1])["Recall@20"].loc[a.index])


def test_compare_groups_applies_the_claim_rule_over_the_family(tiny_missing_study):
    res = StudyResults.load(tiny_missing_study)
    groups = groups_of(res)
    pairs = [GroupPair("prop vs zeros", groups["propagation"], groups["zeros"], keys=(("k", 1),)),
             GroupPair("dropped vs zeros", groups["dropped"], groups["zeros"], "full", "common", keys=(("k", 2),))]
    table = compare_groups(res, pairs, "Recall@20", AnalysisConfig(correction="holm", min_effect=0.001))
    assert list(table["k"]) == [1, 2] and (table["metric"] == "Recall@20").all()
    assert (table["p_adj"] >= table["pvalue"] - 1e-15).all() and (table["p_adj"] <= 1).all()
    assert table["correction_label"].iloc[0] == "Holm" and (table["n_seeds"] == 2).all()
    assert table["significant"].equals(table["p_adj"] < 0.05) and table["seed_pvalue"].notna().all()
    a, b = matched_tables(res, pairs[0], "Recall@20")
    res = crossed_tests(a.to_numpy().T, b.to_numpy().T)
    assert table["pvalue"].iloc[0] == pytest.approx(max(res.pvalue, res.seed_pvalue))
    assert set(table["verdict"]) <= {"significant", "not significant", "underpowered"}


def test_a_cell_without_a_common_table_cannot_be_read_on_the_common_catalogue(tiny_missing_study):
    res = StudyResults.load(tiny_missing_study)
    cf = res.cells.query("role == 'cf' and strategy == 'none'")["fingerprint"].iloc[0]
    with pytest.raises(DataError, match="has no per_user_common.parquet"):
        res.per_user(cf, "common")


def test_seed_summary_t_interval():
    out = seed_summary(pd.Series([1.0, 2.0, 3.0]))
    assert out["mean"] == 2.0 and out["n_seeds"] == 3
    assert np.isclose(out["ci_high"] - 2.0, 4.302652729911275 * 1.0 / np.sqrt(3))
    single = seed_summary(pd.Series([1.0]))
    assert np.isnan(single["ci_low"])


def test_pairs_without_two_shared_users_are_left_out_of_the_family():
    """`dropped` at 90% under independent masks keeps no test user on the common catalogue: that
    comparison cannot be tested and is left out, instead of failing the whole analysis."""
    from types import SimpleNamespace

    rng = np.random.default_rng(0)
    users = {"a": range(40), "b": range(40), "d": range(1)}

    def per_user(fp, view):
        return pd.DataFrame({"Recall@20": rng.random(len(users[fp[0]]))}, index=list(users[fp[0]]))

    results = SimpleNamespace(per_user=per_user)
    pairs = [GroupPair(label="mean vs zeros", a={0: "a0", 1: "a1"}, b={0: "b0", 1: "b1"}, keys=(("s", "mean"),)),
             GroupPair(label="dropped vs zeros", a={0: "d0", 1: "d1"}, b={0: "b0", 1: "b1"}, view_a="common",
                       keys=(("s", "dropped"),))]
    table = compare_groups(results, pairs, "Recall@20", AnalysisConfig(min_seeds=2))
    assert table["s"].tolist() == ["mean"] and table["n_users"].tolist() == [40]
    assert compare_groups(results, pairs[1:], "Recall@20", AnalysisConfig(min_seeds=2)).empty
