import numpy as np
import pytest
import scipy.sparse as sp

from mmstudy.data import implicit_threshold, kcore, load_mmrec, make_synthetic, preprocess, reindex
from mmstudy.errors import ConfigError, DataError


def naive_kcore(m, user_k, item_k):
    m = m.toarray().astype(bool)
    users, items = np.ones(m.shape[0], bool), np.ones(m.shape[1], bool)
    while True:
        sub = m & users[:, None] & items[None, :]
        new_u = users & (sub.sum(1) >= user_k)
        new_i = items & (sub.sum(0) >= item_k)
        if (new_u == users).all() and (new_i == items).all():
            return users, items
        users, items = new_u, new_i


@pytest.mark.parametrize("user_k,item_k", [(0, 0), (2, 0), (3, 3), (5, 2), (12, 12)])
def test_kcore_matches_naive_fixed_point(user_k, item_k):
    rng = np.random.default_rng(user_k * 10 + item_k)
    m = sp.random(60, 40, density=0.12, random_state=rng, format="csr")
    users, items = kcore(m, user_k, item_k)
    ref_u, ref_i = naive_kcore(m, user_k, item_k)
    np.testing.assert_array_equal(users, ref_u)
    np.testing.assert_array_equal(items, ref_i)
    core = m[users][:, items]
    if core.nnz:
        assert (core.getnnz(axis=1) >= user_k).all() and (core.getnnz(axis=0) >= item_k).all()


def test_kcore_needs_iteration():
    # item 2 has 2 users, but user 2 only has item 2: removing user 2 drops item 2 below 2
    m = sp.csr_matrix(np.array([[1, 1, 1], [1, 1, 0], [0, 0, 1]]))
    users, items = kcore(m, 2, 2)
    np.testing.assert_array_equal(users, [True, True, False])
    np.testing.assert_array_equal(items, [True, True, False])
    with pytest.raises(ConfigError):
        kcore(m, -1, 0)


def test_implicit_threshold_and_reindex():
    np.testing.assert_array_equal(implicit_threshold(np.array([1, 4, 5, 3.5]), 4), [False, True, True, False])
    assert implicit_threshold(np.array([1, 2]), None).all()
    codes, uniq = reindex(np.array([30, 10, 30, 20]))
    np.testing.assert_array_equal(codes, [2, 0, 2, 1])
    np.testing.assert_array_equal(uniq, [10, 20, 30])


def test_preprocess_keeps_modalities_and_split_consistent(mmrec_dir):
    ds = load_mmrec(mmrec_dir)
    out = preprocess(ds, user_core=2, item_core=2)
    # users 0,1,2 have 3,2,2 items; items 0..3 have 2,2,1,2 -> item 2 goes, then user 0 keeps 2
    assert list(out.item_ids) == [0, 1, 3] and out.n_users == 3
    np.testing.assert_array_equal(out.modalities["text"].features[:, 0], [0, 2, 6])
    split = out.fixed_split
    assert split.train.shape == (3, 3) and split.valid.nnz == 0  # the only valid item was item 2
    total = split.train + split.valid + split.test
    assert (total != out.interactions).nnz == 0
    assert out.meta["preprocessing"][-1]["items_removed"] == 1


def test_preprocess_threshold_and_timestamps_follow():
    ds = make_synthetic(n_users=50, n_items=40, n_interactions=600)
    rng = np.random.default_rng(0)
    ratings = ds.interactions.copy()
    ratings.data = rng.integers(1, 6, ratings.nnz).astype(float)
    from dataclasses import replace
    rated = replace(ds, ratings=ratings)
    out = preprocess(rated, min_rating=4, user_core=1)
    assert out.n_interactions == int((ratings.data >= 4).sum())
    assert (out.ratings.data >= 4).all()
    kept_users = np.flatnonzero(np.diff(rated.interactions.multiply(ratings >= 4).tocsr().indptr) > 0)
    np.testing.assert_array_equal(out.user_ids, ds.user_ids[kept_users])
    # timestamps still belong to the same (user, item) pairs
    u, i = out.interactions.nonzero()
    np.testing.assert_array_equal(np.asarray(out.timestamps[u, i]).ravel(),
                                  np.asarray(ds.timestamps[out.user_ids[u], out.item_ids[i]]).ravel())
    with pytest.raises(DataError, match="has no ratings"):
        preprocess(ds, min_rating=4)
    with pytest.raises(DataError, match="core is empty"):
        preprocess(ds, user_core=1000)
    assert preprocess(ds) is ds
