"""Seed batches: every member's loss, gradient and representations are its own model's."""
import dataclasses

import pytest
import torch

from model_toys import make_input
from mmstudy.models import Batch
from mmstudy.models.base import make_model
from mmstudy.models.seed_batch import SEED_BATCHES, batch_class
from mmstudy.models.seed_ops import seed_bpr

SEEDS = (0, 1, 2)
CASES = [("BPR-MF", {}), ("VBPR", {}), ("LightGCN", {"n_layers": 3}), ("LightGCN-M", {}),
         ("LightGCN-M", {"finetune_features": False})]


def members(name, params, data=None, seeds=SEEDS):
    data = data or make_input()
    return [make_model(name, dataclasses.replace(data, seed=s), **params) for s in seeds]


def index_batch(data, b, k, seed=0):
    g = torch.Generator().manual_seed(seed)
    return Batch(*(torch.randint(n, (b, k), generator=g) for n in (data.n_users, data.n_items, data.n_items)))


@pytest.mark.parametrize("name, params", CASES, ids=[f"{n}{p}" for n, p in CASES])
@pytest.mark.parametrize("k", [5, 60])  # VBPR: each seed's own rows (2k < items) / the whole catalogue
def test_each_member_gets_its_own_models_loss_and_gradient(name, params, k):
    data = make_input()
    models = members(name, params, data)
    batch = batch_class(name)(models)
    sample = index_batch(data, len(SEEDS), k)
    losses = batch.loss(sample)
    losses.sum().backward()
    for b, model in enumerate(models):
        alone = model.loss(Batch(sample.users[b], sample.pos[b], sample.neg[b]))
        alone.backward()
        assert losses[b].item() == pytest.approx(alone.item(), rel=1e-5)
        for param_name, stacked in zip(batch.names, batch.stacked):
            own = dict(model.named_parameters())[param_name].grad
            torch.testing.assert_close(stacked.grad[b], own, rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("name, params", CASES, ids=[f"{n}{p}" for n, p in CASES])
def test_representations_and_members_are_the_separate_models(name, params):
    models = members(name, params)
    batch = batch_class(name)(models)
    with torch.no_grad():
        users, items = batch.representations()
        for b, model in enumerate(models):
            own_users, own_items = model.representations()
            torch.testing.assert_close(users[b], own_users, rtol=1e-5, atol=1e-6)
            torch.testing.assert_close(items[b], own_items, rtol=1e-5, atol=1e-6)
    assert batch.member(1, batch.seed_state(1)) is models[1] and not models[1].training


def test_members_keep_their_own_initialisation_and_seeds_differ():
    models = members("BPR-MF", {})
    batch = batch_class("BPR-MF")(models)
    alone = make_model("BPR-MF", dataclasses.replace(make_input(), seed=2))
    assert torch.equal(batch.param("user_embedding")[2], alone.user_embedding)
    assert not torch.equal(batch.param("user_embedding")[0], batch.param("user_embedding")[1])


def test_narrow_keeps_the_chosen_members_and_their_states():
    batch = batch_class("VBPR")(members("VBPR", {}))
    kept = batch.seed_state(2)
    batch.narrow([0, 2])
    assert batch.active == [0, 2] and batch.size == 2
    assert all(torch.equal(kept[n], p[1]) for n, p in zip(batch.names, batch.stacked))
    model = batch.member(2, kept)
    assert torch.equal(model.user_embedding, kept["user_embedding"])


@pytest.mark.parametrize("bad, message", [
    (lambda: [make_model("BPR-MF", make_input()), make_model("BPR-MF", make_input(), embedding_size=8)],
     "equal hyper-parameters"),
    (lambda: [make_model("LightGCN", make_input())], "needs BPRMF members"),
    (lambda: [], "needs BPRMF members"),
])
def test_a_batch_refuses_members_it_cannot_stack(bad, message):
    with pytest.raises(ValueError, match=message):
        SEED_BATCHES[type(make_model("BPR-MF", make_input()))](bad())


def test_only_the_batched_families_have_an_implementation():
    assert {cls.model.__name__ for cls in SEED_BATCHES.values()} == {"BPRMF", "VBPR", "LightGCN", "LightGCNM"}
    assert batch_class("freedom") is None and batch_class("bpr") is not None


@pytest.mark.parametrize("reg, same", [(0.0, False), (1e-2, False), (0.0, True), (0.3, True)])
def test_the_hand_written_bpr_gradient_is_the_gradient(reg, same):
    g = torch.Generator().manual_seed(0)
    users = torch.randn(2, 7, 3, dtype=torch.float64, generator=g, requires_grad=True)
    items = users if same else torch.randn(2, 5, 3, dtype=torch.float64, generator=g, requires_grad=True)
    index = [torch.randint(5, (2, 4), generator=g) for _ in range(3)]
    inputs = (users,) if same else (users, items)
    torch.autograd.gradcheck(lambda *t: seed_bpr(t[0], t[-1], *index, reg), inputs)
