"""Plain-language summaries of comparison families."""
import pandas as pd
import pytest

from mmstudy.errors import DataError
from mmstudy.report.summary import summarize_comparisons, training_settings


def _rows(**overrides):
    base = {"comparison": ["kNN vs zeros", "mean vs zeros"], "mean_diff": [0.012, -0.001],
            "diff_ci_low": [0.006, -0.004], "diff_ci_high": [0.018, 0.002],
            "p_adj": [0.003, 0.41], "correction": ["holm", "holm"], "cohens_dz": [0.21, -0.02],
            "significant": [True, False], "confidence": [0.95, 0.95]}
    base.update(overrides)
    return pd.DataFrame(base)


def test_sentences_match_the_documented_form():
    df = _rows(metric=["Recall@20"] * 2, condition=["at 30% missing"] * 2)
    first, second = summarize_comparisons(df)
    assert first == ("kNN is significantly better than zeros on Recall@20 at 30% missing: "
                     "+0.012 (95% CI +0.006 to +0.018), Holm-adjusted p = 0.003, "
                     "d_z = 0.21 (small).")
    assert second.startswith("No significant difference between mean and zeros on Recall@20")
    assert "(negligible)" in second


def test_direction_and_lower_is_better():
    df = _rows(mean_diff=[-0.012, -0.001], diff_ci_low=[-0.018, -0.004],
               diff_ci_high=[-0.006, 0.002])
    assert "significantly worse" in summarize_comparisons(df)[0]
    assert "significantly better" in summarize_comparisons(df, higher_is_better=False)[0]


def test_names_corrections_and_collapsing():
    df = _rows(system_a=["LightGCN-M", "VBPR"], system_b=["LightGCN", "BPR"],
               correction=["fdr_bh", "fdr_bh"], p_adj=[0.0002, 0.41])
    out = summarize_comparisons(df, collapse_nonsignificant=True)
    assert out[0].startswith("LightGCN-M is significantly better than LightGCN")
    assert "Benjamini-Hochberg-adjusted p < 0.001" in out[0]
    assert out[1] == ("No significant difference in 1 of 2 comparisons: VBPR vs BPR "
                      "(-0.0010, adjusted p = 0.41).")
    raw = summarize_comparisons(_rows(correction=["none", "none"]))
    assert "p = 0.003 (uncorrected)" in raw[0]


def test_missing_columns_are_reported():
    with pytest.raises(DataError, match="cohens_dz"):
        summarize_comparisons(_rows().drop(columns="cohens_dz"))


def test_long_quiet_lists_point_to_the_table_instead_of_filling_pages():
    n = 12
    df = pd.DataFrame({"comparison": [f"s{i} vs zeros" for i in range(n)], "mean_diff": [0.001] * n,
                       "diff_ci_low": [-0.01] * n, "diff_ci_high": [0.01] * n, "p_adj": [0.5] * n,
                       "correction": ["holm"] * n, "cohens_dz": [0.01] * n, "significant": [False] * n,
                       "confidence": [0.95] * n, "verdict": ["not significant"] * 6 + ["underpowered"] * 6,
                       "mde": [0.02] * n})
    quiet, weak = summarize_comparisons(df, collapse_nonsignificant=True)
    assert quiet == "No significant difference in 6 of 12 comparisons: " + "; ".join(
        f"s{i} vs zeros (+0.001, adjusted p = 0.50)" for i in range(6)) + "."
    more = pd.concat([df, df.assign(comparison=[f"t{i} vs zeros" for i in range(n)])], ignore_index=True)
    quiet, weak = summarize_comparisons(more, collapse_nonsignificant=True)
    assert quiet == "No significant difference in 12 of 24 comparisons (each one is in the comparison table)."
    assert weak.startswith("Not enough evidence either way in 12 of 24") and weak.endswith("(each one is in the "
                                                                                           "comparison table).")


def test_training_settings_state_each_models_own_changes():
    assert training_settings({"train": {"epochs": 5}}) == "training: {'epochs': 5}"
    line = training_settings({"train": {"epochs": 5, "lr": 0.001},
                              "train_by_model": {"LightGCN-M": {"lr": 0.005}, "FREEDOM": {"lr": 0.01}}})
    assert line == ("training: {'epochs': 5, 'lr': 0.001} (per model: LightGCN-M {'lr': 0.005}; "
                    "FREEDOM {'lr': 0.01})")
    assert training_settings({}) == "training: {}"
