"""FREEDOM: modality weights, frozen item graph, degree-sensitive edge pruning, cached graphs."""
import numpy as np
import pytest
import torch

from mmstudy.errors import ConfigError
from mmstudy.models import Batch, make_model
from mmstudy.models.cache import DerivedCache
from mmstudy.models.freedom import FREEDOM, item_graph_weights
from mmstudy.models.graphs import item_knn_graph

from model_toys import make_input


def weights(names, **params):
    return item_graph_weights(names, FREEDOM.resolve_params(params))


def test_image_weight_goes_to_the_named_or_positioned_modality():
    assert weights(["text", "image"]) == pytest.approx({"text": 0.9, "image": 0.1})
    assert weights(["text", "audio"], image_modality="audio") == pytest.approx({"text": 0.9, "audio": 0.1})
    assert weights(["text", "audio"], image_modality=1) == pytest.approx({"text": 0.9, "audio": 0.1})
    assert weights(["a", "image", "c"], mm_image_weight=0.4) == pytest.approx({"a": 0.3, "image": 0.4, "c": 0.3})


def test_weights_without_a_matching_modality_are_equal_and_single_modality_is_one():
    assert weights(["text", "audio"]) == pytest.approx({"text": 0.5, "audio": 0.5})
    assert weights(["audio"], image_modality="image") == {"audio": 1.0}


def test_explicit_modality_weights_override_and_are_checked():
    assert weights(["t", "a"], modality_weights={"t": 0.7, "a": 0.3}) == {"t": 0.7, "a": 0.3}
    with pytest.raises(ConfigError, match="'modality_weights' must map exactly"):
        weights(["t", "a"], modality_weights={"t": 1.0})
    with pytest.raises(ConfigError, match="non-negative"):
        weights(["t", "a"], modality_weights={"t": 1.0, "a": -1})
    with pytest.raises(ConfigError, match="'image_modality' = 5"):
        weights(["t", "a"], image_modality=5)


def test_item_graph_is_the_weighted_sum_of_modality_knn_graphs(tiny):
    model = make_model("FREEDOM", tiny, image_modality="m1", knn_k=4)
    expected = 0.9 * item_knn_graph(tiny, "m0", 4) + 0.1 * item_knn_graph(tiny, "m1", 4)
    assert np.allclose(model.item_graph.matrix.to_dense().numpy(), expected.toarray(), atol=1e-6)


def test_item_side_adds_item_graph_propagation_of_id_embeddings(tiny):
    model = make_model("FREEDOM", tiny, n_ui_layers=0, n_mm_layers=2)
    with torch.no_grad():
        users, items = model.representations()
        s = model.item_graph.matrix.to_dense()
        assert torch.allclose(items, model.item_embedding + s @ (s @ model.item_embedding), atol=1e-6)
        assert torch.equal(users, model.user_embedding)


def kept_edges(model) -> set:
    m = model.train_graph.matrix.to_sparse_coo().coalesce()
    rows, cols = m.indices()
    upper = rows < model.n_users
    return set(zip(rows[upper].tolist(), (cols[upper] - model.n_users).tolist()))


def test_pruning_keeps_the_configured_share_and_renormalises(tiny):
    model = make_model("FREEDOM", tiny, dropout=0.8)
    model.on_epoch_start(0, torch.Generator().manual_seed(0))
    kept = kept_edges(model)
    assert len(kept) == int(tiny.train.nnz * 0.2)
    assert all(tiny.train[u, i] for u, i in kept)
    dense = model.train_graph.matrix.to_dense()
    assert torch.allclose(dense, dense.T)
    degree = (dense > 0).sum(1).float()
    rows, cols = dense.nonzero(as_tuple=True)
    assert torch.allclose(dense[rows, cols], (degree[rows] * degree[cols]).rsqrt())


def test_pruning_is_reproducible_per_generator_and_leaves_evaluation_on_the_full_graph(tiny):
    model = make_model("FREEDOM", tiny)
    with torch.no_grad():
        before = model.representations()
    model.on_epoch_start(0, torch.Generator().manual_seed(1))
    first = kept_edges(model)
    model.on_epoch_start(1, torch.Generator().manual_seed(1))
    assert kept_edges(model) == first
    model.on_epoch_start(2, torch.Generator().manual_seed(2))
    assert kept_edges(model) != first
    with torch.no_grad():
        after = model.representations()
    assert all(torch.equal(a, b) for a, b in zip(before, after))


def test_pruning_prefers_edges_between_low_degree_nodes():
    data = make_input(n_users=60, n_items=50, density=0.2)
    model = make_model("FREEDOM", data, dropout=0.5)
    generator = torch.Generator().manual_seed(0)
    counts = {}
    for epoch in range(200):
        model.on_epoch_start(epoch, generator)
        for edge in kept_edges(model):
            counts[edge] = counts.get(edge, 0) + 1
    prob = model.edge_probability.numpy()
    users, items = model.edge_users.numpy(), model.edge_items.numpy()
    frequency = np.array([counts.get((u, i), 0) for u, i in zip(users, items)])
    low, high = prob >= np.quantile(prob, 0.75), prob <= np.quantile(prob, 0.25)
    assert frequency[low].mean() > frequency[high].mean() * 1.3


def test_zero_dropout_trains_on_the_full_graph(tiny):
    model = make_model("FREEDOM", tiny, dropout=0.0)
    model.on_epoch_start(0, torch.Generator().manual_seed(0))
    assert len(kept_edges(model)) == tiny.train.nnz


def test_modality_loss_weight(tiny):
    b = Batch(torch.tensor([0, 1, 2]), torch.tensor([3, 4, 5]), torch.tensor([6, 7, 8]))
    base = make_model("FREEDOM", tiny, reg_weight=0.0)
    weighted = make_model("FREEDOM", tiny, reg_weight=1.0)
    with torch.no_grad():
        users, _ = weighted.forward(weighted.train_graph)
        u = users[b.users]
        extra = 0
        for projection in weighted.projections:
            pos, neg = projection(b.pos), projection(b.neg)
            extra = extra + torch.nn.functional.softplus((u * neg).sum(1) - (u * pos).sum(1)).mean()
        assert torch.allclose(weighted.loss(b) - base.loss(b), extra, atol=1e-6)
    base.loss(b).backward()
    assert all(p.grad is None for p in base.projections.parameters())


def test_graph_cache_hits_for_same_features_and_recomputes_for_changed_ones():
    cache = DerivedCache()
    make_model("FREEDOM", make_input(cache=cache))
    assert cache.misses == 3 and cache.hits == 0  # two kNN graphs + the user-item graph
    make_model("FREEDOM", make_input(cache=cache))
    assert cache.misses == 3 and cache.hits == 3
    changed = make_input(cache=cache)
    changed.features["m1"] = changed.features["m1"] * -1.0
    changed.feature_keys["m1"] = "changed"
    make_model("FREEDOM", changed)
    assert cache.misses == 4 and cache.hits == 5
