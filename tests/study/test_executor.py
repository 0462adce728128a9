"""One cell end to end: selection on validation, one test evaluation, manifest contents."""
import numpy as np
import pytest
import torch

from tiny_study import TINY_DATA
from mmstudy.study.cell import Cell
from mmstudy.study import executor
from mmstudy.study.executor import run_cell
from mmstudy.study.workspace import Workspace, grid_points


@pytest.fixture(autouse=True)
def one_thread():
    torch.set_num_threads(1)


def cell(**over):
    spec = {"data": TINY_DATA, "model": "VBPR", "train": {"epochs": 2, "patience": 2, "lr": 0.01}}
    spec.update(over)
    return Cell.from_dict(spec)


def test_grid_points_cartesian_product():
    assert grid_points({}) == [{}]
    assert grid_points({"b": [1, 2], "a": [3]}) == [{"a": 3, "b": 1}, {"a": 3, "b": 2}]


def test_run_cell_manifest_records_selection_and_one_test(monkeypatch):
    calls = []
    real = executor.evaluate

    def spy(scorer, split, part="valid", **kw):
        calls.append(part)
        return real(scorer, split, part, **kw)

    monkeypatch.setattr(executor, "evaluate", spy)
    out = run_cell(cell(grid={"reg_weight": [1e-4, 1e-2]}), Workspace())
    m = out.manifest
    assert calls.count("test") == 1 and m.test.evaluations == 1
    trials = m.selection.trials
    assert len(trials) == 2 and m.selection.on == "valid"
    best = max(trials, key=lambda t: t.valid)
    assert m.selection.selected_params["reg_weight"] == best.params["reg_weight"]
    assert m.test.protocol == "full-ranking"
    assert set(out.per_user.columns) >= {"Recall@20", "nDCG@20", "MRR@10"}
    assert len(out.per_user) == m.test.users
    assert m.split.train_checksum and m.dataset.fingerprint
    assert m.environment.packages and m.environment.hardware["device"] == "cpu"
    assert m.schema_version == 2 and type(m).from_dict(m.to_dict()) == m


def test_same_cell_is_deterministic_on_cpu():
    ws = Workspace()
    a = run_cell(cell(), ws).per_user
    b = run_cell(cell(), ws).per_user
    np.testing.assert_array_equal(a.to_numpy(), b.to_numpy())


def test_imputer_grid_is_selected_on_validation_and_recorded():
    out = run_cell(cell(missing={"setting": "same", "rate": 0.5, "strategy": "propagation",
                                 "grid": {"hops": [1, 2]}, "graph_k": 5}), Workspace())
    sel = out.manifest.selection
    assert [t.imputer_params for t in sel.trials] == [{"hops": 1}, {"hops": 2}]
    assert sel.selected_imputer_params == max(sel.trials, key=lambda t: t.valid).imputer_params
    graph = out.manifest.missing.graph
    assert graph.built_from == "train" and graph.train_checksum == out.manifest.split.train_checksum
    assert set(out.manifest.missing.homophily) == {"image", "text"}


def test_common_view_is_scored_for_imputed_cells():
    out = run_cell(cell(missing={"setting": "same", "rate": 0.5, "strategy": "zeros", "common_items": True}),
                   Workspace())
    common = out.tables["per_user_common"]
    assert 0 < len(common) <= len(out.per_user)


def test_cf_model_ignores_modalities_but_dropped_removes_items():
    out = run_cell(cell(model="BPR-MF", missing={"setting": "same", "rate": 0.5, "strategy": "dropped"}),
                   Workspace())
    lost = out.manifest.missing.dropped
    assert lost["items_lost"] > 0 and lost["train_interactions_lost"] > 0
    assert out.manifest.features == {} or all(f.dim > 0 for f in out.manifest.features.values())


@pytest.mark.parametrize("fusion, common", [({}, True), ({"point": "late", "grid_step": 0.5}, False)])
def test_the_evaluation_memory_budget_reaches_every_evaluation(monkeypatch, fusion, common):
    """train.eval_memory_mb bounds the validation passes (early stopping, late-fusion weights),
    the test pass and its views (common items, head, tail): every ranking of the cell uses it."""
    import mmstudy.evaluation as evaluation

    seen, real = [], evaluation.rank_topk

    def spy(scorer, split, part, *args, memory_budget_mb=512, **kwargs):
        seen.append((part, memory_budget_mb))
        return real(scorer, split, part, *args, memory_budget_mb=memory_budget_mb, **kwargs)

    monkeypatch.setattr(evaluation, "rank_topk", spy)
    model = "LightGCN-Fusion" if fusion else "VBPR"
    missing = {"setting": "same", "rate": 0.5, "strategy": "zeros", "common_items": True} if common else {}
    out = run_cell(cell(model=model, train={"epochs": 2, "eval_memory_mb": 0.01}, fusion=fusion, missing=missing),
                   Workspace())
    assert {budget for _, budget in seen} == {0.01}
    parts = [part for part, _ in seen]
    assert parts.count("test") == 1 + 3 * common and parts.count("valid") >= 2 + (6 if fusion else 0)
    assert out.manifest.cell.train["eval_memory_mb"] == 0.01 and out.manifest.test.users == len(out.per_user)
