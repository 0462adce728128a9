"""Fusion operators, early fusion, the cell's fusion block, and its effect on cell fingerprints."""
import numpy as np
import pytest
import scipy.sparse as sp
import torch

from mmstudy.data.modality import Modality
from mmstudy.data.split import Split
from mmstudy.errors import ConfigError
from mmstudy.hashing import fingerprint
from mmstudy.missing.handling import HandledData
from mmstudy.registry import UnknownNameError
from mmstudy.schema.fusion import AttentionFusion, FusionConfig, early_fuse, make_operator
from mmstudy.study.cell import Cell


def vectors(n=5, dim=4, m=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(n, dim, generator=g) for _ in range(m)]


@pytest.mark.parametrize("name, expected, out_dim", [
    ("concat", lambda e: torch.cat(e, 1), 12),
    ("sum", lambda e: e[0] + e[1] + e[2], 4),
    ("mean", lambda e: (e[0] + e[1] + e[2]) / 3, 4),
    ("product", lambda e: e[0] * e[1] * e[2], 4),
])
def test_fixed_operators_compute_their_definition(name, expected, out_dim):
    e = vectors()
    op = make_operator(name, 4, 3)
    out = op(e)
    assert op.output_dim == out_dim and out.shape == (5, out_dim)
    assert torch.allclose(out, expected(e))


def test_operator_aliases_and_typos():
    assert isinstance(make_operator("gating", 4, 2), AttentionFusion)
    with pytest.raises(UnknownNameError, match="Did you mean 'concat'"):
        make_operator("conact", 4, 2)


def test_operator_refuses_the_wrong_number_of_modalities():
    with pytest.raises(ValueError, match="built for 3 modalities got 2"):
        make_operator("sum", 4, 3)(vectors(m=2))


def test_item_attention_weights_sum_to_one_and_weight_the_modalities():
    e = vectors()
    op = make_operator("attention", 4, 3, attention="item")
    weights = op.weights(e)
    assert weights.shape == (5, 3) and torch.allclose(weights.sum(1), torch.ones(5))
    assert (weights > 0).all() and not torch.allclose(weights[0], weights[1])  # per item
    manual = sum(weights[:, m:m + 1] * e[m] for m in range(3))
    assert torch.allclose(op(e), manual, atol=1e-6)


def test_global_attention_starts_at_the_mean_and_learns_one_weight_per_modality():
    e = vectors()
    op = make_operator("attention", 4, 3, attention="global")
    assert torch.allclose(op(e), torch.stack(e).mean(0), atol=1e-6)
    target = e[1]  # the loss favours modality 1: its weight must grow
    optimizer = torch.optim.SGD(op.parameters(), lr=1.0)
    for _ in range(50):
        optimizer.zero_grad()
        (op(e) - target).pow(2).mean().backward()
        optimizer.step()
    weights = op.weights(e)
    assert torch.allclose(weights.sum(1), torch.ones(5)) and torch.equal(weights[0], weights[4])
    assert weights[0].argmax() == 1 and weights[0, 1] > 0.6


def test_attention_scope_is_checked():
    with pytest.raises(ConfigError, match="scope"):
        make_operator("attention", 4, 2, attention="user")


# --- early fusion ------------------------------------------------------------------------------
def test_early_concat_joins_unit_rows_and_keeps_missing_rows_zero():
    a = np.array([[3.0, 4.0], [0.0, 0.0]], np.float32)
    b = np.array([[1.0, 0.0, 0.0], [0.0, 2.0, 0.0]], np.float32)
    fused = early_fuse([a, b], "concat")
    np.testing.assert_allclose(fused, [[0.6, 0.8, 1, 0, 0], [0, 0, 0, 1, 0]])


def test_early_mean_averages_unit_rows_and_projects_unequal_dimensions():
    a = np.array([[2.0, 0.0], [0.0, 1.0]], np.float32)
    b = np.array([[0.0, 5.0], [0.0, 1.0]], np.float32)
    np.testing.assert_allclose(early_fuse([a, b], "mean"), [[0.5, 0.5], [0.0, 1.0]])
    rng = np.random.default_rng(0)
    c, d = rng.standard_normal((6, 3)).astype(np.float32), rng.standard_normal((6, 8)).astype(np.float32)
    fused = early_fuse([c, d], "mean", seed=1)
    assert fused.shape == (6, 3) and fused.dtype == np.float32
    np.testing.assert_array_equal(fused, early_fuse([c, d], "mean", seed=1))
    assert not np.array_equal(fused, early_fuse([c, d], "mean", seed=2))


def test_early_fusion_refuses_learned_operators():
    with pytest.raises(ConfigError, match="early fusion supports"):
        early_fuse([np.ones((2, 2), np.float32)], "attention")
    with pytest.raises(ConfigError, match="early fusion supports"):
        FusionConfig.parse({"point": "early", "operator": "product"})


def handled_data():
    eye = np.eye(3, dtype=np.float32)
    split = Split(*(sp.csr_matrix(np.roll(eye, k, axis=1)) for k in range(3)))
    image = Modality("image", "image", np.eye(3, 2, dtype=np.float32) * 2, np.array([True, True, False]))
    text = Modality("text", "text", np.ones((3, 4), np.float32), np.array([False, True, True]))
    return HandledData({"image": image, "text": text}, split)


def test_early_transform_gives_the_model_one_fused_modality():
    handled = handled_data()
    out = FusionConfig.parse({"point": "early", "operator": "concat"}).transform(handled)
    assert list(out.modalities) == ["fused"] and out.split is handled.split
    fused = out.modalities["fused"]
    assert fused.features.shape == (3, 6) and fused.present.all()
    assert fused.info["fused_from"] == ["image", "text"]
    intermediate = FusionConfig.parse({"point": "intermediate"})
    assert intermediate.transform(handled) is handled


# --- the cell's fusion block -------------------------------------------------------------------
def test_config_parses_canonical_names_and_keeps_only_its_point_keys():
    cfg = FusionConfig.parse({"point": "Late", "method": "rrf", "grid_step": None})
    assert cfg.to_mapping() == {"point": "late", "method": "rrf", "norm": "minmax", "grid_step": None,
                                "rrf_k": 60.0, "content_only": True}
    mid = FusionConfig.parse({"point": "intermediate", "representation": "coord", "operator": "gating"})
    assert mid.model_params() == {"representation": "coordinated", "operator": "attention", "attention": "item",
                                  "align_weight": 0.0, "temperature": 0.2}
    assert cfg.model_params() == {} and FusionConfig.parse({}) is None


@pytest.mark.parametrize("mapping, message", [
    ({"operator": "sum"}, "missing required key 'point'"),
    ({"point": "erly"}, "Did you mean 'early'"),
    ({"point": "intermediate", "operator": "sume"}, "Did you mean 'sum'"),
    ({"point": "intermediate", "representation": "jiont"}, "Did you mean 'joint'"),
    ({"point": "early", "method": "rrf"}, "unknown key 'method' in fusion \\(point 'early'\\)"),
    ({"point": "late", "method": "rff"}, "Did you mean 'rrf'"),
    ({"point": "late", "norm": "z-score"}, "Did you mean 'zscore'"),
    ({"point": "late", "grid_step": 0.3}, "must divide 1"),
    ({"point": "intermediate", "operator": "sum"}, "operators apply to 'coordinated'"),
    ({"point": "intermediate", "align_weight": -1}, "align_weight"),
    ({"point": "intermediate", "colour": 1}, "unknown key 'colour'"),
])
def test_bad_fusion_blocks_name_the_problem(mapping, message):
    with pytest.raises((ConfigError, UnknownNameError), match=message):
        FusionConfig.parse(mapping)


def test_empty_fusion_keeps_existing_cell_fingerprints():
    cell = Cell(model="VBPR", seed=3, labels={"x": 1})
    legacy = {k: v for k, v in cell.to_dict().items() if k not in ("labels", "fusion")}  # the pre-fusion layout
    legacy["data"] = {k: v for k, v in legacy["data"].items() if k != "features" or v}  # (another optional key)
    assert cell.fingerprint == fingerprint(legacy)
    fused = cell.with_(fusion={"point": "early", "operator": "concat"})
    assert fused.fingerprint != cell.fingerprint
    assert Cell.from_dict(fused.to_dict()).fingerprint == fused.fingerprint
