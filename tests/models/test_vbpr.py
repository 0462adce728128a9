"""VBPR: item vectors = [ID embedding; projection of concatenated features]."""
import torch

from mmstudy.models import Batch, make_model


def test_item_vectors_concatenate_id_and_projected_content(tiny):
    model = make_model("VBPR", tiny, embedding_size=16)
    assert model.user_embedding.shape == (tiny.n_users, 32)
    assert model.content.linear.in_features == 12 + 8
    with torch.no_grad():
        features = torch.cat([tiny.features["m0"], tiny.features["m1"]], dim=1)
        expected = torch.cat([model.item_embedding, model.content.linear(features)], dim=1)
        users, items = model.representations()
        assert torch.allclose(items, expected, atol=1e-6)
        assert torch.allclose(model.score(torch.tensor([4])), users[[4]] @ expected.T, atol=1e-5)


def test_features_are_not_trained(tiny):
    model = make_model("VBPR", tiny)
    before = tiny.features["m0"].clone()
    model.loss(Batch(torch.tensor([0]), torch.tensor([1]), torch.tensor([2]))).backward()
    assert all(not name.startswith("content.features") for name, _ in model.named_parameters())
    assert torch.equal(tiny.features["m0"], before)


def test_content_changes_scores(tiny):
    """Two items with identical ID embeddings but different features score differently."""
    model = make_model("VBPR", tiny)
    with torch.no_grad():
        model.item_embedding[1] = model.item_embedding[0]
        scores = model.score(torch.arange(3))
    assert not torch.allclose(scores[:, 0], scores[:, 1])
