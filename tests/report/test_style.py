"""Report style: scoped rc settings and stable colours."""
import matplotlib as mpl

from mmstudy.report.style import PALETTE, colors_for, rc_params, report_style


def test_style_is_scoped_to_the_block():
    before = mpl.rcParams["axes.titlesize"], mpl.rcParams["pdf.fonttype"]
    with report_style():
        assert mpl.rcParams["pdf.fonttype"] == 42
        assert mpl.rcParams["font.size"] == rc_params()["font.size"]
    assert (mpl.rcParams["axes.titlesize"], mpl.rcParams["pdf.fonttype"]) == before


def test_colors_are_stable_and_cycle():
    colors = colors_for(["b", "a", "b", "c"])
    assert list(colors) == ["b", "a", "c"] and colors["b"] == PALETTE[0]
    many = colors_for(range(len(PALETTE) + 1))
    assert many[len(PALETTE)] == PALETTE[0]
