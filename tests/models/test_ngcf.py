"""NGCF (the paper's propagation rule, message dropout only in the loss) and NGCF-M."""
import pytest
import torch
from torch.nn import functional as F

from mmstudy.models import MODELS, make_model
from mmstudy.models.cache import DerivedCache
from mmstudy.sparse import bipartite_adjacency, degree_normalize

from model_toys import make_input
from zoo_checks import check_contract, random_batch, same_loss_twice


@pytest.mark.parametrize("name,dims", [("NGCF", ()), ("NGCF", (12,)), ("NGCF-M", (12,)), ("NGCF-M", (12, 8))])
def test_contract(name, dims):
    check_contract(name, dims)


def test_registration_and_defaults():
    ngcf, ngcf_m = MODELS.get("ngcf"), MODELS.get("ngcfm")
    assert not ngcf.multimodal and ngcf.cf_counterpart is None
    assert ngcf_m.multimodal and ngcf_m.cf_counterpart == "NGCF" and ngcf_m.defaults == ngcf.defaults
    assert {k: ngcf.defaults[k] for k in ("n_layers", "layer_size", "message_dropout", "reg_weight")} == \
        {"n_layers": 3, "layer_size": 64, "message_dropout": 0.1, "reg_weight": 1e-5}


def test_propagation_follows_the_paper(tiny):
    model = make_model("NGCF", tiny, n_layers=2, layer_size=16)
    lap = torch.from_numpy(degree_normalize(bipartite_adjacency(tiny.train)).toarray())
    eye = torch.eye(len(lap))
    with torch.no_grad():
        x = torch.cat([model.user_embedding, model.item_embedding])
        layers = [x]
        for w1, w2 in zip(model.sum_layers, model.bi_layers):
            x = F.leaky_relu(w1((lap + eye) @ x) + w2((lap @ x) * x), 0.2)
            layers.append(F.normalize(x, dim=1))
        expected = torch.cat(layers, 1)
        users, items = model.representations()
    assert users.shape == (tiny.n_users, 64 + 2 * 16)
    assert torch.allclose(torch.cat([users, items]), expected, atol=1e-5)


def test_message_dropout_only_in_the_loss_and_reproducible(tiny):
    first, second = same_loss_twice("NGCF", tiny, seed=1)
    assert first == second and same_loss_twice("NGCF", tiny, seed=2)[0] != first
    no_dropout = same_loss_twice("NGCF", tiny, seed=1, message_dropout=0.0)[0]
    assert no_dropout != first
    model = make_model("NGCF", tiny)  # training mode
    with torch.no_grad():
        assert torch.equal(model.representations()[0], model.representations()[0])


def test_ngcf_m_adds_a_content_channel_to_the_same_ngcf(tiny):
    ngcf, ngcf_m = make_model("NGCF", tiny), make_model("NGCF-M", tiny)
    with torch.no_grad():
        cf_users, cf_items = ngcf.representations()
        users, items = ngcf_m.representations()
        content = F.normalize(ngcf_m.content.linear(torch.cat([tiny.features["m0"], tiny.features["m1"]], 1)), dim=1)
        expected = cf_users @ cf_items.T + ngcf_m.user_content @ content.T
        assert torch.allclose(users @ items.T, expected, atol=1e-5)
    assert "content.features" not in dict(ngcf_m.named_parameters())  # constant features, as the reference


def test_ngcf_m_regularises_content_terms(tiny):
    batch = random_batch(tiny)
    model = make_model("NGCF-M", tiny, message_dropout=0.0)
    vectors, regularised = model.batch_vectors(batch)
    assert len(regularised) == 6 and all(v.shape[0] == len(batch.users) for v in regularised)
    assert vectors[0].shape == (len(batch.users), 4 * 64 + 64)


def test_ngcf_ignores_features_and_caches_its_graph():
    cache = DerivedCache()
    make_model("NGCF", make_input(cache=cache, dims=()))
    make_model("NGCF", make_input(cache=cache, dims=(3,)))
    assert cache.misses == 1 and cache.hits == 1


def test_node_dropout_keeps_entries_of_the_laplacian_with_rescaling(tiny):
    model = make_model("NGCF", tiny, node_dropout=0.5, message_dropout=0.0)
    dense = model.graph.matrix.to_dense()
    probe = torch.eye(len(dense))
    dropped = model.laplacian(dropout=True)(probe)  # columns of the dropped L
    kept = dropped != 0
    assert torch.allclose(dropped[kept], 2 * dense[kept])  # kept entries scaled by 1/(1-p)
    assert not (kept & (dense == 0)).any()
    assert 0.3 < kept.sum() / (dense != 0).sum() < 0.7
    assert torch.equal(model.laplacian(dropout=False)(probe), model.graph(probe))  # evaluation: intact


def test_contract_with_node_dropout():
    check_contract("NGCF-M", (12,), node_dropout=0.2)


def test_node_dropout_is_reproducible_and_changes_the_loss(tiny):
    first, second = same_loss_twice("NGCF", tiny, seed=1, node_dropout=0.3)
    assert first == second
    assert first != same_loss_twice("NGCF", tiny, seed=1)[0]
    with pytest.raises(Exception, match="node_dropout"):
        make_model("NGCF", tiny, node_dropout=1.0)
