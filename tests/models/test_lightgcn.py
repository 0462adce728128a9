"""LightGCN: propagation against a dense reference, ego-embedding regularisation."""
import numpy as np
import torch

from mmstudy.models import Batch, make_model

from model_toys import dense_lightgcn


def test_representations_match_dense_propagation(tiny):
    model = make_model("LightGCN", tiny, n_layers=3)
    with torch.no_grad():
        users, items = model.representations()
        expected = dense_lightgcn(tiny, model.ego_embeddings(), 3)
    assert torch.allclose(torch.cat([users, items]), expected, atol=1e-6)


def test_zero_layers_is_matrix_factorisation(tiny):
    model = make_model("lgn", tiny, n_layers=0)
    users, items = model.representations()
    assert torch.equal(users, model.user_embedding) and torch.equal(items, model.item_embedding)


def test_regulariser_uses_ego_embeddings(tiny):
    b = Batch(torch.tensor([0, 5]), torch.tensor([1, 2]), torch.tensor([3, 4]))
    plain = make_model("LightGCN", tiny, reg_weight=0.0)
    regularised = make_model("LightGCN", tiny, reg_weight=2.0)
    p, q = regularised.user_embedding.detach(), regularised.item_embedding.detach()
    reg = (p[b.users].pow(2).sum() + q[b.pos].pow(2).sum() + q[b.neg].pow(2).sum()) / 2
    assert torch.allclose(regularised.loss(b) - plain.loss(b), 2.0 * reg)


def test_item_without_interactions_keeps_its_scaled_ego_embedding(tiny):
    model = make_model("LightGCN", tiny, n_layers=2)
    with torch.no_grad():
        _, items = model.representations()
    last = tiny.n_items - 1
    assert np.asarray(tiny.train.sum(0)).ravel()[last] == 0
    assert torch.allclose(items[last], model.item_embedding[last] / 3)
