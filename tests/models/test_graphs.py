"""Graph helpers: differentiable sparse operators, normalised graphs, kNN graphs and their cache."""
import numpy as np
import pytest
import scipy.sparse as sp
import torch

from mmstudy.errors import ConfigError
from mmstudy.models.cache import DerivedCache
from mmstudy.models.graphs import (SparseGraph, bipartite_graph_from_edges, feature_key, interaction_edges,
                                   interaction_graph, item_knn_graph, layer_mean, merged_item_graph,
                                   sym_normalized_edges)
from mmstudy.sparse import bipartite_adjacency, degree_normalize

from model_toys import make_input


def dense_grad(matrix: np.ndarray, x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    x = x.clone().requires_grad_(True)
    ((torch.from_numpy(matrix) @ x) * weight).sum().backward()
    return x.grad


@pytest.mark.parametrize("symmetric", [True, False])
def test_sparse_graph_matches_dense_product_and_gradient(symmetric):
    rng = np.random.default_rng(0)
    a = sp.random(9, 9, density=0.3, random_state=1, dtype=np.float32)
    a = (a + a.T) if symmetric else a
    graph = SparseGraph(sp.csr_matrix(a), symmetric=symmetric)
    x = torch.from_numpy(rng.standard_normal((9, 4)).astype(np.float32)).requires_grad_(True)
    weight = torch.from_numpy(rng.standard_normal((9, 4)).astype(np.float32))
    out = graph(x)
    (out * weight).sum().backward()
    assert torch.allclose(out, torch.from_numpy(a.toarray()) @ x, atol=1e-6)
    assert torch.allclose(x.grad, dense_grad(a.toarray(), x.detach(), weight), atol=1e-6)


def test_sparse_graph_buffers_are_not_saved():
    graph = SparseGraph(sp.identity(3, format="csr"), symmetric=True)
    assert graph.state_dict() == {} and graph.shape == (3, 3)


def test_layer_mean_averages_powers():
    a = np.array([[0, 0.5], [0.5, 0]], dtype=np.float32)
    ego = torch.tensor([[1.0], [3.0]])
    out = layer_mean(SparseGraph(sp.csr_matrix(a), symmetric=True), ego, 2)
    a_t = torch.from_numpy(a)
    assert torch.allclose(out, (ego + a_t @ ego + a_t @ a_t @ ego) / 3)
    assert torch.equal(layer_mean(SparseGraph(sp.csr_matrix(a), symmetric=True), ego, 0), ego)


def test_interaction_graph_is_the_sym_normalised_bipartite_graph(tiny):
    expected = degree_normalize(bipartite_adjacency(tiny.train)).toarray()
    assert np.allclose(interaction_graph(tiny).matrix.to_dense().numpy(), expected, atol=1e-6)


def test_edge_built_graph_equals_scipy_graph(tiny):
    users, items = interaction_edges(tiny)
    built = bipartite_graph_from_edges(users, items, tiny.n_users, tiny.n_items).to_dense().numpy()
    assert np.allclose(built, degree_normalize(bipartite_adjacency(tiny.train)).toarray(), atol=1e-6)
    deg_u, deg_i = np.asarray(tiny.train.sum(1)).ravel(), np.asarray(tiny.train.sum(0)).ravel()
    weights = sym_normalized_edges(users, items, tiny.n_users, tiny.n_items).numpy()
    assert np.allclose(weights, 1 / np.sqrt(deg_u[users.numpy()] * deg_i[items.numpy()]))


def test_item_knn_graph_follows_mmrec():
    data = make_input(n_items=20, dims=(6,))
    graph = item_knn_graph(data, "m0", k=4)
    assert np.all(np.diff(graph.indptr) == 4)
    assert np.allclose(graph.data, 0.25)  # binary edges, every row degree k: 1/sqrt(k*k)
    assert np.all(graph.diagonal() > 0)  # the item itself is among its top-k (MMRec's topk on sim)
    x = torch.nn.functional.normalize(data.features["m0"], dim=1)
    best = torch.topk(x @ x.T, 4, dim=1).indices.numpy()
    assert all(set(graph[i].indices) == set(best[i]) for i in range(20))


def test_zero_feature_items_are_isolated():
    data = make_input(n_items=15, dims=(5,))
    data.features["m0"][[2, 7]] = 0.0
    graph = item_knn_graph(data, "m0", k=3)
    assert graph[[2, 7]].nnz == 0 and graph[:, [2, 7]].nnz == 0


def test_item_knn_graph_rejects_bad_k_and_modality(tiny):
    with pytest.raises(ConfigError, match="knn k"):
        item_knn_graph(tiny, "m0", k=0)
    with pytest.raises(ConfigError, match="unknown modality 'nope'"):
        item_knn_graph(tiny, "nope", k=3)


def test_merged_item_graph_weights_modalities(tiny):
    merged = merged_item_graph(tiny, {"m0": 0.1, "m1": 0.9}, k=5).matrix.to_dense().numpy()
    expected = 0.1 * item_knn_graph(tiny, "m0", 5) + 0.9 * item_knn_graph(tiny, "m1", 5)
    assert np.allclose(merged, expected.toarray(), atol=1e-6)


def test_knn_cache_hits_for_same_features_and_misses_when_they_change():
    cache = DerivedCache()
    data = make_input(cache=cache)
    first = item_knn_graph(data, "m0", k=5)
    assert (cache.hits, cache.misses) == (0, 1)
    again = item_knn_graph(make_input(cache=cache), "m0", k=5)
    assert (cache.hits, cache.misses) == (1, 1) and again is first
    changed = make_input(cache=cache)
    changed.features["m0"] = changed.features["m0"].flip(0).contiguous()
    changed.feature_keys["m0"] = "another-content-hash"
    recomputed = item_knn_graph(changed, "m0", k=5)
    assert (cache.hits, cache.misses) == (1, 2) and (recomputed != first).nnz > 0
    item_knn_graph(data, "m0", k=6)  # another parameter: another entry
    assert cache.misses == 3


def test_feature_key_falls_back_to_a_content_hash(tiny):
    tiny.feature_keys.clear()
    key = feature_key(tiny, "m0")
    tiny.features["m0"] = tiny.features["m0"] + 1
    assert feature_key(tiny, "m0") != key


def test_interaction_graph_cache_keys_on_the_training_matrix():
    cache = DerivedCache()
    interaction_graph(make_input(cache=cache))
    interaction_graph(make_input(cache=cache))
    interaction_graph(make_input(cache=cache, seed=3))
    assert (cache.hits, cache.misses) == (1, 2)
