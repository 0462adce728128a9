"""BPR-MF: loss formula, initialisation and scoring."""
import torch

from mmstudy.models import Batch, make_model


def test_loss_is_bpr_plus_l2_on_batch_embeddings(tiny):
    model = make_model("bpr", tiny, reg_weight=0.5)
    b = Batch(torch.tensor([0, 1, 2]), torch.tensor([3, 4, 5]), torch.tensor([6, 7, 8]))
    p, q = model.user_embedding.detach(), model.item_embedding.detach()
    u, i, j = p[b.users], q[b.pos], q[b.neg]
    ranking = -torch.log(torch.sigmoid((u * i).sum(1) - (u * j).sum(1))).mean()
    reg = (u.pow(2).sum() + i.pow(2).sum() + j.pow(2).sum()) / 3
    assert torch.allclose(model.loss(b), ranking + 0.5 * reg)


def test_scores_are_dot_products(tiny):
    model = make_model("mf", tiny, embedding_size=8)
    assert model.user_embedding.shape == (tiny.n_users, 8)
    with torch.no_grad():
        expected = model.user_embedding[[1, 2]] @ model.item_embedding.T
        assert torch.allclose(model.score(torch.tensor([1, 2])), expected)


def test_xavier_normal_initialisation():
    from model_toys import make_input
    data = make_input(n_users=400, n_items=600)
    model = make_model("BPR-MF", data)
    expected_std = (2.0 / (600 + 64)) ** 0.5
    assert abs(float(model.item_embedding.detach().std()) - expected_std) < 0.05 * expected_std
