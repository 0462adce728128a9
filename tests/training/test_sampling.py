"""NegativeSampler: negatives are never positives, every pair once per epoch, determinism."""
import numpy as np
import pytest
import scipy.sparse as sp
import torch

from mmstudy.errors import ConfigError, DataError
from mmstudy.training import NegativeSampler


def random_train(seed, n_users=50, n_items=20, density=0.4):
    rng = np.random.default_rng(seed)
    return sp.csr_matrix((rng.random((n_users, n_items)) < density).astype(np.float32))


def collect(sampler):
    batches = list(sampler)
    return [torch.cat([getattr(b, f) for b in batches]).numpy() for f in ("users", "pos", "neg")]


@pytest.mark.parametrize("seed", range(5))
def test_negatives_are_never_positives(seed):
    train = random_train(seed, density=0.3 + 0.1 * seed)  # up to 70% dense: many collisions
    sampler = NegativeSampler(train, torch.Generator().manual_seed(seed), batch_size=64)
    dense = train.toarray().astype(bool)
    for _ in range(3):
        users, pos, neg = collect(sampler)
        assert not dense[users, neg].any()
        assert dense[users, pos].all()


@pytest.mark.parametrize("batch_size", [1, 7, 10_000])
def test_every_training_pair_exactly_once_per_epoch(batch_size):
    train = random_train(1)
    sampler = NegativeSampler(train, torch.Generator().manual_seed(0), batch_size=batch_size)
    for _ in range(2):
        users, pos, _ = collect(sampler)
        assert len(users) == train.nnz
        assert len(set(zip(users.tolist(), pos.tolist()))) == train.nnz
    batches = list(sampler)
    assert len(batches) == len(sampler) == -(-train.nnz // batch_size)
    assert all(len(b.users) == batch_size for b in batches[:-1])


def test_same_seed_same_stream_different_epochs_differ():
    train = random_train(2)
    a = NegativeSampler(train, torch.Generator().manual_seed(3), batch_size=32)
    b = NegativeSampler(train, torch.Generator().manual_seed(3), batch_size=32)
    first, second = collect(a), collect(a)
    for x, y in zip(first, collect(b)):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(first[0], second[0])  # reshuffled every epoch


def test_negatives_are_uniform_over_unseen_items():
    train = sp.csr_matrix(np.array([[1, 1, 1, 1, 1, 0, 0, 0, 0, 0]], dtype=np.float32))
    sampler = NegativeSampler(train, torch.Generator().manual_seed(0))
    neg = sampler.sample_negatives(torch.zeros(20_000, dtype=torch.long)).numpy()
    counts = np.bincount(neg, minlength=10)
    assert counts[:5].sum() == 0
    assert np.all(np.abs(counts[5:] / 20_000 - 0.2) < 0.02)


def test_bad_input():
    with pytest.raises(DataError, match="user 1 interacted with every item"):
        NegativeSampler(sp.csr_matrix(np.array([[1, 0], [1, 1]], dtype=np.float32)),
                        torch.Generator())
    with pytest.raises(DataError, match="no interactions"):
        NegativeSampler(sp.csr_matrix((3, 4), dtype=np.float32), torch.Generator())
    with pytest.raises(ConfigError, match="batch_size"):
        NegativeSampler(random_train(0), torch.Generator(), batch_size=0)
