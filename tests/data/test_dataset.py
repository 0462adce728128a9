"""Tests of the Dataset methods added by the data layer (subset, ratings alignment)."""
import numpy as np
import pytest
import scipy.sparse as sp

from mmstudy.data import Dataset, load_mmrec, make_synthetic
from mmstudy.errors import DataError


def test_subset_items_drops_interactions_and_remaps_modalities():
    ds = make_synthetic(n_users=30, n_items=20, n_interactions=300)
    keep = np.zeros(20, bool)
    keep[[1, 4, 7]] = True
    out = ds.subset_items(keep)
    assert out.n_items == 3 and out.n_users == 30
    assert (out.interactions != ds.interactions[:, [1, 4, 7]]).nnz == 0
    np.testing.assert_array_equal(out.modalities["image"].features, ds.modalities["image"].features[[1, 4, 7]])
    assert out.modalities["text"].raw == [ds.modalities["text"].raw[i] for i in (1, 4, 7)]
    assert (out.timestamps != ds.timestamps[:, [1, 4, 7]]).nnz == 0
    np.testing.assert_array_equal(ds.subset_items(np.array([7, 1])).item_ids, [7, 1])


def test_subset_follows_fixed_split(mmrec_dir):
    ds = load_mmrec(mmrec_dir)
    out = ds.subset(users=np.array([2, 0]), items=np.array([True, False, True, True]))
    assert out.fixed_split.test.shape == (2, 3)
    assert out.fixed_split.test[0, 2] == 1 and out.fixed_split.valid[1, 1] == 1


def test_bad_subset_selection():
    ds = make_synthetic(n_users=30, n_items=20, n_interactions=300)
    with pytest.raises(DataError, match="items mask has shape"):
        ds.subset_items(np.ones(5, bool))
    with pytest.raises(DataError, match="items index out of range"):
        ds.subset_items(np.array([25]))


def test_misaligned_timestamps_are_rejected():
    inter = sp.csr_matrix(np.array([[1, 0], [0, 1]], np.float32))
    ts = sp.csr_matrix(np.array([[5, 6], [0, 7]], np.float64))
    with pytest.raises(DataError, match="timestamps do not have the same entries"):
        Dataset("x", np.arange(2), np.arange(2), inter, timestamps=ts)


def test_zero_dim_modality_is_accepted():
    from mmstudy.data import Modality
    m = Modality("text", "text", np.zeros((3, 0), np.float32), np.array([True, False, True]), raw=["a", None, "b"])
    assert m.dim == 0 and m.subset(np.array([2])).raw == ["b"]
