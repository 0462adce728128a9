"""Seed-matched, user-paired group comparisons on a finished tiny study."""
import numpy as np
import pandas as pd

from mmstudy.analysis.groups import seed_summary
from mmstudy.analysis.pairing import GroupPair, compare_groups, matched_user_means
from mmstudy.study.results import StudyResults


def test_matched_user_means_average_over_seeds(tiny_missing_study):
    res = StudyResults.load(tiny_missing_study)
    cells = res.cells
    zeros = cells.query("strategy == 'zeros'").set_index("seed")["fingerprint"].to_dict()
    mean = cells.query("strategy == 'propagation'").set_index("seed")["fingerprint"].to_dict()
    a, b, seed_a, seed_b = matched_user_means(res, GroupPair("p vs z", mean, zeros), "Recall@20")
    manual = pd.concat([res.per_user(mean[s])["Recall@20"] for s in (0, 1)], axis=1).mean(axis=1)
    np.testing.assert_allclose(a.loc[manual.index], manual)
    assert len(seed_a) == 2 and a.index.equals(b.index)


def test_compare_groups_corrects_over_the_family(tiny_missing_study):
    res = StudyResults.load(tiny_missing_study)
    cells = res.cells
    groups = {s: g.set_index("seed")["fingerprint"].to_dict()
              for s, g in cells[cells.role == "multimodal"].groupby("strategy")}
    pairs = [GroupPair("prop vs zeros", groups["propagation"], groups["zeros"], keys=(("k", 1),)),
             GroupPair("dropped vs zeros", groups["dropped"], groups["zeros"], "full", "common", keys=(("k", 2),))]
    table = compare_groups(res, pairs, "Recall@20", correction="holm")
    assert list(table["k"]) == [1, 2]
    assert (table["p_adj"] >= table["pvalue"] - 1e-15).all() and (table["p_adj"] <= 1).all()
    assert table["correction_label"].iloc[0] == "Holm"
    assert (table["n_seeds"] == 2).all() and table["seed_pvalue"].notna().all()


def test_seed_summary_t_interval():
    out = seed_summary(pd.Series([1.0, 2.0, 3.0]))
    assert out["mean"] == 2.0 and out["n_seeds"] == 3
    assert np.isclose(out["ci_high"] - 2.0, 4.302652729911275 * 1.0 / np.sqrt(3))
    single = seed_summary(pd.Series([1.0]))
    assert np.isnan(single["ci_low"])
