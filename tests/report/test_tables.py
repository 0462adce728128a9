"""Table helpers: number formats, significance marks, CSV / LaTeX export, PDF table pages."""
import numpy as np
import pandas as pd
import pytest

from mmstudy.errors import DataError
from mmstudy.report.tables import (auto_decimals, comparison_table, format_mean_ci,
                                   format_number, format_p, significance_mark, table_pages,
                                   to_csv, to_latex_booktabs)
from mmstudy.stats.compare import compare_family


def test_number_formats():
    assert format_mean_ci(0.1234, 0.1101, 0.1352) == "0.123 [0.110, 0.135]"
    assert format_mean_ci(0.012, 0.006, 0.018, signed=True) == "+0.012 [+0.006, +0.018]"
    assert format_mean_ci(12.34, 10.0, 14.0, decimals=1) == "12.3 [10.0, 14.0]"
    assert auto_decimals(0.0, 0.0) == 3 and auto_decimals(0.1, 0.3) == 2
    assert auto_decimals(0.006, 0.018) == 3 and auto_decimals(10, 30) == 1
    assert format_number(np.nan) == "n/a" and format_number(np.inf, signed=True) == "+inf"
    assert [format_p(p) for p in (0.0004, 0.003, 0.0412, 0.41, np.nan)] == [
        "<0.001", "0.003", "0.041", "0.41", "n/a"]


@pytest.mark.parametrize("p, mark", [(0.0009, "***"), (0.001, "**"), (0.0099, "**"),
                                     (0.01, "*"), (0.049, "*"), (0.05, ""), (0.7, "")])
def test_significance_marks(p, mark):
    assert significance_mark(p) == mark


def test_significance_marks_on_series():
    marks = significance_mark(pd.Series([0.0001, 0.02, 0.5]))
    assert marks.tolist() == ["***", "*", ""]


def test_csv_and_latex_are_written_atomically(tmp_path):
    df = pd.DataFrame({"model_name": ["LightGCN", "VBPR"], "Recall@20": [0.1234, 0.0987],
                       "gain %": [1.5, -2.0]})
    to_csv(df, tmp_path / "t.csv")
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "t.csv"), df)
    latex = to_latex_booktabs(df, tmp_path / "t.tex", caption="Results", label="tab:res")
    assert (tmp_path / "t.tex").read_text() == latex
    for token in (r"\toprule", r"\midrule", r"\bottomrule", r"\caption{Results}",
                  r"\label{tab:res}", r"model\_name", r"gain \%", "0.123"):
        assert token in latex
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv", "t.tex"]  # no temp files


def test_comparison_table_is_readable():
    rng = np.random.default_rng(0)
    b = rng.uniform(0, 1, 100)
    fam = compare_family({"A vs B": (b + 0.1, b + rng.normal(0, 0.01, 100))}, n_boot=200)
    table = comparison_table(fam)
    assert list(table.columns[:3]) == ["Comparison", "Users", "Difference [95% CI]"]
    assert "p (Holm)" in table.columns and table[""].iloc[0] == "***"
    assert table["W/T/L"].iloc[0].count("/") == 2


def test_long_table_is_split_over_pages_with_header_repeated():
    df = pd.DataFrame({"config": [f"model-{i}" for i in range(70)],
                       "Recall@20": np.linspace(0, 1, 70), "note": ["x " * 30] * 70})
    pages = table_pages(df, "Results", "A note.")
    assert len(pages) >= 3
    rows = [len(p.axes[0].tables[0].get_celld()) // 3 - 1 for p in pages]  # minus the header
    assert sum(rows) == 70
    assert "(continued, 2/" in pages[1].texts[0].get_text()


def test_no_continuation_page_holds_a_lone_row():
    one_page = len(table_pages(pd.DataFrame({"x": range(200)}), "Results")[0].axes[0].tables[0].get_celld()) - 1
    assert 10 < one_page < 200
    for n in (one_page + 1, one_page + 2, 2 * one_page + 1):  # one or two rows spill over
        pages = table_pages(pd.DataFrame({"x": range(n)}), "Results")
        rows = [len(p.axes[0].tables[0].get_celld()) - 1 for p in pages]
        assert sum(rows) == n and min(rows) >= 3, (n, rows)


def test_wide_table_shrinks_font_but_stays_readable():
    df = pd.DataFrame({f"column_{i}": [f"value-{i}-abcdefgh"] for i in range(16)})
    page = table_pages(df, "Wide")[0]
    cell = page.axes[0].tables[0].get_celld()[(1, 0)]
    assert 6 <= cell.get_text().get_fontsize() < 9


def test_table_without_columns_is_rejected():
    with pytest.raises(DataError, match="no columns"):
        table_pages(pd.DataFrame(index=[0, 1]), "Empty")


def test_headers_wrap_at_word_boundaries_and_fit_their_columns():
    """Headers of the real reports ('evaluable test users', the BH-corrected p column) used to
    break inside words ('evaluabl e', 'p (Benja mini-Hoc hberg)')."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    df = pd.DataFrame({"strategy": ["zeros"], "evaluable test users": [12], "p (Benjamini-Hochberg)": ["0.003"],
                       "p": ["0.01"], **{f"Recall@{k}": [0.1234] for k in (10, 20, 50)},
                       "multimodal_gain_relative_percent": [1.0]})
    page = table_pages(df, "Headers")[0]
    renderer = FigureCanvasAgg(page).get_renderer()
    page.draw(renderer)
    cells = page.axes[0].tables[0].get_celld()
    headers = [cells[(0, j)].get_text().get_text() for j in range(df.shape[1])]
    assert headers[1] == "evaluable\ntest\nusers" and headers[2] == "p\n(Benjamini-\nHochberg)"
    for header, column in zip(headers, df.columns):  # lines end at spaces or after hyphens only
        assert header.replace("-\n", "-").replace("\n", " ") == column
    for j in range(df.shape[1]):  # and every header fits its column
        cell = cells[(0, j)]
        assert cell.get_text().get_window_extent(renderer).width < cell.get_window_extent(renderer).width
