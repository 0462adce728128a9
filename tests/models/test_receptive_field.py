"""ReceptiveField: exact neighbourhoods, restricted operators and the same outputs as the whole graph."""
import numpy as np
import pytest
import scipy.sparse as sp
import torch

from mmstudy.models.graphs import SparseGraph
from mmstudy.models.receptive_field import NodeBlocks, ReceptiveField
from mmstudy.sparse import bipartite_adjacency, degree_normalize

from model_toys import make_input


def sparse_graph(symmetric: bool) -> tuple[SparseGraph, np.ndarray]:
    """A sparse user-item graph (many nodes far from any small batch), sym- or row-normalised."""
    adj = bipartite_adjacency(make_input(n_users=120, n_items=150, density=0.01).train)
    matrix = degree_normalize(adj, "sym" if symmetric else "row")
    return SparseGraph(matrix, symmetric=symmetric), matrix.toarray()


def brute_force_nodes(dense: np.ndarray, targets: np.ndarray, n_layers: int) -> list[np.ndarray]:
    nodes = [np.unique(targets)]
    for _ in range(n_layers - 1):
        needed = np.nonzero(dense[nodes[0]].any(axis=0))[0]
        nodes.insert(0, np.union1d(nodes[0], needed))
    return [np.arange(len(dense))] + nodes


def toy_network(field: ReceptiveField, x, weights: list[torch.Tensor], transform=None) -> torch.Tensor:
    """A generic message-passing net: x <- tanh(A x W) + own x (transformed) + a node table, per layer."""
    n = field.graph.shape[0]
    table = torch.arange(n, dtype=torch.float32).unsqueeze(1) / n
    for layer, weight in enumerate(weights):
        own = field.own(layer, x, transform)
        x = torch.tanh(field.propagate(layer, x) @ weight) + own + field.gather(layer, table)
    return field.targets(x)


@pytest.mark.parametrize("symmetric", [True, False])
@pytest.mark.parametrize("n_layers", [1, 2, 3])
def test_nodes_are_the_exact_neighbourhoods(symmetric, n_layers):
    graph, dense = sparse_graph(symmetric)
    targets = torch.tensor([3, 130, 3, 200, 7])
    field = ReceptiveField(graph, targets, n_layers)
    expected = brute_force_nodes(dense, targets.numpy(), n_layers)
    assert field.sizes() == [len(ids) for ids in expected]
    for ids, want in zip(field.nodes[1:], expected[1:]):
        assert np.array_equal(ids.numpy(), want)
    assert field.sizes()[1] < len(dense)  # the point: far fewer rows than the whole graph


@pytest.mark.parametrize("symmetric", [True, False])
@pytest.mark.parametrize("n_layers", [1, 2, 3])
def test_outputs_and_gradients_equal_the_whole_graph(symmetric, n_layers):
    graph, dense = sparse_graph(symmetric)
    torch.manual_seed(0)
    x = torch.randn(len(dense), 4, requires_grad=True)
    weights = [torch.randn(4, 4, requires_grad=True) for _ in range(n_layers)]
    targets = torch.tensor([5, 140, 5, 201, 9, 0])

    whole = toy_network(ReceptiveField.whole(graph, n_layers), x, weights)[targets]
    part = toy_network(ReceptiveField(graph, targets, n_layers), x, weights)
    assert part.shape == whole.shape and torch.allclose(part, whole, atol=1e-5)
    probe = torch.randn_like(whole)
    grads_whole = torch.autograd.grad((whole * probe).sum(), [x, *weights])
    grads_part = torch.autograd.grad((part * probe).sum(), [x, *weights])
    for a, b in zip(grads_part, grads_whole):
        assert torch.allclose(a, b, atol=1e-5)


def test_restricted_operator_is_the_dense_block():
    graph, dense = sparse_graph(symmetric=False)
    field = ReceptiveField(graph, torch.tensor([1, 125]), 2)
    out_ids, in_ids = field.nodes[2].numpy(), field.nodes[1].numpy()
    x = torch.randn(len(in_ids), 3, dtype=torch.float32)
    expected = dense[np.ix_(out_ids, in_ids)] @ x.numpy()
    assert np.allclose(field.propagate(1, x).numpy(), expected, atol=1e-6)


def test_isolated_target_needs_only_itself():
    adj = sp.csr_matrix((np.ones(2, np.float32), ([0, 1], [1, 0])), shape=(4, 4))
    graph = SparseGraph(degree_normalize(adj, "row"), symmetric=False)
    field = ReceptiveField(graph, torch.tensor([3]), 2)
    assert field.nodes[1].tolist() == [3] and field.nodes[2].tolist() == [3]
    assert torch.equal(field.propagate(1, torch.ones(1, 2)), torch.zeros(1, 2))


def test_whole_field_is_the_identity_plumbing():
    graph, dense = sparse_graph(symmetric=True)
    field = ReceptiveField.whole(graph, 2)
    x = torch.randn(len(dense), 2)
    assert field.sizes() == [len(dense)] * 3
    assert field.own(0, x) is x and field.gather(1, x) is x and field.targets(x) is x


@pytest.mark.parametrize("symmetric", [True, False])
@pytest.mark.parametrize("restricted", [True, False])
def test_input_blocks_give_the_table_outputs_and_gradients(symmetric, restricted):
    graph, dense = sparse_graph(symmetric)
    torch.manual_seed(1)
    users = torch.randn(120, 4, requires_grad=True)
    items = torch.randn(150, 4, requires_grad=True)
    weights = [torch.randn(4, 4, requires_grad=True) for _ in range(2)]
    transform = torch.nn.Linear(4, 4)
    targets = torch.tensor([5, 140, 5, 201, 9, 0, 269]) if restricted else None
    field = ReceptiveField(graph, targets, 2)
    table = toy_network(field, torch.cat([users, items]), weights, transform)
    blocks = toy_network(ReceptiveField(graph, targets, 2), NodeBlocks(users, items), weights, transform)
    assert torch.allclose(blocks, table, atol=1e-5)
    probe = torch.randn_like(table)
    inputs = [users, items, *weights, *transform.parameters()]
    for a, b in zip(torch.autograd.grad((blocks * probe).sum(), inputs), torch.autograd.grad((table * probe).sum(), inputs)):
        assert torch.allclose(a, b, atol=1e-5)


def test_input_blocks_operators_cover_every_input_column():
    graph, dense = sparse_graph(symmetric=False)
    field = ReceptiveField(graph, torch.tensor([2, 130]), 2)
    (forward_u, _), (forward_i, _) = field._input_blocks(0, 120)
    out_ids = field.nodes[1].numpy()
    assert np.allclose(forward_u.to_dense().numpy(), dense[np.ix_(out_ids, np.arange(120))])
    assert np.allclose(forward_i.to_dense().numpy(), dense[np.ix_(out_ids, np.arange(120, 270))])


def test_only_the_input_layer_takes_blocks():
    graph, _ = sparse_graph(symmetric=True)
    field = ReceptiveField(graph, torch.tensor([3, 140]), 2)
    blocks = NodeBlocks(torch.zeros(120, 2), torch.zeros(150, 2))
    with pytest.raises(ValueError, match="input layer"):
        field.propagate(1, blocks)
