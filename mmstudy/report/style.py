"""One report style: white grid, colour-blind-safe palette, readable fonts, A4 page sizes."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterable, Iterator

import matplotlib as mpl
import seaborn as sns

A4_LANDSCAPE = (11.69, 8.27)  # inches
A4_PORTRAIT = (8.27, 11.69)
FIGURE_SIZE = (10.0, 6.0)  # default for figures that will be placed on an A4 landscape page
MARGIN = 0.6  # page margin, inches

FONT_SIZE = {"small": 8, "base": 10, "label": 11, "title": 13, "page_title": 16, "cover": 22}
PALETTE = sns.color_palette("colorblind")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">")
LINESTYLES = ("-", "--", "-.", ":")
PASS_COLOR, FAIL_COLOR = PALETTE[2], PALETTE[3]  # green / vermillion in "colorblind"
SIGNIFICANT_COLOR, NEUTRAL_COLOR = PALETTE[0], "0.45"


def rc_params() -> dict:
    """Matplotlib rc settings of the report style (seaborn "whitegrid" + font sizes)."""
    rc = dict(sns.axes_style("whitegrid"))
    rc.update({
        "font.size": FONT_SIZE["base"], "axes.titlesize": FONT_SIZE["title"],
        "axes.labelsize": FONT_SIZE["label"], "xtick.labelsize": FONT_SIZE["base"],
        "ytick.labelsize": FONT_SIZE["base"], "legend.fontsize": FONT_SIZE["base"],
        "legend.title_fontsize": FONT_SIZE["base"], "figure.titlesize": FONT_SIZE["page_title"],
        "axes.prop_cycle": mpl.cycler(color=PALETTE), "lines.linewidth": 1.8,
        "figure.dpi": 100, "savefig.dpi": 200, "pdf.fonttype": 42, "ps.fonttype": 42,
        "svg.fonttype": "none",
    })
    return rc


@contextmanager
def report_style() -> Iterator[None]:
    """Apply the report style inside the block only (no global state is changed)."""
    with mpl.rc_context(rc_params()):
        yield


def colors_for(labels: Iterable) -> dict:
    """A stable label -> colour mapping (palette order, cycling beyond 10 labels)."""
    return {label: PALETTE[i % len(PALETTE)] for i, label in enumerate(dict.fromkeys(labels))}
