"""Joint vs coordinated representations and the InfoNCE alignment loss."""
import pytest
import torch

from mmstudy.errors import ConfigError
from mmstudy.models import make_model
from mmstudy.registry import UnknownNameError
from mmstudy.schema.representation import (CoordinatedRepresentation, JointRepresentation, info_nce,
                                           make_representation)

from .toys import make_input


def test_joint_has_one_projection_of_the_concatenated_features(tiny):
    rep = make_representation("joint", tiny, 5)
    assert isinstance(rep, JointRepresentation) and rep.n_outputs == 1
    assert rep.projection.linear.weight.shape == (5, 12 + 8)
    out = rep(torch.tensor([0, 3, 3]))
    assert len(out) == 1 and out[0].shape == (3, 5) and torch.equal(out[0][1], out[0][2])
    assert sum(p.numel() for p in rep.parameters()) == (20 + 1) * 5


def test_coordinated_has_one_projection_per_modality(tiny):
    rep = make_representation("coordinated", tiny, 5)
    assert isinstance(rep, CoordinatedRepresentation) and rep.n_outputs == 2
    assert [p.linear.weight.shape for p in rep.projections] == [(5, 12), (5, 8)]
    assert [o.shape for o in rep()] == [(40, 5), (40, 5)]
    assert sum(p.numel() for p in rep.parameters()) == (12 + 1) * 5 + (8 + 1) * 5


def test_unknown_representation_suggests_a_name(tiny):
    with pytest.raises(UnknownNameError, match="Did you mean 'coordinated'"):
        make_representation("coordinatd", tiny, 5)


def test_info_nce_is_small_for_aligned_views_and_symmetric():
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(16, 8, generator=g), torch.randn(16, 8, generator=g)
    aligned, random = info_nce(a, a * 3.0), info_nce(a, b)
    assert torch.isfinite(random) and aligned < random
    assert torch.isclose(info_nce(a, b), info_nce(b, a))
    with pytest.raises(ValueError, match="one shape"):
        info_nce(a, b[:, :4])
    with pytest.raises(ConfigError, match="temperature"):
        info_nce(a, b, temperature=0)


def test_alignment_loss_decreases_when_optimised(tiny):
    torch.manual_seed(0)
    rep = make_representation("coordinated", tiny, 6)
    items = torch.arange(tiny.n_items)
    optimizer = torch.optim.Adam(rep.parameters(), lr=0.05)
    losses = []
    for _ in range(60):
        optimizer.zero_grad()
        loss = rep.alignment_loss(items, temperature=0.2)
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    assert all(torch.isfinite(torch.tensor(losses)))
    assert losses[-1] < 0.5 * losses[0]


def test_alignment_is_zero_without_two_modalities():
    one = make_representation("coordinated", make_input(dims=(7,)), 4)
    joint = make_representation("joint", make_input(), 4)
    items = torch.arange(5)
    assert one.alignment_loss(items, 0.2) == 0 and joint.alignment_loss(items, 0.2) == 0


def test_mf_fusion_joint_has_vbprs_parameter_structure(tiny):
    fusion = make_model("MF-Fusion", tiny, representation="joint", operator="concat")
    vbpr = make_model("VBPR", tiny)
    shapes = sorted(tuple(p.shape) for p in fusion.parameters())
    assert shapes == sorted(tuple(p.shape) for p in vbpr.parameters())
    coordinated = make_model("MF-Fusion", tiny, representation="coordinated", operator="concat")
    assert coordinated.content.output_dim == 2 * 64 and coordinated.user_embedding.shape == (30, 64 + 128)
