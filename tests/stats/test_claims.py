"""The claim rule's table: the two-level and seed-level tests decide together, corrected over the
family; the user-level test stands beside them; power turns a weak "not significant" into
"underpowered"."""
import numpy as np
import pandas as pd
import pytest

from mmstudy.stats.claims import RULE, claim_family
from mmstudy.stats.corrections import adjust_pvalues


def tables(rng, shift=0.0, seed_sd=0.0, users=300, seeds=3):
    base = rng.uniform(0.1, 0.5, (users, 1)) + rng.normal(0, 0.02, (users, seeds))
    a = base + shift + rng.normal(0, seed_sd, seeds)[None, :] + rng.normal(0, 0.1, (users, seeds))
    index = pd.Index(range(users), name="user")
    return pd.DataFrame(a, index=index), pd.DataFrame(base, index=index)


def test_the_rule_decides_and_the_user_level_test_only_stands_beside_it():
    rng = np.random.default_rng(0)
    pairs = {"real": tables(rng, shift=0.1), "seed noise": tables(rng, seed_sd=0.05), "nothing": tables(rng)}
    table = claim_family(pairs, correction="holm", alpha=0.05, min_effect=0.02)
    assert list(table["comparison"]) == list(pairs) and (table["rule"] == RULE).all()
    np.testing.assert_allclose(table["p_adj"], adjust_pvalues(table["pvalue"].to_numpy(), "holm"))
    assert table["significant"].tolist() == [True, False, False]
    assert table.loc[1, "user_significant"]  # training noise fools the user-level test ...
    assert table.loc[1, "verdict"] == "underpowered"  # ... while the rule sees the seed spread
    assert table.loc[1, "seed_sd"] > table.loc[2, "seed_sd"] and table.loc[1, "mde"] > 0.02
    assert table.loc[2, "verdict"] == "not significant" and table.loc[2, "mde"] <= 0.02
    assert (table["diff_ci_low"] <= table["mean_diff"]).all() and (table["mean_diff"] <= table["diff_ci_high"]).all()
    assert table.loc[0, "rel_ci_low"] == pytest.approx(100 * table.loc[0, "diff_ci_low"] / table.loc[0, "mean_b"])
    assert table["seed_p_adj"].notna().all() and (table["n_seeds"] == 3).all()
    assert (table["pvalue"] == table[["two_level_pvalue", "seed_pvalue"]].max(axis=1)).all()


def test_seeds_needed_for_the_declared_effect():
    rng = np.random.default_rng(1)
    table = claim_family({"a": tables(rng, seed_sd=0.03)}, min_effect=0.02)
    assert table["seeds_for_min_effect"].iloc[0] > 3
    assert np.isnan(claim_family({"a": tables(rng)})["seeds_for_min_effect"].iloc[0])  # no effect declared


def test_one_seed_is_untestable_not_significant():
    rng = np.random.default_rng(2)
    table = claim_family({"one seed": tables(rng, shift=0.2, seeds=1), "three": tables(rng)}, min_effect=0.01)
    assert table["verdict"].tolist()[0] == "untestable" and np.isnan(table["p_adj"].iloc[0])
    assert not table["significant"].iloc[0] and table["user_significant"].iloc[0]
    assert table["p_adj"].iloc[1] == pytest.approx(table["pvalue"].iloc[1])  # a family of one finite p
