"""Imputation quality against the truth: definitions, and what handle_missing records."""
import math

import numpy as np
import pytest

from mmstudy.data import load_dataset, make_split
from mmstudy.errors import DataError
from mmstudy.missing.handling import handle_missing, mask_for
from mmstudy.missing.quality import imputation_quality, row_quality
from mmstudy.study.cell import MissingConfig

from .conftest import modality


def test_row_quality_hand_computed():
    truth = np.array([[1.0, 0.0], [0.0, 2.0]])
    imputed = np.array([[1.0, 1.0], [0.0, -2.0]])
    q = row_quality(imputed, truth)
    assert q["rows"] == 2
    assert math.isclose(q["cosine"], (1 / math.sqrt(2) - 1) / 2)
    assert math.isclose(q["rse"], (1 + 16) / (1 + 4))  # pooled: sum of squared errors / sum of squared norms


def test_zeros_score_cosine_0_and_rse_1_and_the_truth_scores_1_and_0():
    truth = np.random.default_rng(0).normal(size=(5, 3))
    assert row_quality(np.zeros_like(truth), truth) == {"rows": 5, "cosine": 0.0, "rse": 1.0}
    perfect = row_quality(truth, truth)
    assert math.isclose(perfect["cosine"], 1.0) and perfect["rse"] == 0.0


def test_undefined_cases():
    assert row_quality(np.zeros((0, 3)), np.zeros((0, 3)))["rows"] == 0
    assert math.isnan(row_quality(np.ones((2, 3)), np.zeros((2, 3)))["rse"])
    with pytest.raises(DataError, match="imputed rows \\(2, 3\\) and true rows \\(2, 4\\) differ"):
        row_quality(np.ones((2, 3)), np.ones((2, 4)))


def test_only_rows_that_truly_had_content_are_scored():
    truth = modality(np.arange(8, dtype=np.float32).reshape(4, 2) + 1, present=[1, 1, 0, 1])  # item 2: a natural gap
    filled = modality(np.ones((4, 2)))
    out = imputation_quality({"text": truth}, {"text": filled}, {"text": np.array([True, False, True, False])})
    assert out["text"]["rows"] == 1  # item 0 only; item 2 has no truth
    assert imputation_quality({"text": truth}, {"text": filled}, {"text": np.array([False, False, True, False])}) == {}


@pytest.fixture(scope="module")
def data():
    ds = load_dataset("synthetic", n_users=200, n_items=150, n_interactions=3000, seed=1,
                      missing_share={"image": 0.1, "text": 0.0})
    return ds, make_split(ds, method="random", seed=0)


def test_handle_missing_scores_the_synthetic_rows_of_every_modality(data):
    ds, split = data
    cfg = MissingConfig(setting="independent", rate=0.4, mask_seed=3, strategy="mean")
    out = handle_missing(ds.modalities, split, cfg, {})
    mask = mask_for(ds.modalities, cfg)
    for name, q in out.info["quality"].items():
        rows = mask.synthetic(name) & ds.modalities[name].present
        assert q["rows"] == rows.sum() > 0
        assert q == row_quality(out.modalities[name].features[rows], ds.modalities[name].features[rows])
    assert mask.natural["image"].sum() == 15 and out.info["quality"]["image"]["rows"] == round(0.4 * 135)


def test_no_quality_without_synthetic_masking(data):
    ds, split = data
    natural = handle_missing(ds.modalities, split, MissingConfig(setting="natural", strategy="mean"), {})
    assert natural.info["quality"] == {}
    unmasked = handle_missing(ds.modalities, split, MissingConfig(strategy="mean"), {})
    assert "quality" not in unmasked.info
    dropped = handle_missing(ds.modalities, split, MissingConfig(setting="same", rate=0.3, strategy="dropped"), {})
    assert "quality" not in dropped.info  # nothing is imputed
