"""LATTICE: sparse learned item graphs equal the reference dense construction, rebuilt per epoch."""
import numpy as np
import pytest
import torch
from torch.nn import functional as F

from mmstudy.models import MODELS, make_model
from mmstudy.models.graphs import item_knn_graph
from mmstudy.sparse import bipartite_adjacency

from model_toys import make_input
from zoo_checks import check_contract, check_feature_cache, random_batch


@pytest.mark.parametrize("dims", [(12,), (12, 8)])
def test_contract(dims):
    check_contract("LATTICE", dims)


def test_defaults_follow_the_reference():
    cls = MODELS.get("lattice")
    assert cls.cf_counterpart == "LightGCN" and cls.multimodal
    assert {k: cls.defaults[k] for k in ("knn_k", "lambda_coeff", "reg_weight", "n_layers", "n_ui_layers")} == \
        {"knn_k": 10, "lambda_coeff": 0.9, "reg_weight": 0.0, "n_layers": 1, "n_ui_layers": 2}


def dense_learned_graph(model, k):
    """MMRec's construction: dense cosine matrix, top-k per row, weighted sum, D^-1/2 A D^-1/2."""
    weights = torch.softmax(model.modal_weight, 0)
    total = 0
    for w, projection in zip(weights, model.projections):
        unit = F.normalize(projection(), dim=1)
        sim = unit @ unit.T
        top, index = torch.topk(sim, k, dim=-1)
        assert (top > 0).all()  # the sparse version drops non-positive pairs
        total = total + w * torch.zeros_like(sim).scatter(-1, index, top)
    scale = total.sum(-1).pow(-0.5)
    return scale[:, None] * total * scale[None, :]


def test_learned_graph_and_its_gradients_match_the_dense_reference(tiny):
    model = make_model("LATTICE", tiny, knn_k=4, n_layers=1, lambda_coeff=0.3)
    frozen = sum(w * torch.from_numpy(item_knn_graph(tiny, n, 4, include_self=True, binary=False).toarray())
                 for w, n in zip(torch.softmax(model.modal_weight, 0), tiny.modality_names))
    reference = (0.7 * dense_learned_graph(model, 4) + 0.3 * frozen) @ model.item_embedding
    weight = torch.randn_like(reference)
    (reference * weight).sum().backward()
    expected = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    model.zero_grad()
    sparse = model.item_side(model.learned_graph())
    (sparse * weight).sum().backward()
    assert torch.allclose(sparse, reference, atol=1e-5)
    got = {n: p.grad for n, p in model.named_parameters() if p.grad is not None}
    assert set(got) == set(expected) and "projections.0.linear.weight" in got and "modal_weight" in got
    for name, grad in expected.items():
        assert torch.allclose(got[name], grad, atol=1e-5), name


def test_frozen_graphs_are_similarity_weighted_knn_with_self_loops(tiny):
    model = make_model("LATTICE", tiny, knn_k=5)
    expected = item_knn_graph(tiny, "m1", 5, include_self=True, binary=False).toarray()
    assert np.allclose(model.frozen[1].matrix.to_dense().numpy(), expected, atol=1e-6)


def test_user_item_graph_is_row_normalised_with_self_loops(tiny):
    dense = make_model("LATTICE", tiny).ui_graph.matrix.to_dense()
    adj = torch.from_numpy(bipartite_adjacency(tiny.train).toarray()) + torch.eye(tiny.n_users + tiny.n_items)
    assert torch.allclose(dense, adj / adj.sum(1, keepdim=True), atol=1e-6)


def test_graph_is_rebuilt_with_gradients_only_on_the_first_batch_of_an_epoch(tiny):
    model = make_model("LATTICE", tiny)
    weight = model.projections[0].linear.weight
    for epoch in range(2):
        model.on_epoch_start(epoch, torch.Generator().manual_seed(epoch))
        model.zero_grad()
        model.loss(random_batch(tiny)).backward()
        assert weight.grad is not None and weight.grad.abs().sum() > 0
        model.zero_grad()
        model.loss(random_batch(tiny, seed=2)).backward()
        assert weight.grad is None or weight.grad.abs().sum() == 0


def test_items_without_content_get_no_learned_neighbours():
    data = make_input()
    data.features["m0"][[3, 7]] = 0.0
    model = make_model("LATTICE", data)
    patterns, values, _ = model.learned_graph()
    touched = torch.cat([patterns[0].rows, patterns[0].cols])
    assert not torch.isin(touched, torch.tensor([3, 7])).any()
    assert torch.isin(patterns[1].rows, torch.tensor([3, 7])).any() and torch.isfinite(values).all()


def test_feature_change_invalidates_cached_graphs():
    check_feature_cache("LATTICE", graphs_per_build=3)  # two kNN graphs and the user-item graph
