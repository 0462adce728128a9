"""The fusion backbones (MF-Fusion, LightGCN-Fusion): structure, bad parameters, learning, and how
the pipeline passes early / intermediate fusion to them."""
import pytest
import torch

from learning_problem import popularity_recall, synthetic_problem
from mmstudy.data.split import Split
from mmstudy.errors import ConfigError
from mmstudy.evaluation import evaluate_metric
from mmstudy.models import ModelInput, make_model
from mmstudy.study.cell import Cell, DataConfig
from mmstudy.study.executor import run_cell
from mmstudy.study.workspace import Workspace
from mmstudy.training import fit

BACKBONES = ["MF-Fusion", "LightGCN-Fusion"]


@pytest.fixture(scope="module")
def problem() -> tuple[ModelInput, Split]:
    return synthetic_problem()


@pytest.mark.parametrize("name", BACKBONES)
@pytest.mark.parametrize("params", [
    {"representation": "joint"},
    {"representation": "coordinated", "operator": "attention", "align_weight": 0.1},
    {"representation": "coordinated", "operator": "sum"},
    {"representation": "coordinated", "operator": "mean", "id_embedding": False},
], ids=["joint", "coord-attention-aligned", "coord-sum", "content-only"])
def test_fusion_backbones_learn(name, params, problem):
    data, split = problem
    model = make_model(name, data, embedding_size=32, **params)
    fit(model, split, epochs=25, batch_size=512, lr=0.01, patience=5, progress=False)
    assert evaluate_metric(model, split, "Recall@20", "test") > 1.05 * popularity_recall(split)


@pytest.mark.parametrize("name", BACKBONES)
def test_content_only_models_have_no_item_ids(name, tiny):
    full = make_model(name, tiny, embedding_size=8)
    content = make_model(name, tiny, embedding_size=8, id_embedding=False)
    assert content.item_embedding is None and full.item_embedding.shape == (40, 8)
    assert content.user_embedding.shape == (30, 8) and full.user_embedding.shape == (30, 16)
    assert content.n_parameters() == full.n_parameters() - 40 * 8 - 30 * 8
    with torch.no_grad():
        assert torch.isfinite(content.eval().score(torch.arange(3))).all()


@pytest.mark.parametrize("name", BACKBONES)
@pytest.mark.parametrize("params, message", [
    ({"operator": "sum"}, "needs a coordinated representation"),
    ({"align_weight": 0.5}, "align_weight > 0 needs representation 'coordinated'"),
    ({"representation": "coordinated", "temperature": 0}, "'temperature'"),
    ({"representation": "coordinated", "operator": "gather"}, "unknown fusion operator 'gather'"),
    ({"representation": "coordinated", "attention": "user", "operator": "attention"}, "scope"),
    ({"id_embedding": "no"}, "'id_embedding'"),
])
def test_bad_fusion_parameters_are_named(name, params, message, tiny):
    with pytest.raises((ConfigError, KeyError), match=message):
        make_model(name, tiny, **params)


@pytest.mark.parametrize("name", BACKBONES)
def test_alignment_adds_to_the_loss_only_when_weighted(name, tiny):
    from mmstudy.models import Batch
    batch = Batch(torch.arange(8), torch.arange(8), torch.arange(8, 16))
    plain = make_model(name, tiny, representation="coordinated", operator="sum")
    aligned = make_model(name, tiny, representation="coordinated", operator="sum", align_weight=1.0)
    assert aligned.loss(batch) > plain.loss(batch)  # same initialisation, plus a positive InfoNCE term


SMALL = DataConfig(name="synthetic", options={"n_users": 120, "n_items": 90, "n_interactions": 1800})


def test_the_pipeline_fuses_early_and_passes_intermediate_settings():
    ws = Workspace()
    base = Cell(data=SMALL, model="MF-Fusion", params={"embedding_size": 8}, train={"epochs": 1})
    early = run_cell(base.with_(fusion={"point": "early", "operator": "concat"}), ws).manifest
    assert list(early.features) == ["fused"] and early.features["fused"].dim == 64 + 48
    mid = run_cell(base.with_(fusion={"point": "intermediate", "representation": "coordinated",
                                      "operator": "concat"}), ws).manifest
    assert list(mid.features) == ["image", "text"]
    joint = run_cell(base, ws).manifest.n_parameters
    # one more projection bias (8) and, for the concat of two 8-d projections, 8 more user columns
    assert mid.n_parameters == joint + 8 + 120 * 8
    with pytest.raises(ConfigError, match="do not also set them"):
        run_cell(base.with_(params={"operator": "sum"}, fusion={"point": "intermediate", "operator": "sum",
                                                                 "representation": "coordinated"}), ws)
