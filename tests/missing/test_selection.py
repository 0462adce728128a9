"""Imputer settings chosen by reconstructing hidden observed rows: no masked row, no cold item and
no test data enters the choice, and the recommender then trains once instead of once per setting."""
import numpy as np
import pytest

from mmstudy.data import load_dataset, make_split
from mmstudy.missing.handling import mask_for
from mmstudy.missing.masking import apply_mask
from mmstudy.missing.selection import choose_by_reconstruction, holdout_rows
from mmstudy.study import executor
from mmstudy.study.cell import Cell, DataConfig, MissingConfig
from mmstudy.study.workspace import Workspace

OPTIONS = {"n_users": 200, "n_items": 150, "n_interactions": 3000}


@pytest.fixture(scope="module")
def data():
    dataset = load_dataset("synthetic", **OPTIONS)
    return dataset, make_split(dataset, method="random")


def test_hidden_rows_are_observed_warm_rows_only(data):
    dataset, split = data
    cfg = MissingConfig(setting="same", rate=0.5, strategy="propagation")
    masked = apply_mask(dataset.modalities, mask_for(dataset.modalities, cfg))
    rows = holdout_rows(masked, split, seed=0)
    warm = np.diff(split.train.tocsc().indptr) > 0
    for name, picked in rows.items():
        assert len(picked) == round(0.1 * np.count_nonzero(masked[name].present & warm))
        assert masked[name].present[picked].all() and warm[picked].all()  # never a masked or cold row
    assert all(np.array_equal(rows[n], r) for n, r in holdout_rows(masked, split, seed=0).items())


def test_the_best_reconstruction_wins_and_every_setting_is_scored(data):
    dataset, split = data
    cfg = MissingConfig(setting="same", rate=0.5, strategy="propagation", graph_k=10)
    points = [{"hops": 1}, {"hops": 3}, {"hops": 10}]
    chosen, scores = choose_by_reconstruction(dataset.modalities, split, cfg, points)
    assert [s["params"] for s in scores] == points and all(-1 <= s["cosine"] <= 1 for s in scores)
    assert chosen == points[int(np.argmax([s["cosine"] for s in scores]))]
    zeros, _ = choose_by_reconstruction(dataset.modalities, split, MissingConfig(setting="same", rate=0.5), [{}])
    assert zeros == {}


def test_reconstruction_selection_trains_the_recommender_once(monkeypatch):
    fits = []
    real = executor.ModelTrainer.train
    monkeypatch.setattr(executor.ModelTrainer, "train", lambda self, *a: fits.append(1) or real(self, *a))
    miss = dict(setting="same", rate=0.5, strategy="propagation", grid={"hops": [1, 2, 4]}, graph_k=10)
    cell = Cell(data=DataConfig(name="synthetic", options=OPTIONS), model="VBPR", train={"epochs": 2})
    ws = Workspace()
    by_reconstruction = executor.run_cell(cell.with_(missing=MissingConfig(**miss, select="reconstruction")), ws)
    assert len(fits) == 1
    record = by_reconstruction.manifest.missing.imputer_selection
    assert [s["params"] for s in record["scores"]] == [{"hops": 1}, {"hops": 2}, {"hops": 4}]
    assert by_reconstruction.manifest.selection.selected_imputer_params == record["chosen"]
    executor.run_cell(cell.with_(missing=MissingConfig(**miss)), ws)  # retrain: one training per setting
    assert len(fits) == 4
    assert cell.with_(missing=MissingConfig(**miss)).fingerprint != by_reconstruction.manifest.cell.fingerprint


def test_reconstruction_selection_hides_rows_under_the_cells_own_mechanism(data):
    dataset, split = data
    cfg = MissingConfig(setting="same", rate=0.5, strategy="propagation", graph_k=10, mechanism="popularity",
                        strength=2)
    chosen, scores = choose_by_reconstruction(dataset.modalities, split, cfg, [{"hops": 1}, {"hops": 2}])
    assert len(scores) == 2 and chosen in ({"hops": 1}, {"hops": 2})
    masked = apply_mask(dataset.modalities, mask_for(dataset.modalities, cfg, split))
    mcar = apply_mask(dataset.modalities, mask_for(dataset.modalities, MissingConfig(setting="same", rate=0.5), split))
    assert not np.array_equal(masked["image"].present, mcar["image"].present)  # the mechanism's mask, not mcar's
