import time
import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp

from mmstudy.errors import ConfigError, DataError
from mmstudy.missing.graph import co_interaction_graph

from .conftest import interactions, random_interactions


def dense_cooccurrence(train):
    c = (train.T @ train).toarray()
    np.fill_diagonal(c, 0)
    return c


def test_only_training_interactions_make_edges():
    train = interactions([[0, 1], [2, 3]], n_items=5)
    test = interactions([[0, 4], [1, 2]], n_items=5)  # pairs that co-occur only in test
    graph = co_interaction_graph(train, k=10)
    w = graph.weights.toarray()
    assert w[0, 1] == w[2, 3] == 1
    assert w[0, 4] == w[1, 2] == 0
    assert graph.isolated.tolist() == [False, False, False, False, True]
    with_test = co_interaction_graph(train + test, k=10)  # what leaking held-out data would do
    assert with_test.weights.toarray()[0, 4] == 1 and with_test.train_checksum != graph.train_checksum


def test_topk_union_symmetric_and_no_self_loops():
    train = random_interactions(60, 40, 0.15, seed=0)
    k = 3
    graph = co_interaction_graph(train, k=k, weighting="count")
    c = dense_cooccurrence(train)
    w = graph.weights.toarray()
    assert (w == w.T).all() and (np.diag(w) == 0).all()
    assert np.allclose(w[w > 0], c[w > 0])  # "count" keeps co-occurrence counts
    # each item's selection: its k largest co-occurrences (ties to the lower index)
    order = np.lexsort((np.tile(np.arange(40), (40, 1)), -c), axis=1)[:, :k]
    selected = np.zeros_like(c, dtype=bool)
    np.put_along_axis(selected, order, True, axis=1)
    selected &= c > 0
    assert np.array_equal(w > 0, selected | selected.T)


def test_binary_weights_and_normalisation():
    train = random_interactions(80, 30, 0.2, seed=1)
    sym = co_interaction_graph(train, k=5)
    w = sym.weights.toarray()
    assert set(np.unique(w)) <= {0.0, 1.0}
    deg = w.sum(axis=1)
    inv = np.where(deg > 0, deg ** -0.5, 0)
    assert np.allclose(sym.adjacency.toarray(), inv[:, None] * w * inv[None, :], atol=1e-6)
    row = co_interaction_graph(train, k=5, normalize="row")
    sums = np.asarray(row.adjacency.sum(axis=1)).ravel()
    assert np.allclose(sums[~row.isolated], 1, atol=1e-6)


def test_isolated_items_are_reported(path_train):
    graph = co_interaction_graph(path_train, k=5)
    assert graph.isolated.tolist() == [False] * 5 + [True, False, False]
    assert graph.n_isolated == 1 and graph.n_edges == 5
    summary = graph.summary()
    assert summary["n_isolated"] == 1 and summary["max_degree"] == 2 and summary["n_cold"] == 0
    no_train = co_interaction_graph(interactions([[0, 1]], n_items=3), k=2)
    assert no_train.cold.tolist() == [False, False, True] and no_train.n_isolated == 1


def test_chunking_does_not_change_the_graph():
    train = random_interactions(200, 150, 0.05, seed=2)
    whole = co_interaction_graph(train, k=4, work_per_chunk=10**9)
    chunked = co_interaction_graph(train, k=4, work_per_chunk=50)
    assert whole.checksum == chunked.checksum


def test_duplicates_and_counts_in_train_are_binarised():
    train = interactions([[0, 1], [0, 1]], n_items=3)
    doubled = sp.csr_matrix(train.toarray() * 3)
    assert co_interaction_graph(train, k=2).checksum == co_interaction_graph(doubled, k=2).checksum


def test_five_thousand_items_fast_and_never_dense():
    train = random_interactions(20_000, 5_000, 0.002, seed=3)
    tracemalloc.start()
    start = time.perf_counter()
    graph = co_interaction_graph(train, k=20, work_per_chunk=500_000)
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert elapsed < 15
    assert peak < 5_000 * 5_000 * 4 / 2  # well under one dense float32 5k x 5k matrix
    degree = np.diff(graph.weights.indptr)
    assert degree.min() >= 20 and graph.adjacency.nnz < 5_000 * 60


@pytest.mark.parametrize("kwargs, error, message", [
    ({"k": 0}, ConfigError, "k must be"),
    ({"normalize": "left"}, ConfigError, "normalisation"),
    ({"weighting": "tfidf"}, ConfigError, "weighting"),
])
def test_bad_parameters(kwargs, error, message):
    with pytest.raises(error, match=message):
        co_interaction_graph(interactions([[0, 1]], n_items=2), **kwargs)


def test_bad_train_matrix():
    with pytest.raises(DataError, match="sparse"):
        co_interaction_graph(np.ones((3, 3)))
    with pytest.raises(DataError, match="negative"):
        co_interaction_graph(sp.csr_matrix(-np.ones((2, 2))))


def test_empty_train_gives_all_isolated():
    graph = co_interaction_graph(sp.csr_matrix((4, 6), dtype=np.float32), k=3)
    assert graph.n_isolated == 6 and graph.weights.nnz == 0
