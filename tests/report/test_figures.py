"""Report figures: content of the returned Figures, bad input, atomic saving."""
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from mmstudy.errors import ConfigError, DataError
from mmstudy.report.figures import (bar_with_ci, critical_difference_diagram, heatmap,
                                    paired_difference_plot, robustness_curve, save_figure)


@pytest.fixture
def seeds_table():
    rng = np.random.default_rng(0)
    rows = [{"strategy": s, "rate": r, "seed": k, "Recall@20": 0.1 - r * (i + 1) / 20
             + rng.normal(0, 0.002)}
            for i, s in enumerate(["zeros", "mean", "knn"]) for r in (0.0, 0.3, 0.6)
            for k in range(3)]
    return pd.DataFrame(rows)


def test_robustness_curve_from_seeds(seeds_table):
    fig = robustness_curve(seeds_table, seed="seed", x_percent=True, title="Robustness")
    ax = fig.axes[0]
    assert isinstance(fig, Figure) and len(ax.lines) == 3 and len(ax.collections) == 3
    np.testing.assert_allclose(ax.lines[0].get_ydata()[0], seeds_table.query(
        "strategy == 'zeros' and rate == 0")["Recall@20"].mean())
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["zeros", "mean", "knn"]


def test_robustness_curve_with_ci_columns_and_bad_input(seeds_table):
    agg = seeds_table.groupby(["strategy", "rate"], as_index=False)["Recall@20"].mean()
    agg["lo"], agg["hi"] = agg["Recall@20"] - 0.01, agg["Recall@20"] + 0.01
    assert len(robustness_curve(agg, ci=("lo", "hi")).axes[0].collections) == 3
    assert len(robustness_curve(agg).axes[0].collections) == 0
    with pytest.raises(DataError, match="pass seed="):
        robustness_curve(seeds_table)
    with pytest.raises(DataError, match="lacks columns"):
        robustness_curve(agg, y="NDCG@20")
    with pytest.raises(ConfigError, match="either"):
        robustness_curve(seeds_table, seed="seed", ci=("lo", "hi"))


def test_paired_difference_plot_marks_significance():
    df = pd.DataFrame({"comparison": ["A vs B", "C vs B"], "mean_diff": [0.02, 0.001],
                       "diff_ci_low": [0.01, -0.004], "diff_ci_high": [0.03, 0.006],
                       "significant": [True, False], "p_adj": [0.004, 0.6]})
    ax = paired_difference_plot(df).axes[0]
    notes = [t.get_text() for t in ax.texts]
    assert notes == ["+0.020 [+0.010, +0.030] **", "+0.001 [-0.004, +0.006]"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["A vs B", "C vs B"]


def test_bar_with_ci_groups_bars():
    df = pd.DataFrame({"model": ["LightGCN", "LightGCN", "VBPR", "VBPR"],
                       "rate": [0.1, 0.5, 0.1, 0.5], "m": [0.1, 0.08, 0.09, 0.05]})
    df["lo"], df["hi"] = df["m"] - 0.005, df["m"] + 0.005
    ax = bar_with_ci(df, "model", "m", low="lo", high="hi", hue="rate").axes[0]
    assert len(ax.patches) == 4
    with pytest.raises(ConfigError):
        bar_with_ci(df, "model", "m", low="lo")


def test_critical_difference_diagram_draws_names_cd_and_cliques():
    ranks = pd.Series({"a": 1.4, "b": 2.1, "c": 2.6, "d": 3.9})
    ax = critical_difference_diagram(ranks, cd=1.2, cliques=[("a", "b", "c")]).axes[0]
    texts = [t.get_text() for t in ax.texts]
    assert "CD = 1.20" in texts and "a (1.40)" in texts and "d (3.90)" in texts
    thick = [c for c in ax.collections if max(c.get_linewidths()) >= 4]
    assert len(thick) == 1
    with pytest.raises(DataError):
        critical_difference_diagram(ranks.iloc[:1])


def test_heatmap_annotates_cells():
    m = pd.DataFrame([[0.1, 0.2], [0.3, 0.4]], index=["x", "y"], columns=["p", "q"])
    ax = heatmap(m, cbar_label="Recall@20").axes[0]
    assert {t.get_text() for t in ax.texts} == {"0.100", "0.200", "0.300", "0.400"}
    with pytest.raises(DataError):
        heatmap(pd.DataFrame())


def test_save_figure_is_atomic(tmp_path, seeds_table):
    fig = robustness_curve(seeds_table, seed="seed")
    save_figure(fig, tmp_path / "out" / "curve.png", dpi=50)
    assert (tmp_path / "out" / "curve.png").read_bytes()[:4] == b"\x89PNG"
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["curve.png"]
    with pytest.raises(ConfigError, match="unsupported"):
        save_figure(fig, tmp_path / "curve.gif")
