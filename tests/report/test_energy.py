"""Energy pages of every report: the accuracy-vs-energy figure and energy table when cells recorded
energy, one line why when none did, nothing when it was never asked for; `verify` rebuilds the
table from the manifests (a clean report verifies, an edited CSV is caught)."""
import json
import shutil

import pandas as pd
import pytest

from mmstudy.errors import DataError
from mmstudy.report.energy import energy_pages, energy_summary, shown_energy_table
from mmstudy.report.figures import accuracy_energy_plot
from mmstudy.report.study_report import build_report
from mmstudy.report.verify import verify
from mmstudy.study.results import StudyResults


@pytest.fixture
def study(tiny_energy_study, tmp_path):
    folder = tmp_path / "study"
    shutil.copytree(tiny_energy_study, folder)
    return folder


class RecordingReport:
    """The StudyReport calls energy_pages makes, recorded."""

    def __init__(self):
        self.calls = []

    def text(self, title, paragraphs):
        self.calls.append(("text", title, paragraphs))

    def figure(self, name, fig, caption="", title=""):
        self.calls.append(("figure", name, caption))

    def table(self, name, raw, title, shown=None, note=""):
        self.calls.append(("table", name, note))


def rewrite_energy(folder, block):
    for path in (folder / "cells").glob("*/result.json"):
        manifest = json.loads(path.read_text())
        manifest.pop("energy", None)
        if block is not None:
            manifest["energy"] = block
        path.write_text(json.dumps(manifest))


def test_the_report_has_the_figure_and_table_and_verifies(study):
    assert (study / "figures" / "accuracy-energy.png").stat().st_size > 10_000
    table = pd.read_csv(study / "tables" / "energy.csv")
    assert list(table["model"]) == ["BPR-MF", "VBPR"] and (table["kwh"] > 0).all()
    assert "\\toprule" in (study / "tables" / "energy.tex").read_text()
    problems, checked = verify(study)
    assert problems == [] and checked > 100


def test_verify_catches_an_edited_energy_table(study):
    path = study / "tables" / "energy.csv"
    table = pd.read_csv(path)
    table.loc[0, "kwh"] *= 0.5
    table.to_csv(path, index=False)
    problems, _ = verify(study)
    assert problems == ["table energy, row 0, column 'kwh': stored "
                        f"{table.loc[0, 'kwh']!r}, recomputed {table.loc[0, 'kwh'] * 2!r}"]


def test_the_pages_say_how_energy_was_measured(study):
    rep = RecordingReport()
    energy_pages(rep, StudyResults.load(study))
    (kind, name, caption), (kind2, name2, note) = rep.calls
    assert (kind, name, kind2, name2) == ("figure", "accuracy-energy", "table", "energy")
    assert "Measured with fake 0 (CPU: TDP estimate; process scope)" in caption
    assert "the world average" in note and "concurrently" not in note  # one job: no overlap


def test_the_summary_gives_the_study_footprint(study):
    results = StudyResults.load(study)
    kwh = sum(m.energy.kwh for m in results.manifests.values())
    training = sum(m.energy.phases["training"].kwh for m in results.manifests.values())
    (line,) = energy_summary(results)
    assert line.startswith(f"Energy: the 4 measured cells used {kwh * 1000:.3g} Wh ({kwh / 2 * 1000:.3g} g CO2eq); ")
    assert f"training {training / kwh:.0%}" in line


def test_unrecorded_energy_is_one_line_of_why(study):
    rewrite_energy(study, {"status": "unavailable", "reason": 'codecarbon is not installed (pip install "mmstudy[energy]")'})
    rep = RecordingReport()
    energy_pages(rep, StudyResults.load(study))
    assert energy_summary(StudyResults.load(study)) == []
    assert rep.calls == [("text", "Energy and carbon", [
        '4 cell(s) without energy: unavailable: codecarbon is not installed (pip install "mmstudy[energy]")'])]


def test_without_energy_blocks_the_report_has_no_energy_pages(study):
    rewrite_energy(study, None)
    for stale in [study / "tables" / "energy.csv", study / "figures" / "accuracy-energy.png"]:
        stale.unlink()
    rep = RecordingReport()
    energy_pages(rep, StudyResults.load(study))
    assert rep.calls == []
    build_report(study)
    assert not (study / "tables" / "energy.csv").exists() and not (study / "figures" / "accuracy-energy.png").exists()
    assert verify(study)[0] == []


def test_shown_table_uses_wh_and_grams():
    table = pd.DataFrame({"model": ["A"], "seeds": [3], "Recall@20": [0.12345], "kwh": [0.0021], "co2_kg": [0.001],
                          "seconds": [12.34], "kwh_training": [0.002]})
    shown = shown_energy_table(table, ["model"])
    assert shown.iloc[0].to_dict() == {"model": "A", "seeds": 3, "Recall@20": "0.1235", "Wh": "2.1",
                                       "g CO2eq": "1", "seconds": "12.3", "Wh training": "2"}


def test_accuracy_energy_plot_needs_its_columns():
    with pytest.raises(DataError, match=r"lacks columns \['kwh'\]"):
        accuracy_energy_plot(pd.DataFrame({"model": ["A"], "Recall@20": [0.1]}), "Recall@20")
    fig = accuracy_energy_plot(pd.DataFrame({"model": ["A", "B"], "Recall@20": [0.1, 0.2], "kwh": [1e-4, 1e-2]}),
                               "Recall@20")
    assert fig.axes[0].get_xscale() == "log"  # energies 100x apart
