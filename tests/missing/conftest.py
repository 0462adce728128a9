"""Small interaction matrices and modalities shared by the missing-modality tests."""
import numpy as np
import pytest
import scipy.sparse as sp

from mmstudy.data.modality import Modality


def interactions(baskets, n_items, n_users=None):
    """A binary (users x items) CSR matrix where user u interacted with the items in baskets[u]."""
    rows = np.repeat(np.arange(len(baskets)), [len(b) for b in baskets])
    cols = np.concatenate([np.asarray(b, dtype=np.int64) for b in baskets]) if baskets else np.zeros(0, np.int64)
    shape = (n_users or len(baskets), n_items)
    return sp.csr_matrix((np.ones(len(cols), np.float32), (rows, cols)), shape=shape)


def modality(features, present=None, name="text"):
    features = np.asarray(features, dtype=np.float32)
    present = np.ones(len(features), bool) if present is None else np.asarray(present, bool)
    return Modality(name, "text", features, present)


def random_interactions(n_users, n_items, density, seed):
    rng = np.random.default_rng(seed)
    m = sp.random(n_users, n_items, density=density, format="csr", random_state=rng, dtype=np.float32)
    m.data[:] = 1.0
    return m


@pytest.fixture
def path_train():
    """Path graph 0-1-2-3-4 (one user per consecutive pair), an isolated item 5 (its only user
    interacted with nothing else) and a pair 6-7 linked only to each other."""
    return interactions([[0, 1], [1, 2], [2, 3], [3, 4], [5], [6, 7]], n_items=8)
