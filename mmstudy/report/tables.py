"""Tables: number formatting, significance marks, CSV / LaTeX (booktabs) export, PDF pages.

Significance marks on adjusted p-values: "***" p_adj < 0.001, "**" p_adj < 0.01,
"*" p_adj < 0.05, "" otherwise.
"""
from __future__ import annotations

import math
import os
import textwrap

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..errors import DataError
from ..hashing import atomic_path
from .style import A4_LANDSCAPE, FONT_SIZE, MARGIN, report_style

SIGNIFICANCE_LEVELS = ((0.001, "***"), (0.01, "**"), (0.05, "*"))
SIGNIFICANCE_NOTE = "* p_adj < 0.05, ** p_adj < 0.01, *** p_adj < 0.001"
CHAR_WIDTH_EM = 0.62  # average glyph width of DejaVu Sans digits/letters, in em
MAX_CELL_CHARS = 40  # wider cell text is wrapped onto several lines
BOLD_WIDTH = 1.1  # bold header glyphs are about 10% wider than the body's


def auto_decimals(low: float, high: float) -> int:
    """Decimals that resolve a CI of this width (about two significant digits of it)."""
    width = abs(high - low)
    if not np.isfinite(width) or width == 0:
        return 3
    return int(min(6, max(1, 1 - math.floor(math.log10(width)))))


def format_number(x: float, decimals: int = 3, signed: bool = False) -> str:
    """Fixed-point number; "n/a" for NaN; explicit "+" when `signed`."""
    if x is None or not np.isfinite(x):
        return "n/a" if x is None or np.isnan(x) else ("+inf" if x > 0 else "-inf")
    return f"{x:+.{decimals}f}" if signed else f"{x:.{decimals}f}"


def format_mean_ci(mean: float, low: float, high: float, decimals: int | None = None,
                   signed: bool = False) -> str:
    """"0.123 [0.110, 0.135]"; decimals follow the CI width unless given."""
    d = auto_decimals(low, high) if decimals is None else decimals
    return (f"{format_number(mean, d, signed)} "
            f"[{format_number(low, d, signed)}, {format_number(high, d, signed)}]")


def format_p(p: float) -> str:
    """p-value for text and tables: "<0.001", "0.003", "0.041", "0.41"."""
    if p is None or not np.isfinite(p):
        return "n/a"
    if p < 0.001:
        return "<0.001"
    return f"{p:.3f}" if p < 0.1 else f"{p:.2f}"


def significance_mark(p_adj):
    """"***" / "**" / "*" / "" for an adjusted p-value (scalar or pandas Series)."""
    if isinstance(p_adj, pd.Series):
        return p_adj.map(significance_mark)
    for bound, mark in SIGNIFICANCE_LEVELS:
        if p_adj is not None and p_adj < bound:
            return mark
    return ""


def comparison_table(df: pd.DataFrame) -> pd.DataFrame:
    """Readable version of a claim table (`stats.claims.claim_family`): one formatted row per
    comparison. Difference, CI, p and the mark follow the claim rule (the two-level test); the
    minimum detectable effect, the verdict and the user-level p stand beside them."""
    pct = [format_mean_ci(r.rel_change_pct, r.rel_ci_low, r.rel_ci_high, 1, True)
           for r in df.itertuples()]
    diff = [format_mean_ci(r.mean_diff, r.diff_ci_low, r.diff_ci_high, signed=True)
            for r in df.itertuples()]
    level = f"{100 * df['confidence'].iloc[0]:g}%" if len(df) else "95%"
    method = df["correction_label"].iloc[0] if len(df) else ""
    shown = pd.DataFrame({
        "Comparison": df["comparison"], "Users": df["n_users"],
        f"Difference [{level} CI]": diff, f"Change % [{level} CI]": pct,
        "d_z": df["cohens_dz"].map(lambda v: format_number(v, 2, True)),
        "W/T/L": [f"{r.wins}/{r.ties}/{r.losses}" for r in df.itertuples()],
        "p": df["pvalue"].map(format_p), f"p ({method})": df["p_adj"].map(format_p),
        "": significance_mark(df["p_adj"]),
    })
    if "verdict" in df:  # a claim table: power, verdict and the user-level test instead of W/T/L
        shown = shown.drop(columns="W/T/L")
        shown.insert(2, "Seeds", df["n_seeds"])
        shown["Detectable"] = df["mde"].map(lambda v: format_number(v, auto_decimals(0, v)))
        shown["Verdict"] = df["verdict"]
        shown[f"User-level p ({method})"] = df["user_p_adj"].map(format_p)
    return shown


def to_csv(df: pd.DataFrame, path: str | os.PathLike, index: bool = False) -> None:
    """Write `df` as CSV atomically."""
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=index)


def to_latex_booktabs(df: pd.DataFrame, path: str | os.PathLike | None, caption: str,
                      label: str, index: bool = False, float_format: str = "{:.3f}") -> str:
    """A booktabs LaTeX table (\\toprule/\\midrule/\\bottomrule, special characters escaped),
    written atomically to `path` when given; returns the LaTeX source."""
    latex = df.to_latex(index=index, caption=caption, label=label, escape=True,
                        float_format=float_format.format, position="htbp")
    if path is not None:
        with atomic_path(path) as tmp:
            tmp.write_text(latex)
    return latex


def _cell_text(value) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (float, np.floating)):
        return "–" if np.isnan(value) else f"{value:.4g}"
    return "" if value is None else str(value)


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width, break_long_words=True) or [""])


def _wrap_header(text: str, width: int) -> str:
    """A header wrapped at spaces and after hyphens, never inside a word: a word longer than
    `width` keeps a line of its own (its column is sized to fit it)."""
    return "\n".join(textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=True) or [""])


def _table_layout(df: pd.DataFrame, width_in: float) -> tuple[list[list[str]], list[str],
                                                              np.ndarray, float]:
    """Wrapped cell texts, headers, column width fractions and a font size that fits."""
    cells = [[_wrap(_cell_text(v), MAX_CELL_CHARS) for v in row] for row in
             df.itertuples(index=False)]
    body = [max([len(line) for r in cells for line in r[j].split("\n")] + [1])
            for j in range(df.shape[1])]
    headers = [_wrap_header(str(c), max(8, n)) for c, n in zip(df.columns, body)]
    chars = np.array([max(n, *(math.ceil(BOLD_WIDTH * len(line)) for line in h.split("\n"))) + 2
                      for n, h in zip(body, headers)], float)
    size = max(6.0, min(FONT_SIZE["base"] - 1, width_in * 72 / (chars.sum() * CHAR_WIDTH_EM)))
    return cells, headers, chars / chars.sum(), size


def _is_numeric_column(df: pd.DataFrame, col) -> bool:
    if pd.api.types.is_numeric_dtype(df[col]):
        return True
    text = df[col].astype(str)
    return bool(len(text)) and text.str.match(r"^\s*([-+<>]?\d|n/a|–|$)").all()


MIN_ROWS_PER_PAGE = 3


def _without_widow(chunks: list[list[int]]) -> list[list[int]]:
    """Move rows from the second-to-last page to the last so no continuation page holds fewer than
    `MIN_ROWS_PER_PAGE` rows (the last page had room, so the moved rows fit)."""
    if len(chunks) > 1 and len(chunks[-1]) < MIN_ROWS_PER_PAGE:
        move = min(MIN_ROWS_PER_PAGE - len(chunks[-1]), len(chunks[-2]) - MIN_ROWS_PER_PAGE)
        if move > 0:
            chunks[-2], chunks[-1] = chunks[-2][:-move], chunks[-2][-move:] + chunks[-1]
    return chunks


def table_pages(df: pd.DataFrame, title: str, note: str = "", *,
                page_size: tuple[float, float] = A4_LANDSCAPE,
                bottom_reserved: float = 0.45) -> list[Figure]:
    """Render `df` as one or more A4 pages (matplotlib Figures), splitting rows over pages.

    Long cell text is wrapped, the font shrinks (down to 6 pt) to fit wide tables, numbers are
    right-aligned and the header is repeated on every page. `bottom_reserved` inches are kept
    free for a page footer.
    """
    if df.shape[1] == 0:
        raise DataError(f"table {title!r} has no columns")
    w, h = page_size
    cells, headers, fractions, size = _table_layout(df, w - 2 * MARGIN)
    line_in = size * 1.5 / 72
    row_in = [line_in * (max(t.count("\n") for t in row) + 1) + 0.06 for row in cells]
    header_in = line_in * (max(t.count("\n") for t in headers) + 1) + 0.1
    note_lines = textwrap.wrap(note, int((w - 2 * MARGIN) * 72 / (FONT_SIZE["base"] * 0.55)))
    top, bottom = MARGIN + 0.55, MARGIN + bottom_reserved + len(note_lines) * 0.2
    chunks, current, used = [], [], header_in
    for i, height in enumerate(row_in):
        if current and used + height > h - top - bottom:
            chunks.append(current)
            current, used = [], header_in
        current.append(i)
        used += height
    chunks = _without_widow([*chunks, current])
    right = [_is_numeric_column(df, c) for c in df.columns]
    pages = []
    for n, rows in enumerate(chunks, 1):
        suffix = f" (continued, {n}/{len(chunks)})" if n > 1 else ""
        with report_style():
            fig = Figure(figsize=page_size)
            fig.text(MARGIN / w, 1 - MARGIN / h, title + suffix, va="top",
                     fontsize=FONT_SIZE["page_title"], fontweight="bold")
            _draw_table(fig, [cells[i] for i in rows], headers, fractions, right, size,
                        [row_in[i] for i in rows], header_in, top)
            for k, line in enumerate(note_lines):
                fig.text(MARGIN / w, (bottom - 0.2 * k - 0.15) / h, line, va="top",
                         fontsize=FONT_SIZE["base"], color="0.25")
        pages.append(fig)
    return pages


def _draw_table(fig: Figure, cells, headers, fractions, right, size, row_in, header_in,
                top) -> None:
    """Draw a booktabs-like table (rules above/below the header and at the end, zebra rows)."""
    w, h = fig.get_size_inches()
    table_h = header_in + sum(row_in)
    ax = fig.add_axes((MARGIN / w, 1 - (top + table_h) / h, 1 - 2 * MARGIN / w, table_h / h))
    ax.set_axis_off()
    table = ax.table(cellText=cells or None, colLabels=headers, colWidths=list(fractions),
                     loc="upper center", cellLoc="left")
    table.auto_set_font_size(False)
    table.set_fontsize(size)
    for (r, c), cell in table.get_celld().items():
        cell.set_height((header_in if r == 0 else row_in[r - 1]) / table_h)
        cell.set_edgecolor("0.2")
        cell.visible_edges = "BT" if r == 0 else ("B" if r == len(cells) else "")
        cell.set_facecolor("0.88" if r == 0 else ("0.96" if r % 2 == 0 else "white"))
        cell.get_text().set_horizontalalignment("right" if right[c] else "left")
        cell.PAD = 0.02
        if r == 0:
            cell.get_text().set_fontweight("bold")
