"""Late-fusion cells: the component plan, and a late cell run by the one executor (weights chosen on
validation, test scored once, components reused across cells of one process)."""
import pytest

from mmstudy.errors import ConfigError
from mmstudy.study.cell import Cell, DataConfig
from mmstudy.study.executor import run_cell
from mmstudy.study.late_fusion import component_plan
from mmstudy.study.workspace import Workspace


def test_component_plan_is_the_id_model_plus_one_model_per_modality():
    plan = component_plan("MF-Fusion", {"embedding_size": 8, "operator": "concat"}, True, ["image", "text"])
    assert [(c.label, c.model, c.modalities) for c in plan] == [
        ("id", "BPR-MF", ()), ("image", "MF-Fusion", ("image",)), ("text", "MF-Fusion", ("text",))]
    assert plan[0].params == {"embedding_size": 8} and plan[1].params["id_embedding"] is False
    assert component_plan("VBPR", {}, False, ["text"])[1].params == {}
    with pytest.raises(ConfigError, match="no 'id_embedding' switch"):
        component_plan("VBPR", {}, True, ["text"])
    with pytest.raises(ConfigError, match="ID-only counterpart"):
        component_plan("BPR-MF", {}, False, ["text"])


SMALL = DataConfig(name="synthetic", options={"n_users": 120, "n_items": 90, "n_interactions": 1800})


def test_a_late_cell_selects_on_validation_scores_test_once_and_reuses_components():
    ws = Workspace()
    cell = Cell(data=SMALL, model="LightGCN-Fusion", params={"embedding_size": 8}, train={"epochs": 2},
                fusion={"point": "late", "method": "normsum", "grid_step": 0.5})
    out = run_cell(cell, ws)
    m = out.manifest
    trials = m.selection.trials
    assert len(trials) == 6 and all("test" not in t.to_dict() for t in trials)
    best = max(trials, key=lambda t: t.valid)
    assert m.selection.selected_fusion_weights == best.fusion_weights
    assert m.test.evaluations == 1 and len(out.per_user) == m.test.users
    assert [c["label"] for c in m.fusion.components] == ["id", "image", "text"]
    assert m.n_parameters == sum(c["n_parameters"] for c in m.fusion.components)
    assert m.selection.best_epoch == {c["label"]: c["best_epoch"] for c in m.fusion.components}
    assert set(out.tables["valid_curve"]["component"]) == {"id", "image", "text"}
    rrf = run_cell(cell.with_(fusion={"point": "late", "method": "rrf", "grid_step": None}), ws)
    assert all(c["reused"] for c in rrf.manifest.fusion.components)
    assert len(rrf.manifest.selection.trials) == 1
