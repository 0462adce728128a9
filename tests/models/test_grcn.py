"""GRCN: routing-refined edge weights and the towers equal a dense reference computation."""
import pytest
import torch
from torch.nn import functional as F

from mmstudy.models import MODELS, make_model

from zoo_checks import check_contract


@pytest.mark.parametrize("dims", [(12,), (12, 8)])
def test_contract(dims):
    check_contract("GRCN", dims)


def test_defaults():
    cls = MODELS.get("grcn")
    assert cls.cf_counterpart == "LightGCN" and cls.defaults["n_routing"] == 3 and cls.defaults["reg_weight"] == 1e-4


def masked_softmax(scores, mask, dim):
    return torch.softmax(scores.masked_fill(~mask, -torch.inf), dim=dim).nan_to_num() * mask


def dense_tower(tower, mask, n_routing):
    items = F.normalize(F.leaky_relu(tower.mlp(tower.features)), dim=1)
    users = F.normalize(tower.preference, dim=1)
    for _ in range(n_routing):
        users = F.normalize(users + masked_softmax(users @ items.T, mask, 1) @ items, dim=1)
    scores = users @ items.T
    to_users, to_items = masked_softmax(scores, mask, 1), masked_softmax(scores, mask, 0)
    return torch.cat([users + to_users @ items, items + to_items.T @ users]), to_users, to_items


def test_forward_matches_the_dense_reference(tiny):
    model = make_model("GRCN", tiny, n_routing=2)
    mask = torch.from_numpy(tiny.train.toarray() > 0)
    n_users = tiny.n_users
    with torch.no_grad():
        towers = [dense_tower(t, mask, 2) for t in model.towers]
        conf_users, conf_items = model.confidence[:n_users], model.confidence[n_users:]
        into_users = torch.stack([t[1] * conf_items[:, m][None, :] for m, t in enumerate(towers)]).amax(0)
        into_items = torch.stack([t[2] * conf_users[:, m][:, None] for m, t in enumerate(towers)]).amax(0)
        into_users, into_items = F.relu(into_users) * mask, F.relu(into_items) * mask
        x = F.normalize(model.id_embedding, dim=1)
        out, layer = x, x
        for _ in range(2):
            layer = torch.cat([into_users @ layer[n_users:], into_items.T @ layer[:n_users]])
            out = out + layer
        expected = torch.cat([out, towers[0][0], towers[1][0]], dim=1)
        assert torch.allclose(model.forward(), expected, atol=1e-5)


def test_routing_refines_user_preferences(tiny):
    model = make_model("GRCN", tiny)
    with torch.no_grad():
        routed = model.towers[0](model.edges, 3)[0]
        plain = model.towers[0](model.edges, 0)[0]
    assert not torch.allclose(routed[:tiny.n_users], plain[:tiny.n_users])


def test_refined_weights_are_pruned_and_representation_concatenates(tiny):
    model = make_model("GRCN", tiny, embedding_size=16, latent_dim=8)
    with torch.no_grad():
        _, to_users, to_items = zip(*(t(model.edges, 3) for t in model.towers))
        into_users, into_items = model.refined_weights(list(to_users), list(to_items))
        users, items = model.representations()
    assert (into_users >= 0).all() and (into_items >= 0).all() and (into_users == 0).any()
    assert users.shape == (tiny.n_users, 16 + 2 * 8) and items.shape == (tiny.n_items, 16 + 2 * 8)
