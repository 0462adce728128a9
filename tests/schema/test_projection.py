"""Content projections: the rows asked for, private trainable copies, modality order."""
from types import SimpleNamespace

import pytest
import torch

from mmstudy.schema.projection import FeatureProjection, concat_features, modality_projections


def test_projection_of_selected_items_equals_rows_of_full_projection():
    proj = FeatureProjection(torch.randn(10, 4), 3)
    items = torch.tensor([7, 2, 7, 0, 2])
    assert torch.allclose(proj(items), proj()[items])


def test_trainable_features_are_a_private_copy():
    features = torch.randn(6, 4)
    original = features.clone()
    proj = FeatureProjection(features, 3, trainable=True)
    assert isinstance(proj.features, torch.nn.Parameter)
    opt = torch.optim.SGD(proj.parameters(), lr=1.0)
    proj(torch.tensor([1, 2])).sum().backward()
    opt.step()
    assert torch.equal(features, original) and not torch.equal(proj.features.detach(), original)


def test_frozen_features_are_an_unsaved_buffer():
    proj = FeatureProjection(torch.randn(6, 4), 3)
    assert all(not n.startswith("features") for n, _ in proj.named_parameters())
    assert "features" not in proj.state_dict()


def test_xavier_normal_init_zeroes_the_bias_and_rejects_unknown_inits():
    assert torch.equal(FeatureProjection(torch.randn(6, 4), 3, init="xavier_normal").linear.bias, torch.zeros(3))
    with pytest.raises(ValueError, match="unknown init"):
        FeatureProjection(torch.randn(6, 4), 3, init="orthogonal")


def test_concat_and_per_modality_projections_follow_modality_order():
    tiny = SimpleNamespace(features={"m0": torch.randn(5, 12), "m1": torch.randn(5, 8)})
    assert torch.equal(concat_features(tiny), torch.cat([tiny.features["m0"], tiny.features["m1"]], 1))
    assert [p.linear.in_features for p in modality_projections(tiny, 5)] == [12, 8]
