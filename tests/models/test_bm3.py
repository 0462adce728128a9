"""BM3: bootstrapped cosine losses without negatives, predictor scoring, reproducible dropout."""
import pytest
import torch
from torch.nn import functional as F

from mmstudy.models import MODELS, make_model
from mmstudy.models.cache import DerivedCache

from model_toys import dense_lightgcn, make_input
from zoo_checks import check_contract, random_batch, same_loss_twice


@pytest.mark.parametrize("dims", [(12,), (12, 8)])
def test_contract(dims):
    check_contract("BM3", dims)


def test_registration_and_defaults():
    cls = MODELS.get("bm3")
    assert cls.uses_negatives is False and cls.multimodal and cls.cf_counterpart == "LightGCN"
    assert {k: cls.defaults[k] for k in ("n_layers", "dropout", "reg_weight", "cl_weight")} == \
        {"n_layers": 1, "dropout": 0.5, "reg_weight": 0.1, "cl_weight": 2.0}


def test_loss_ignores_negatives(tiny):
    model = make_model("BM3", tiny)
    batch = random_batch(tiny)
    other = type(batch)(batch.users, batch.pos, torch.flip(batch.neg, [0]))
    model.on_epoch_start(0, torch.Generator().manual_seed(0))
    first = model.loss(batch)
    model.on_epoch_start(0, torch.Generator().manual_seed(0))
    assert torch.equal(first, model.loss(other))


def test_loss_without_dropout_matches_the_reference_formula(tiny):
    model = make_model("BM3", tiny, dropout=0.0, cl_weight=1.5, reg_weight=0.2)
    batch = random_batch(tiny)
    with torch.no_grad():
        ego = torch.cat([model.user_embedding, model.item_embedding])
        nodes = dense_lightgcn(tiny, ego, 1)
        users, items = nodes[:tiny.n_users], nodes[tiny.n_users:] + model.item_embedding
        u, i = users[batch.users], items[batch.pos]
        cos = lambda a, b: 1 - F.cosine_similarity(a, b, dim=-1).mean()
        p = model.predictor
        expected = cos(p(u), i) + cos(p(i), u)
        for proj in model.projections:
            f = proj.linear(proj.features[batch.pos])
            expected = expected + 1.5 * (cos(p(f), i) + cos(p(f), f))
        expected = expected + 0.2 * (users.norm() + items.norm()) / tiny.n_items
        assert torch.allclose(model.loss(batch), expected, atol=1e-5)


def test_scores_are_predicted_latents(tiny):
    model = make_model("BM3", tiny).eval()
    with torch.no_grad():
        users, items = model.latents()
        expected = model.predictor(users[:3]) @ model.predictor(items).T
        assert torch.allclose(model.score(torch.arange(3)), expected, atol=1e-6)


def test_dropout_is_reproducible_per_generator(tiny):
    first, second = same_loss_twice("BM3", tiny, seed=4)
    assert first == second
    assert same_loss_twice("BM3", tiny, seed=5)[0] != first


def test_features_are_fine_tuned_by_default(tiny):
    names = dict(make_model("BM3", tiny).named_parameters())
    assert "projections.0.features" in names
    assert "projections.0.features" not in dict(make_model("BM3", tiny, finetune_features=False).named_parameters())


def test_training_graph_is_cached():
    cache = DerivedCache()  # the only derived structure is the user-item graph
    make_model("BM3", make_input(cache=cache))
    make_model("BM3", make_input(cache=cache))
    assert cache.misses == 1 and cache.hits == 1
