import json

import numpy as np
import pytest
import scipy.sparse as sp

from mmstudy.data import Split, load_or_make_split, make_split, make_synthetic, random_holdout, temporal_holdout
from mmstudy.data.holdout import holdout_labels
from mmstudy.errors import ConfigError, DataError
from mmstudy.registry import UnknownNameError


@pytest.fixture(scope="module")
def ds():
    return make_synthetic(n_users=200, n_items=150, n_interactions=4000)


def parts(split):
    return [split.train, split.valid, split.test]


def test_random_holdout_partitions_interactions(ds):
    split = random_holdout(ds.interactions, (0.8, 0.1, 0.1), seed=3)
    total = split.train + split.valid + split.test
    assert (total != ds.interactions).nnz == 0  # disjoint (Split checks) and complete
    counts = np.diff(ds.interactions.indptr)
    test = np.diff(split.test.indptr)
    np.testing.assert_array_equal(test, np.floor(counts * 0.1 + 0.5))
    assert abs(split.train.nnz / ds.n_interactions - 0.8) < 0.02
    assert split.info["ratios"] == [0.8, 0.1, 0.1] and split.info["cold_users_test"] == 0


def test_random_holdout_is_deterministic_per_seed(ds):
    a, b, c = (random_holdout(ds.interactions, seed=s) for s in (1, 1, 2))
    assert a.checksum == b.checksum != c.checksum


def test_small_users_keep_a_training_item():
    m = sp.csr_matrix(np.triu(np.ones((6, 6), np.float32))[::-1])  # users with 1..6 interactions
    split = random_holdout(m, (0.4, 0.3, 0.3), seed=0)
    train = np.diff(split.train.indptr)
    assert (train >= 1).all()
    # users have 1..6 interactions; validation gives way first so that one item stays in training
    np.testing.assert_array_equal(np.diff(split.test.indptr), [0, 1, 1, 1, 2, 2])
    np.testing.assert_array_equal(np.diff(split.valid.indptr), [0, 0, 1, 1, 2, 2])


def test_holdout_labels_take_the_last_in_order():
    rows = np.array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    labels = holdout_labels(rows, np.arange(10), 1, (0.8, 0.1, 0.1))
    np.testing.assert_array_equal(labels, [0] * 8 + [1, 2])


def test_temporal_holdout_orders_by_time(ds):
    split = temporal_holdout(ds.interactions, ds.timestamps, (0.7, 0.15, 0.15))
    ts = ds.timestamps
    for u in range(0, ds.n_users, 17):
        t = lambda part: ts[u, part[u].indices].toarray().ravel()
        if split.valid[u].nnz and split.test[u].nnz:
            assert t(split.train).max() <= t(split.valid).min() <= t(split.valid).max() <= t(split.test).min()
    assert split.method == "temporal"
    with pytest.raises(DataError, match="needs timestamps"):
        temporal_holdout(ds.interactions, None)


def test_make_split_methods_and_errors(ds, mmrec_dir):
    from mmstudy.data import load_mmrec
    assert make_split(ds, "Random", seed=0).checksum == random_holdout(ds.interactions, seed=0).checksum
    fixed = make_split(load_mmrec(mmrec_dir), "fixed")
    assert fixed.method == "fixed" and "cold_users_valid" in fixed.info
    with pytest.raises(DataError, match="has no fixed split"):
        make_split(ds, "fixed")
    with pytest.raises(UnknownNameError, match="Did you mean 'temporal'"):
        make_split(ds, "temporl")
    for bad in [(0.5, 0.5), (0.8, 0.3, 0.1), (0.0, 0.5, 0.5), (1.1, -0.1, 0.0)]:
        with pytest.raises(ConfigError, match="ratios"):
            make_split(ds, "random", bad)


def test_cold_users_recorded_in_info(mmrec_dir):
    from mmstudy.data import load_mmrec
    from .files import write_tsv
    write_tsv(mmrec_dir / "toy.inter", ["userID", "itemID", "x_label"], [[0, 0, 0], [1, 1, 2], [2, 2, 1], [2, 3, 0]])
    split = make_split(load_mmrec(mmrec_dir), "fixed")
    assert split.info["cold_users_test"] == 1 and split.info["cold_users_valid"] == 0


def test_load_or_make_split_persists_and_reuses(ds, tmp_path):
    first = load_or_make_split(ds, tmp_path, "random", seed=5)
    files = sorted(p.suffix for p in tmp_path.iterdir())
    assert files == [".json", ".npz"]
    again = load_or_make_split(ds, tmp_path, "random", seed=5)
    assert again.checksum == first.checksum and "reused_from" in again.info
    assert again.info["ratios"] == [0.8, 0.1, 0.1]
    load_or_make_split(ds, tmp_path, "random", seed=6)
    assert len(list(tmp_path.glob("*.npz"))) == 2
    records = [json.loads(p.read_text()) for p in tmp_path.glob("*.json")]
    assert {r["key"]["seed"] for r in records} == {5, 6}
    assert all(r["key"]["dataset"] == ds.fingerprint() for r in records)
    assert first.checksum in {r["checksum"] for r in records}


def test_load_or_make_split_detects_tampering(ds, tmp_path):
    split = load_or_make_split(ds, tmp_path, "temporal")
    npz = next(tmp_path.glob("*.npz"))
    other = random_holdout(ds.interactions, seed=0)
    other.save(npz)  # a valid split file, but not the recorded one
    with pytest.raises(DataError, match="does not match its record"):
        load_or_make_split(ds, tmp_path, "temporal")
    assert split.method == "temporal"


def test_split_save_load_round_trip(ds, tmp_path):
    split = random_holdout(ds.interactions, seed=0)
    split.save(tmp_path / "s.npz")
    loaded = Split.load(tmp_path / "s.npz")
    assert loaded.checksum == split.checksum and loaded.seed == 0
