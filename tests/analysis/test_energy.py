"""The energy table: recorded energy per configuration, averaged over the seeds that recorded it."""
import json
import shutil

import pytest

from mmstudy.analysis.energy import configuration_keys, energy_cells, energy_status, energy_table
from mmstudy.study.results import StudyResults


@pytest.fixture
def results(tiny_energy_study, tmp_path):
    folder = tmp_path / "study"
    shutil.copytree(tiny_energy_study, folder)
    return folder


def set_energy(folder, fingerprint, block):
    """Replace one cell's energy block in its result.json (as an older or failed run would have it)."""
    path = folder / "cells" / fingerprint / "result.json"
    manifest = json.loads(path.read_text())
    if block is None:
        del manifest["energy"]
    else:
        manifest["energy"] = block
    path.write_text(json.dumps(manifest))


def test_one_row_per_configuration_with_the_means_over_seeds(tiny_energy_study):
    res = StudyResults.load(tiny_energy_study)
    table = energy_table(res, "Recall@20")
    assert configuration_keys(res) == ["model"]
    assert list(table.columns) == ["model", "seeds", "Recall@20", "kwh", "co2_kg", "seconds", "kwh_data",
                                   "kwh_training", "kwh_test"]  # no extraction ran: no column for it
    assert list(table["model"]) == ["BPR-MF", "VBPR"] and list(table["seeds"]) == [2, 2]
    cells = res.cells.assign(kwh=[res.manifests[fp].energy.kwh for fp in res.cells["fingerprint"]])
    means = cells.groupby("model")[["kwh", "Recall@20"]].mean()
    for _, row in table.iterrows():
        assert row["kwh"] == pytest.approx(means.loc[row["model"], "kwh"]) and row["kwh"] > 0
        assert row["Recall@20"] == pytest.approx(means.loc[row["model"], "Recall@20"])
        assert row["co2_kg"] == pytest.approx(row["kwh"] / 2)  # the fake's grid: 0.5 kg per kWh
        assert row["kwh"] == pytest.approx(row["kwh_data"] + row["kwh_training"] + row["kwh_test"])


def test_cells_without_recorded_energy_are_left_out_and_counted(results):
    res = StudyResults.load(results)
    first, second = list(res.manifests)[:2]
    set_energy(results, first, {"status": "unavailable", "reason": "codecarbon is not installed"})
    set_energy(results, second, None)  # written before energy was measured
    res = StudyResults.load(results)
    assert len(energy_cells(res)) == 2
    assert energy_table(res)["seeds"].sum() == 2
    assert energy_status(res) == {"unavailable: codecarbon is not installed": 1}


def test_no_recorded_energy_gives_an_empty_table(results):
    for fp in StudyResults.load(results).manifests:
        set_energy(results, fp, {"status": "off", "reason": "turned off"})
    res = StudyResults.load(results)
    assert energy_table(res, "Recall@20").empty and energy_status(res) == {"off: turned off": 4}
