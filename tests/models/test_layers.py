"""Learned-value sparse operators, top-k pairs, extra user-item graphs, dropout noise."""
import numpy as np
import pytest
import scipy.sparse as sp
import torch

from mmstudy.models.base import Batch
from mmstudy.models.cache import DerivedCache
from mmstudy.models.layers import (EdgeSet, NoiseSource, content_signal, interaction_graph_with, pair_square_mean,
                                   topk_cosine_pairs, user_item_block)
from mmstudy.sparse import bipartite_adjacency, degree_normalize

from model_toys import make_input


@pytest.fixture
def edges() -> EdgeSet:
    rng = np.random.default_rng(0)
    mask = rng.random((7, 5)) < 0.4
    mask[6] = False  # an empty row
    rows, cols = np.nonzero(mask)
    order = rng.permutation(len(rows))  # unsorted input
    return EdgeSet(torch.from_numpy(rows[order]), torch.from_numpy(cols[order]), (7, 5))


def dense(edges: EdgeSet, values: torch.Tensor) -> torch.Tensor:
    out = torch.zeros(edges.shape, dtype=values.dtype)
    return out.index_put((edges.rows, edges.cols), values, accumulate=True)


def test_edges_are_sorted_row_major(edges):
    keys = edges.rows * 5 + edges.cols
    assert torch.all(keys[1:] > keys[:-1])
    assert torch.equal(edges.matrix(torch.ones(len(edges))).to_dense(), dense(edges, torch.ones(len(edges))))


@pytest.mark.parametrize("transpose", [False, True])
def test_spmm_matches_dense_values_and_gradients(edges, transpose):
    values = torch.randn(len(edges), dtype=torch.float64, requires_grad=True)
    x = torch.randn(5 if not transpose else 7, 3, dtype=torch.float64, requires_grad=True)
    matrix = dense(edges, values)
    expected = (matrix.T if transpose else matrix) @ x
    assert torch.allclose(edges.spmm(values, x, transpose=transpose), expected)
    assert torch.autograd.gradcheck(lambda v, y: edges.spmm(v, y, transpose=transpose), (values, x))


def test_dot_matches_gathered_products_and_gradients(edges):
    a = torch.randn(7, 4, dtype=torch.float64, requires_grad=True)
    b = torch.randn(5, 4, dtype=torch.float64, requires_grad=True)
    assert torch.allclose(edges.dot(a, b), (a[edges.rows] * b[edges.cols]).sum(1))
    assert torch.autograd.gradcheck(edges.dot, (a, b))


def test_softmax_over_rows_and_columns(edges):
    scores = torch.randn(len(edges), dtype=torch.float64, requires_grad=True)
    for by, axis in (("row", 1), ("col", 0)):
        masked = dense(edges, scores.detach()).masked_fill(dense(edges, torch.ones(len(edges))) == 0, -torch.inf)
        expected = torch.softmax(masked, dim=axis).nan_to_num()[edges.rows, edges.cols]
        assert torch.allclose(edges.softmax(scores.detach(), by=by), expected)
        assert torch.autograd.gradcheck(lambda s: edges.softmax(s, by=by), (scores,))
    assert torch.allclose(edges.sum_by(torch.ones(len(edges)), "col"), dense(edges, torch.ones(len(edges))).sum(0))


def test_empty_pattern():
    empty = EdgeSet(torch.zeros(0, dtype=torch.long), torch.zeros(0, dtype=torch.long), (3, 2))
    assert empty.dot(torch.randn(3, 2), torch.randn(2, 2)).shape == (0,)
    assert torch.equal(empty.spmm(torch.zeros(0), torch.randn(2, 4)), torch.zeros(3, 4))


def test_edge_set_has_no_state_and_reads_scipy_patterns(edges):
    assert edges.state_dict() == {}
    assert EdgeSet.from_scipy(sp.csr_matrix(np.eye(3))).rows.tolist() == [0, 1, 2]


def test_topk_cosine_pairs_match_brute_force_and_skip_invalid_rows():
    x = torch.randn(30, 6)
    x[4] = 0.0
    valid = content_signal(x)
    rows, cols = topk_cosine_pairs(x, 5, valid, chunk=7)
    unit = torch.nn.functional.normalize(x, dim=1)
    sim = (unit @ unit.T).masked_fill(~valid[None, :], -torch.inf)
    for r in range(30):
        got = set(cols[rows == r].tolist())
        if r == 4:
            assert not got
            continue
        top = torch.topk(sim[r], 5)
        assert got == set(top.indices[top.values > 0].tolist()) and r in got and 4 not in got
    assert not topk_cosine_pairs(x, 3, torch.zeros(30, dtype=torch.bool))[0].numel()


def test_row_normalised_graph_with_self_loops_is_cached(tiny):
    tiny.cache = DerivedCache()
    graph = interaction_graph_with(tiny, "row", self_loops=True)
    adj = bipartite_adjacency(tiny.train) + sp.identity(tiny.n_users + tiny.n_items)
    assert np.allclose(graph.matrix.to_dense().numpy(), degree_normalize(adj, "row").toarray(), atol=1e-6)
    interaction_graph_with(tiny, "row", self_loops=True)
    interaction_graph_with(tiny, "row")
    assert tiny.cache.hits == 1 and tiny.cache.misses == 2


def test_user_item_block_is_the_block_of_the_symmetric_graph(tiny):
    full = degree_normalize(bipartite_adjacency(tiny.train)).toarray()
    block = user_item_block(tiny).matrix.to_dense().numpy()
    assert np.allclose(block, full[:tiny.n_users, tiny.n_users:], atol=1e-6)


def test_noise_source_is_reproducible_and_reseeded_per_epoch():
    x = torch.ones(200, 8)
    first, second = NoiseSource(0), NoiseSource(0)
    a, b = first.dropout(x, 0.5), second.dropout(x, 0.5)
    assert torch.equal(a, b) and set(a.unique().tolist()) == {0.0, 2.0}
    first.reseed(torch.Generator().manual_seed(1))
    second.reseed(torch.Generator().manual_seed(1))
    assert torch.equal(first.dropout(x, 0.5), second.dropout(x, 0.5))
    second.reseed(torch.Generator().manual_seed(2))
    assert not torch.equal(first.dropout(x, 0.5), second.dropout(x, 0.5))
    assert first.dropout(x, 0.0) is x


def test_pair_square_mean():
    table = torch.arange(10, dtype=torch.float32)[:, None].repeat(1, 2)
    batch = Batch(torch.tensor([0, 1]), torch.tensor([0, 2]), torch.tensor([1, 3]))  # items offset by 4
    expected = np.mean([0 + 16, 0 + 25, 1 + 36, 1 + 49])
    assert float(pair_square_mean(table, 4, batch)) == pytest.approx(expected)


def test_content_signal_flags_non_zero_rows():
    data = make_input(dims=(4,))
    data.features["m0"][3] = 0.0
    assert content_signal(data.features["m0"]).tolist() == [i != 3 for i in range(data.n_items)]
