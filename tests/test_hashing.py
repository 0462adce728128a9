"""Fingerprints and atomic writes."""
import os

import numpy as np
import pytest
import scipy.sparse as sp

from mmstudy.hashing import array_sha256, atomic_path, canonical_json, fingerprint, write_json


def test_canonical_json_ignores_key_order():
    assert canonical_json({"b": 1, "a": [1, 2]}) == canonical_json({"a": [1, 2], "b": 1})
    assert fingerprint({"a": np.int64(3)}) == fingerprint({"a": 3})


def test_array_hash_sees_values_shape_and_dtype():
    x = np.arange(6, dtype=np.float32)
    assert array_sha256(x) != array_sha256(x.reshape(2, 3))
    assert array_sha256(x) != array_sha256(x.astype(np.float64))
    y = x.copy()
    y[3] += 1
    assert array_sha256(x) != array_sha256(y)


def test_sparse_hash_is_order_independent():
    a = sp.csr_matrix((np.ones(2), ([0, 1], [1, 0])), shape=(2, 2))
    b = sp.coo_matrix((np.ones(2), ([1, 0], [0, 1])), shape=(2, 2))
    assert array_sha256(a) == array_sha256(b)


def test_atomic_write_leaves_old_file_on_error(tmp_path):
    path = tmp_path / "out.json"
    write_json(path, {"v": 1})
    with pytest.raises(RuntimeError):
        with atomic_path(path) as tmp:
            tmp.write_text("partial")
            raise RuntimeError("interrupted")
    assert '"v": 1' in path.read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]
    assert oct(os.stat(path).st_mode & 0o777) == "0o644"
