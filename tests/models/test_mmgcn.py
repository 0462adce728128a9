"""MMGCN: per-modality towers with mean aggregation, averaged; trained IDs and preferences."""
import pytest
import torch
from torch.nn import functional as F

from mmstudy.models import MODELS, make_model
from mmstudy.models import mmgcn
from mmstudy.models.cache import DerivedCache
from mmstudy.models.receptive_field import ReceptiveField
from mmstudy.sparse import bipartite_adjacency

from model_toys import make_input, train_steps
from zoo_checks import check_contract, random_batch


@pytest.mark.parametrize("dims", [(12,), (12, 8)])
def test_contract(dims):
    check_contract("MMGCN", dims)


def test_defaults():
    cls = MODELS.get("mmgcn")
    assert cls.cf_counterpart == "LightGCN" and cls.defaults["n_layers"] == 2 and cls.defaults["reg_weight"] == 1e-4


def dense_tower(tower, adj_mean, id_embedding):
    items = tower.mlp(tower.features) if tower.mlp is not None else tower.features
    x = F.normalize(torch.cat([tower.preference, items]), dim=1)
    for conv, linear, gate in zip(tower.conv, tower.linear, tower.gate):
        h = F.leaky_relu(adj_mean @ (x @ conv))
        x = F.leaky_relu(gate(h) + F.leaky_relu(linear(x)) + id_embedding)
    return x


def test_representation_is_the_mean_of_dense_towers(tiny):
    model = make_model("MMGCN", tiny, dim_latent=10, n_layers=3)
    assert model.towers[0].mlp is not None and model.towers[1].mlp is None  # widths 12 > 10 >= 8
    adj = torch.from_numpy(bipartite_adjacency(tiny.train).toarray())
    adj_mean = adj / adj.sum(1, keepdim=True).clamp_min(1)
    with torch.no_grad():
        expected = sum(dense_tower(t, adj_mean, model.id_embedding) for t in model.towers) / 2
        users, items = model.representations()
        assert torch.allclose(torch.cat([users, items]), expected, atol=1e-5)


class WholeGraphField(ReceptiveField):
    """The whole graph at every layer, targets picked from the full output (the reference's way)."""

    def __init__(self, graph, targets, n_layers):
        super().__init__(graph, None, n_layers)
        self.index = targets

    def targets(self, out):
        return out[self.index]


@pytest.mark.parametrize("n_layers", [1, 2, 3])
def test_batch_loss_and_gradients_equal_whole_graph_propagation(n_layers, monkeypatch):
    data = make_input(n_users=120, n_items=150, density=0.01)
    model = make_model("MMGCN", data, n_layers=n_layers, dim_latent=10)
    batch = random_batch(data, size=4)
    params = [p for p in model.parameters() if p.requires_grad]
    loss = model.loss(batch)
    grads = torch.autograd.grad(loss, params)
    monkeypatch.setattr(mmgcn, "ReceptiveField", WholeGraphField)
    whole = model.loss(batch)
    for a, b in zip(grads, torch.autograd.grad(whole, params)):
        assert torch.allclose(a, b, atol=1e-6)
    assert torch.allclose(loss, whole, atol=1e-6)
    targets = torch.cat([batch.users, data.n_users + batch.pos, data.n_users + batch.neg])
    assert ReceptiveField(model.graph, targets, n_layers).sizes()[1] < data.n_users + data.n_items


def test_ids_and_preferences_are_trained(tiny):
    model = make_model("MMGCN", tiny)
    before = model.id_embedding.detach().clone(), model.towers[1].preference.detach().clone()
    train_steps(model, tiny, steps=2)
    assert not torch.equal(before[0], model.id_embedding) and not torch.equal(before[1], model.towers[1].preference)


def test_regulariser_weight(tiny):
    batch = random_batch(tiny)
    base, heavy = make_model("MMGCN", tiny, reg_weight=0.0), make_model("MMGCN", tiny, reg_weight=1.0)
    with torch.no_grad():
        items = tiny.n_users + torch.stack([batch.pos, batch.neg], 1).reshape(-1)
        ids = heavy.id_embedding
        reg = (ids[batch.users.repeat_interleave(2)] ** 2 + ids[items] ** 2).mean()
        reg = reg + (heavy.towers[0].preference.pow(2).mean() + heavy.towers[1].preference.pow(2).mean()) / 2
        assert torch.allclose(heavy.loss(batch) - base.loss(batch), reg, atol=1e-6)


def test_mean_aggregation_graph_is_cached():
    cache = DerivedCache()
    make_model("MMGCN", make_input(cache=cache))
    make_model("MMGCN", make_input(cache=cache))
    assert cache.misses == 1 and cache.hits == 1
