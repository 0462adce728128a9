"""LightGCN-M: a collaborative and a content channel propagated by the same LightGCN graph."""
import torch
from torch.nn import functional as F

from mmstudy.models import make_model

from model_toys import dense_lightgcn, train_steps


def test_score_is_the_sum_of_two_propagated_channels(tiny):
    model = make_model("LightGCN-M", tiny, n_layers=2)
    with torch.no_grad():
        content = F.normalize(model.content.linear(torch.cat([tiny.features["m0"], tiny.features["m1"]], 1)), dim=1)
        collab = dense_lightgcn(tiny, torch.cat([model.user_embedding, model.item_embedding]), 2)
        multi = dense_lightgcn(tiny, torch.cat([model.user_content, content]), 2)
        u, n = slice(0, tiny.n_users), slice(tiny.n_users, None)
        expected = collab[u] @ collab[n].T + multi[u] @ multi[n].T
        assert torch.allclose(model.score(torch.arange(tiny.n_users)), expected, atol=1e-5)


def test_features_are_fine_tuned_on_a_private_copy(tiny):
    before = tiny.features["m1"].clone()
    model = make_model("LightGCN-M", tiny)
    train_steps(model, tiny, steps=3)
    assert torch.equal(tiny.features["m1"], before)
    assert not torch.equal(model.content.features.detach()[:, 12:], before)


def test_frozen_features_option(tiny):
    model = make_model("LightGCN-M", tiny, finetune_features=False)
    assert "content.features" not in dict(model.named_parameters())


def test_is_lightgcn_plus_content(tiny):
    lightgcn, lightgcn_m = make_model("LightGCN", tiny), make_model("LightGCN-M", tiny)
    assert torch.equal(lightgcn.user_embedding, lightgcn_m.user_embedding)  # same init order and seed
    assert lightgcn_m.ego_embeddings().shape == (tiny.n_users + tiny.n_items, 128)


def test_loss_regularises_the_layer0_features_including_content(tiny):
    from mmstudy.models.base import bpr_loss
    from zoo_checks import random_batch

    model = make_model("LightGCN-M", tiny, reg_weight=0.5)
    batch = random_batch(tiny)
    with torch.no_grad():
        ego = model.ego_embeddings()
        users, items = model.representations()
        ranking = bpr_loss((users[batch.users] * items[batch.pos]).sum(1), (users[batch.users] * items[batch.neg]).sum(1))
        layer0 = [ego[batch.users], ego[tiny.n_users + batch.pos], ego[tiny.n_users + batch.neg]]
        reg = sum(t.pow(2).sum() for t in layer0) / len(batch.users)
        assert torch.allclose(model.loss(batch), ranking + 0.5 * reg, atol=1e-5)
