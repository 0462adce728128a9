"""New items: a seeded share of the catalogue that never appears in training."""
import numpy as np
import pytest

from mmstudy.data import load_dataset, make_split
from mmstudy.errors import ConfigError
from mmstudy.missing.cold import cold_start_split


@pytest.fixture(scope="module")
def split():
    return make_split(load_dataset("synthetic", n_users=200, n_items=150, n_interactions=3000), method="random")


def test_cold_items_have_no_training_interactions_and_nothing_is_lost(split):
    cold_split, cold = cold_start_split(split, 0.2, seed=3)
    assert len(cold) == round(0.2 * np.count_nonzero(np.diff(split.train.tocsc().indptr)))
    assert cold_split.train[:, cold].nnz == 0  # the new items are new
    for part in ("train", "valid", "test"):
        other = np.setdiff1d(np.arange(split.shape[1]), cold)
        if part == "train":
            assert (cold_split.train[:, other] != split.train[:, other]).nnz == 0  # warm training untouched
    total = sum(getattr(s, p).nnz for s in (split,) for p in ("train", "valid", "test"))
    assert total == cold_split.train.nnz + cold_split.valid.nnz + cold_split.test.nnz
    assert cold_split.valid[:, cold].nnz > split.valid[:, cold].nnz and cold_split.test[:, cold].nnz > 0
    assert cold_split.info["cold_items"] == len(cold)


def test_seeded_and_different_across_seeds(split):
    a, b, c = (cold_start_split(split, 0.2, seed)[1] for seed in (1, 1, 2))
    assert np.array_equal(a, b) and not np.array_equal(a, c)


@pytest.mark.parametrize("share, message", [(0.0, "must lie in \\(0, 1\\)"), (1.0, "must lie in \\(0, 1\\)"),
                                            (0.001, "holds out 0 of the"), (0.999, "keeps at least one item")])
def test_impossible_shares_are_one_clear_error(split, share, message):
    with pytest.raises(ConfigError, match=message):
        cold_start_split(split, share, 0)
