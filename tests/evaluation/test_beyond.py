"""Beyond-accuracy metrics against direct hand/brute-force computations."""
import math

import numpy as np
import pytest
import scipy.sparse as sp

from mmstudy.evaluation.beyond import (aplt, arp, beyond_metrics, coverage, efd, gini_diversity,
                                       item_popularity, long_tail_mask)

TRAIN = sp.csr_matrix(np.array([  # item popularity: 4, 3, 2, 1, 0, 0
    [1, 1, 1, 1, 0, 0],
    [1, 1, 1, 0, 0, 0],
    [1, 1, 0, 0, 0, 0],
    [1, 0, 0, 0, 0, 0],
], dtype=np.float32))


def mean_difference_gini(counts: np.ndarray) -> float:
    """Gini as the relative mean absolute difference (an independent formula)."""
    x = counts.astype(float)
    return np.abs(x[:, None] - x[None, :]).sum() / (2 * len(x) ** 2 * x.mean())


def test_popularity_and_short_head():
    pop = item_popularity(TRAIN)
    np.testing.assert_array_equal(pop, [4, 3, 2, 1, 0, 0])
    # 80% of 10 interactions = 8: items 0, 1 cover 7, items 0, 1, 2 cover 9 -> head = {0, 1, 2}
    np.testing.assert_array_equal(long_tail_mask(pop), [False, False, False, True, True, True])
    assert long_tail_mask(np.zeros(3)).all()


def test_coverage_and_gini_diversity():
    topk = np.array([[0, 1], [0, 2], [0, -1]])
    assert coverage(topk, 6) == pytest.approx(3 / 6)
    counts = np.array([3, 1, 1, 0, 0, 0])
    assert gini_diversity(topk, 6) == pytest.approx(1 - mean_difference_gini(counts))
    assert gini_diversity(np.array([[0, 1, 2], [3, 4, 5]]), 6) == pytest.approx(1.0)
    assert gini_diversity(np.array([[2], [2]]), 4) == pytest.approx(1 / 4)
    assert gini_diversity(np.full((2, 2), -1), 4) == 0.0


@pytest.mark.parametrize("seed", [0, 1])
def test_gini_matches_independent_formula_on_random_lists(seed):
    rng = np.random.default_rng(seed)
    topk = rng.integers(0, 40, size=(30, 10))
    counts = np.bincount(topk.ravel(), minlength=50)
    assert gini_diversity(topk, 50) == pytest.approx(1 - mean_difference_gini(counts))


def test_per_user_popularity_metrics():
    pop = item_popularity(TRAIN)
    tail = long_tail_mask(pop)
    topk = np.array([[0, 3], [4, 5], [1, -1]])
    np.testing.assert_allclose(aplt(topk, tail), [0.5, 1.0, 0.0])
    np.testing.assert_allclose(arp(topk, pop), [2.5, 0.0, 3.0])


def test_efd_follows_the_documented_formula():
    pop = item_popularity(TRAIN)
    topk = np.array([[0, 3, 5], [2, -1, -1]])

    def brute(row):
        num = den = 0.0
        for r, item in enumerate(row, start=1):
            if item < 0:
                continue
            disc = 1 / math.log2(r + 1)
            num += disc * -math.log2(max(pop[item], 1) / 4)
            den += disc
        return num / den

    np.testing.assert_allclose(efd(topk, pop, n_users=4), [brute(r) for r in topk])
    assert efd(np.array([[0]]), pop, 4)[0] == 0.0  # an item every user has seen is not novel


def test_beyond_metrics_columns_per_cutoff():
    topk = np.array([[0, 3, 4], [1, 2, 5]])
    per_user, lists = beyond_metrics(topk, TRAIN, (1, 3))
    assert set(per_user) == {f"{m}@{k}" for m in ("APLT", "ARP", "EFD") for k in (1, 3)}
    assert set(lists) == {f"{m}@{k}" for m in ("Coverage", "GiniDiversity") for k in (1, 3)}
    assert lists["Coverage@1"] == pytest.approx(2 / 6) and lists["Coverage@3"] == pytest.approx(1.0)
    np.testing.assert_allclose(per_user["ARP@1"], [4.0, 3.0])
