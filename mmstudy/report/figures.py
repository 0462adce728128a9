"""Reusable report figures (matplotlib Figures in the report style, no pyplot state)."""
from __future__ import annotations

import os
from typing import Sequence

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from ..errors import ConfigError, DataError
from ..hashing import atomic_path
from ..stats.seeds import grouped_mean_ci
from .style import (FIGURE_SIZE, FONT_SIZE, LINESTYLES, MARKERS, NEUTRAL_COLOR,
                    SIGNIFICANT_COLOR, colors_for, report_style)
from .tables import format_mean_ci, significance_mark


def _require(df: pd.DataFrame, *columns) -> None:
    missing = [c for c in columns if c is not None and c not in df.columns]
    if missing:
        raise DataError(f"figure data lacks columns {missing}; has {list(df.columns)}")
    if df.empty:
        raise DataError("figure data is empty")


def _new_figure(figsize) -> tuple[Figure, object]:
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def _rotate_long_xticks(ax, labels) -> None:
    """Slant x tick labels when any is long, so neighbours do not overlap."""
    if max((len(str(t)) for t in labels), default=0) > 10:
        ax.tick_params(axis="x", rotation=30)
        for t in ax.get_xticklabels():
            t.set_horizontalalignment("right")


def _finish(fig: Figure, ax, title: str, xlabel: str | None, ylabel: str | None) -> Figure:
    if title:
        ax.set_title(title, loc="left", fontweight="bold")
    if xlabel is not None:
        ax.set_xlabel(xlabel)
    if ylabel is not None:
        ax.set_ylabel(ylabel)
    return fig


def robustness_curve(df: pd.DataFrame, x: str = "rate", y: str = "Recall@20",
                     hue: str = "strategy", *, ci: tuple[str, str] | None = None,
                     seed: str | None = None, confidence: float = 0.95, title: str = "",
                     xlabel: str | None = None, ylabel: str | None = None,
                     x_percent: bool = False, figsize=FIGURE_SIZE, side: Sequence[str] = (),
                     side_title: str = "") -> Figure:
    """Metric `y` against `x` (e.g. missing rate), one line per `hue`, with a CI band.

    Either `ci` = (low column, high column) holds precomputed bounds, or `seed` names a seed
    column with one row per (hue, x, seed): the line is the across-seed mean and the band its
    t-based CI. Without either, one row per (hue, x) is required and no band is drawn. The `side`
    hue values get a panel of their own on the right, with its own y axis (e.g. `dropped`, scored
    on its own smaller catalogue, never on one axis with the others).
    """
    if ci is not None and seed is not None:
        raise ConfigError("pass either ci=(low, high) columns or seed=column, not both")
    _require(df, x, y, hue, seed, *(ci or ()))
    if seed is not None:
        data = grouped_mean_ci(df, [hue, x], y, confidence).rename(columns={"mean": y})
        low, high = "ci_low", "ci_high"
    else:
        if df.duplicated([hue, x]).any():
            raise DataError(f"several rows per ({hue}, {x}); pass seed= to average over seeds")
        data, (low, high) = df, (ci or (None, None))
    colors = colors_for(df[hue])  # input order, shared by both panels
    aside = data[hue].isin(side)
    with report_style():
        fig = Figure(figsize=figsize, layout="constrained")
        axes = fig.subplots(1, 2, width_ratios=(2.2, 1)) if aside.any() else [fig.add_subplot()]
        for ax, part in zip(axes, (data[~aside], data[aside])):
            _curves(ax, part, x, y, hue, low, high, colors, x_percent)
            ax.set_xlabel(x if xlabel is None else xlabel)
            ax.set_ylabel(y if ylabel is None else ylabel)
        band = f"; bands: {confidence:.0%} CI over seeds" if seed else ("; bands: CI" if ci else "")
        axes[0].legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), title=f"{hue}{band}")
        if aside.any():
            axes[1].legend(loc="best")
            axes[1].set_title(side_title, loc="left")
        return _finish(fig, axes[0], title, None, None)


def _curves(ax, data: pd.DataFrame, x: str, y: str, hue: str, low: str | None, high: str | None,
            colors: dict, x_percent: bool) -> None:
    """One line (and CI band) per `hue` value present in `data`, in the colours' order."""
    for i, (name, color) in enumerate(colors.items()):
        part = data[data[hue] == name].sort_values(x)
        if part.empty:
            continue
        ax.plot(part[x], part[y], color=color, marker=MARKERS[i % len(MARKERS)],
                linestyle=LINESTYLES[i % len(LINESTYLES)], label=str(name))
        if low is not None:
            ax.fill_between(part[x], part[low], part[high], color=color, alpha=0.18, linewidth=0)
    if x_percent:
        ax.xaxis.set_major_formatter(PercentFormatter(xmax=1))


def paired_difference_plot(df: pd.DataFrame, *, label: str = "comparison",
                           mean: str = "mean_diff", low: str = "diff_ci_low",
                           high: str = "diff_ci_high", significant: str = "significant",
                           p_adj: str | None = "p_adj", title: str = "",
                           xlabel: str = "Difference (candidate − baseline)",
                           figsize=None) -> Figure:
    """Forest plot of paired differences with CIs; significant rows are filled and starred.

    Defaults match the columns of `stats.compare_family`. Each row is annotated with the
    difference, its CI and the significance mark of `p_adj` (if that column exists).
    """
    _require(df, label, mean, low, high, significant)
    n = len(df)
    y = np.arange(n)[::-1]
    with report_style():
        fig, ax = _new_figure(figsize or (FIGURE_SIZE[0], max(3.0, 1.2 + 0.45 * n)))
        sig = df[significant].to_numpy(bool)
        for mask, color, face in ((sig, SIGNIFICANT_COLOR, SIGNIFICANT_COLOR),
                                  (~sig, NEUTRAL_COLOR, "white")):
            ax.errorbar(df[mean][mask], y[mask], xerr=[df[mean][mask] - df[low][mask],
                                                       df[high][mask] - df[mean][mask]],
                        fmt="o", color=color, markerfacecolor=face, capsize=3, markersize=7,
                        linewidth=1.6, label="significant" if face != "white" else
                        "not significant")
        ax.axvline(0, color="0.2", linewidth=1)
        ax.set_yticks(y, df[label].astype(str))
        ax.set_ylim(-0.7, n - 0.3)
        marks = significance_mark(df[p_adj]) if p_adj in df.columns else df[significant].map(
            {True: "*", False: ""})
        for yi, row, mark in zip(y, df.itertuples(index=False), marks):
            text = format_mean_ci(getattr(row, mean), getattr(row, low), getattr(row, high),
                                  signed=True)
            ax.annotate(f"{text} {mark}".rstrip(), (1.01, yi), xycoords=("axes fraction", "data"),
                        va="center", fontsize=FONT_SIZE["base"])
        ax.legend(loc="best", frameon=True, framealpha=0.9, fontsize=FONT_SIZE["small"])
        ax.grid(axis="y", visible=False)
        return _finish(fig, ax, title, xlabel, None)


def bar_with_ci(df: pd.DataFrame, x: str, y: str, *, low: str | None = None,
                high: str | None = None, hue: str | None = None, title: str = "",
                xlabel: str | None = None, ylabel: str | None = None,
                figsize=FIGURE_SIZE) -> Figure:
    """Bars of `y` per `x` category (grouped by `hue`), with asymmetric CI error bars."""
    if (low is None) != (high is None):
        raise ConfigError("pass both low= and high= CI columns, or neither")
    _require(df, x, y, low, high, hue)
    cats = list(dict.fromkeys(df[x]))
    groups = list(dict.fromkeys(df[hue])) if hue else [None]
    width = 0.8 / len(groups)
    with report_style():
        fig, ax = _new_figure(figsize)
        colors = colors_for(groups)
        for g, group in enumerate(groups):
            part = (df[df[hue] == group] if hue else df).set_index(x).reindex(cats)
            pos = np.arange(len(cats)) - 0.4 + width * (g + 0.5)
            err = None if low is None else [part[y] - part[low], part[high] - part[y]]
            ax.bar(pos, part[y], width * 0.92, yerr=err, capsize=3, color=colors[group],
                   label=None if group is None else str(group), error_kw={"linewidth": 1.2})
        ax.set_xticks(np.arange(len(cats)), [str(c) for c in cats])
        _rotate_long_xticks(ax, cats)
        ax.grid(axis="x", visible=False)
        if hue:
            ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), title=hue)
        return _finish(fig, ax, title, x if xlabel is None else xlabel,
                       y if ylabel is None else ylabel)


def accuracy_energy_plot(table: pd.DataFrame, metric: str, *, hue: str = "model", title: str = "",
                         figsize=FIGURE_SIZE) -> Figure:
    """`metric` against kWh, one point per configuration (row of `energy_table`), one colour per
    `hue`; a log energy axis when the energies span more than a factor of 20."""
    _require(table, metric, "kwh", hue)
    with report_style():
        fig, ax = _new_figure(figsize)
        for i, (name, color) in enumerate(colors_for(table[hue]).items()):
            part = table[table[hue] == name]
            ax.scatter(part["kwh"] * 1000, part[metric], color=color, marker=MARKERS[i % len(MARKERS)],
                       s=40, label=str(name), alpha=0.85)
        positive = table["kwh"][table["kwh"] > 0]
        if len(positive) and positive.max() > 20 * positive.min():
            ax.set_xscale("log")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), title=hue)
        return _finish(fig, ax, title, "energy per cell (Wh, mean over seeds)", f"{metric} (mean over seeds)")


def critical_difference_diagram(avg_ranks: pd.Series, cd: float | None = None,
                                cliques: Sequence[Sequence[str]] = (), *, title: str = "",
                                figsize=None) -> Figure:
    """Demsar-style critical-difference diagram: average ranks (1 = best) on an axis, names
    on both sides, thick bars joining groups not significantly different (`cliques`) and a
    bar of length `cd` (Nemenyi critical difference) when given."""
    if len(avg_ranks) < 2:
        raise DataError("a critical-difference diagram needs at least 2 configurations")
    ranks = avg_ranks.sort_values()
    k, names = len(ranks), list(ranks.index)
    half = (k + 1) // 2
    with report_style():
        fig, ax = _new_figure(figsize or (FIGURE_SIZE[0], 1.6 + 0.32 * (half + len(cliques))))
        ax.set_axis_off()
        ax.hlines(0, 1, k, color="0.1", linewidth=1.2)
        for r in range(1, k + 1):
            ax.vlines(r, 0, 0.12, color="0.1", linewidth=1)
            ax.text(r, 0.18, str(r), ha="center", va="bottom", fontsize=FONT_SIZE["base"])
        if cd is not None:
            ax.hlines(0.75, 1, 1 + cd, color="0.1", linewidth=1.6)
            ax.vlines([1, 1 + cd], 0.68, 0.82, color="0.1", linewidth=1.2)
            ax.text(1 + cd / 2, 0.86, f"CD = {cd:.2f}", ha="center", va="bottom",
                    fontsize=FONT_SIZE["base"])
        for i, group in enumerate(cliques):
            lo, hi = ranks[list(group)].min(), ranks[list(group)].max()
            ax.hlines(-0.22 - 0.18 * i, lo - 0.03, hi + 0.03, color="0.1", linewidth=4)
        top = -0.45 - 0.18 * len(cliques)
        for j, name in enumerate(names):
            side_left = j < half
            row = j if side_left else k - 1 - j
            yv, rank = top - 0.32 * row, ranks[name]
            xend = 0.6 if side_left else k + 0.4
            ax.plot([rank, rank, xend], [0, yv, yv], color="0.35", linewidth=1)
            ax.text(xend + (-0.05 if side_left else 0.05), yv, f"{name} ({rank:.2f})",
                    ha="right" if side_left else "left", va="center",
                    fontsize=FONT_SIZE["label"])
        ax.set_xlim(0.6, k + 0.4)
        ax.set_ylim(top - 0.32 * (half - 1) - 0.2, 1.1)
        return _finish(fig, ax, title, None, None)


def heatmap(matrix: pd.DataFrame, *, title: str = "", fmt: str = ".3f",
            cmap: str | None = None, center: float | None = None, cbar_label: str = "",
            annot: bool = True, xlabel: str | None = None, ylabel: str | None = None,
            figsize=FIGURE_SIZE) -> Figure:
    """Annotated heatmap of a numeric matrix (sequential "cividis", or diverging "vlag"
    around `center`)."""
    if matrix.empty:
        raise DataError("heatmap matrix is empty")
    cmap = cmap or ("vlag" if center is not None else "cividis")
    with report_style():
        fig, ax = _new_figure(figsize)
        sns.heatmap(matrix.astype(float), ax=ax, annot=annot and matrix.size <= 400, fmt=fmt,
                    cmap=cmap, center=center, linewidths=0.5, linecolor="white",
                    cbar_kws={"label": cbar_label}, annot_kws={"fontsize": FONT_SIZE["base"]})
        ax.tick_params(axis="y", rotation=0)
        _rotate_long_xticks(ax, matrix.columns)
        return _finish(fig, ax, title, xlabel, ylabel)


def difference_heatmaps(panels: Sequence[tuple[str, pd.DataFrame, pd.DataFrame]], *, cbar_label: str = "",
                        title: str = "", ncols: int = 2, figsize=FIGURE_SIZE) -> Figure:
    """Several annotated difference matrices on one shared diverging scale centred at 0.

    Each panel is (title, values, significant): `values` a numeric matrix (e.g. strategies x
    rates), `significant` a boolean one of the same shape; significant cells read "+0.012 *".
    """
    if not panels:
        raise DataError("no heatmap panels")
    limit = max(float(np.nanmax(np.abs(v.to_numpy(dtype=float)))) for _, v, _ in panels if v.size) or 1.0
    rows = -(-len(panels) // ncols)
    with report_style():
        fig = Figure(figsize=figsize, layout="constrained")
        axes = np.atleast_1d(fig.subplots(rows, min(ncols, len(panels)), squeeze=False)).ravel()
        for ax, (name, values, marks) in zip(axes, panels):
            text = values.map(lambda v: "" if pd.isna(v) else f"{v:+.3f}") + marks.map(lambda m: " *" if m else "")
            sns.heatmap(values.astype(float), ax=ax, annot=text.to_numpy(), fmt="", cmap="vlag", center=0,
                        vmin=-limit, vmax=limit, linewidths=0.5, linecolor="white", cbar=False,
                        annot_kws={"fontsize": FONT_SIZE["base"] - 1})
            ax.set_title(name, loc="left", fontsize=FONT_SIZE["base"])
            ax.set_xlabel("")
            ax.set_ylabel("")
            ax.tick_params(axis="y", rotation=0)
        for ax in axes[len(panels):]:
            ax.set_visible(False)
        fig.colorbar(axes[0].collections[0], ax=list(axes[:len(panels)]), label=cbar_label, shrink=0.8)
        if title:
            fig.suptitle(title, x=0.01, ha="left", fontweight="bold")
        return fig


def save_figure(fig: Figure, path: str | os.PathLike, dpi: int = 200) -> None:
    """Save `fig` atomically; the format follows the file suffix (.png, .pdf, .svg)."""
    fmt = os.fspath(path).rsplit(".", 1)[-1].lower()
    if fmt not in ("png", "pdf", "svg", "jpg", "jpeg"):
        raise ConfigError(f"unsupported figure format {fmt!r} for {path}")
    with report_style(), atomic_path(path) as tmp:
        fig.savefig(tmp, format=fmt, dpi=dpi, facecolor="white")
