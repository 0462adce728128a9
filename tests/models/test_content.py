"""Content projections and hyper-parameter checks."""
import pytest
import torch

from mmstudy.errors import ConfigError
from mmstudy.models.content import FeatureProjection, check_params, concat_features, modality_projections


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


def test_concat_and_per_modality_projections_follow_modality_order(tiny):
    assert torch.equal(concat_features(tiny), torch.cat([tiny.features["m0"], tiny.features["m1"]], 1))
    assert [p.linear.in_features for p in modality_projections(tiny, 5)] == [12, 8]


@pytest.mark.parametrize("rule,bad", [("positive_int", 0), ("positive_int", 2.5), ("nonneg_int", -1),
                                      ("nonneg", -0.1), ("unit", 1.5), ("proportion", 1.0), ("bool", 1),
                                      ("positive_int", True)])
def test_check_params_names_the_offending_key(rule, bad):
    with pytest.raises(ConfigError, match=f"'knob' of model M must be"):
        check_params("M", {"knob": bad}, knob=rule)


def test_check_params_accepts_valid_values():
    check_params("M", {"a": 1, "b": 0, "c": 0.0, "d": 1.0, "e": 0.5, "f": False},
                 a="positive_int", b="nonneg_int", c="nonneg", d="unit", e="proportion", f="bool")
