"""MGCN: purified modality views on cached kNN graphs, behaviour-aware fusion, InfoNCE term."""
import numpy as np
import pytest
import torch
from torch.nn import functional as F

from mmstudy.errors import ConfigError
from mmstudy.models import MODELS, make_model
from mmstudy.models.graphs import item_knn_graph
from mmstudy.models.mgcn import info_nce

from model_toys import dense_lightgcn
from zoo_checks import check_contract, check_feature_cache, random_batch


@pytest.mark.parametrize("dims", [(12,), (12, 8)])
def test_contract(dims):
    check_contract("MGCN", dims)


def test_defaults():
    cls = MODELS.get("mgcn")
    assert cls.cf_counterpart == "LightGCN"
    assert {k: cls.defaults[k] for k in ("knn_k", "cl_loss", "n_layers", "n_ui_layers", "reg_weight")} == \
        {"knn_k": 10, "cl_loss": 0.01, "n_layers": 1, "n_ui_layers": 2, "reg_weight": 1e-4}


def test_info_nce_matches_the_reference_formula():
    a, b = torch.randn(20, 6, dtype=torch.float64), torch.randn(20, 6, dtype=torch.float64)
    an, bn = F.normalize(a, dim=1), F.normalize(b, dim=1)
    pos, total = torch.exp((an * bn).sum(1) / 0.2), torch.exp(an @ bn.T / 0.2).sum(1)
    assert torch.allclose(info_nce(a, b, 0.2), (-torch.log(pos / total)).mean())
    assert torch.isfinite(info_nce(a, b, 1e-3))


def test_forward_matches_a_dense_reference(tiny):
    model = make_model("MGCN", tiny, knn_k=4)
    r = torch.from_numpy(tiny.train.toarray())
    r_norm = r / r.sum(1, keepdim=True).sqrt() / r.sum(0, keepdim=True).clamp_min(1).sqrt()
    with torch.no_grad():
        cf = dense_lightgcn(tiny, torch.cat([model.user_embedding, model.item_embedding]), 2)
        views = []
        for m, name in enumerate(tiny.modality_names):
            graph = torch.from_numpy(item_knn_graph(tiny, name, 4, include_self=True, binary=False).toarray())
            items = graph @ (model.item_embedding * model.item_gates[m](model.projections[m]()))
            views.append(torch.cat([r_norm @ items, items]))
        att = torch.softmax(torch.cat([model.query(v) for v in views], 1), 1)
        common = att[:, :1] * views[0] + att[:, 1:] * views[1]
        side = (model.preference_gates[0](cf) * (views[0] - common)
                + model.preference_gates[1](cf) * (views[1] - common) + common) / 3
        nodes, got_side, got_cf = model.forward()
        assert torch.allclose(got_cf, cf, atol=1e-5) and torch.allclose(got_side, side, atol=1e-5)
        assert torch.allclose(nodes, cf + side, atol=1e-5)


def test_contrastive_weight(tiny):
    batch = random_batch(tiny)
    base, weighted = make_model("MGCN", tiny, cl_loss=0.0), make_model("MGCN", tiny, cl_loss=0.5)
    with torch.no_grad():
        _, side, cf = weighted.forward()
        pos = tiny.n_users + batch.pos
        extra = 0.5 * (info_nce(side[pos], cf[pos], 0.2) + info_nce(side[batch.users], cf[batch.users], 0.2))
        assert torch.allclose(weighted.loss(batch) - base.loss(batch), extra, atol=1e-6)


def test_item_graphs_are_the_cached_knn_graphs(tiny):
    model = make_model("MGCN", tiny, knn_k=3)
    expected = item_knn_graph(tiny, "m0", 3, include_self=True, binary=False).toarray()
    assert np.allclose(model.item_graphs[0].matrix.to_dense().numpy(), expected, atol=1e-6)


def test_temperature_must_be_positive(tiny):
    with pytest.raises(ConfigError, match="'temperature'"):
        make_model("MGCN", tiny, temperature=0.0)


def test_feature_change_invalidates_cached_graphs():
    check_feature_cache("MGCN", graphs_per_build=4)  # two kNN graphs, the user-item graph and its block
