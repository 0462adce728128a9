"""Beyond-accuracy metrics of the recommendation lists, all relative to TRAINING popularity.

`topk` is the (n_users x k) item matrix of one cutoff; -1 marks an empty slot (a user with fewer
than k unseen items) and is ignored. Definitions:

- Coverage@k       share of the catalogue recommended to at least one user.
- GiniDiversity@k  1 - Gini index of how often each catalogue item is recommended (items never
                   recommended count as 0). HIGHER = MORE DIVERSE: 1 means every item is
                   recommended equally often; all recommendations on one item give 1/n_items.
- APLT@k           (per user) share of the list's k slots holding long-tail items. The short head
                   is the smallest set of most popular items that together cover 80% of training
                   interactions (Abdollahpouri et al. 2019); every other item is long tail.
- ARP@k            (per user) mean training popularity (interaction count) of the listed items.
- EFD@k            (per user) expected free discovery (Vargas & Castells 2011), relevance-free
                   variant with log rank discount:
                       EFD@k(u) = sum_r disc(r) * -log2 p(seen|i_r) / sum_r disc(r),
                       disc(r) = 1 / log2(r + 1),  p(seen|i) = max(pop_i, 1) / n_users,
                   where pop_i counts the training users of item i (never-seen items get the
                   novelty of an item seen once, as in Elliot).

The list-level APLT/ARP/EFD are the means of the per-user columns (MMRec/Elliot convention).
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

SHORT_HEAD_SHARE = 0.8
LIST_METRICS = ("Coverage", "GiniDiversity")
USER_METRICS = ("APLT", "ARP", "EFD")


def item_popularity(train: sp.spmatrix) -> np.ndarray:
    """Number of training interactions (= users, for binary data) of every item."""
    return np.asarray(sp.csr_matrix(train).sum(axis=0), dtype=np.float64).ravel()


def long_tail_mask(popularity: np.ndarray, head_share: float = SHORT_HEAD_SHARE) -> np.ndarray:
    """True for long-tail items: outside the most popular items covering `head_share` of interactions."""
    order = np.argsort(-popularity, kind="stable")
    cumulative = np.cumsum(popularity[order])
    n_head = int(np.searchsorted(cumulative, head_share * cumulative[-1])) + 1 if cumulative[-1] > 0 else 0
    tail = np.ones(len(popularity), dtype=bool)
    tail[order[:n_head]] = False
    return tail


def recommendation_counts(topk: np.ndarray, n_items: int) -> np.ndarray:
    """How often each catalogue item appears in the lists."""
    return np.bincount(topk[topk >= 0], minlength=n_items)


def coverage(topk: np.ndarray, n_items: int) -> float:
    """Share of the catalogue recommended at least once."""
    return float((recommendation_counts(topk, n_items) > 0).mean())


def gini_diversity(topk: np.ndarray, n_items: int) -> float:
    """1 - Gini of the recommendation counts over all items (higher = more diverse)."""
    counts = np.sort(recommendation_counts(topk, n_items)).astype(np.float64)
    if counts.sum() == 0:
        return 0.0
    n = len(counts)
    gini = np.sum((2 * np.arange(1, n + 1) - n - 1) * counts) / (n * counts.sum())
    return float(1.0 - gini)


def _per_slot(topk: np.ndarray, item_values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    valid = topk >= 0
    return np.where(valid, item_values[np.where(valid, topk, 0)], 0.0), valid


def aplt(topk: np.ndarray, tail: np.ndarray) -> np.ndarray:
    """Per user: long-tail items in the list / k."""
    values, _ = _per_slot(topk, tail.astype(np.float64))
    return values.sum(axis=1) / topk.shape[1]


def arp(topk: np.ndarray, popularity: np.ndarray) -> np.ndarray:
    """Per user: mean training popularity of the listed items (empty slots ignored)."""
    values, valid = _per_slot(topk, popularity)
    return values.sum(axis=1) / np.maximum(valid.sum(axis=1), 1)


def efd(topk: np.ndarray, popularity: np.ndarray, n_users: int) -> np.ndarray:
    """Per user: rank-discounted mean novelty -log2 p(seen|i) (see the module docstring)."""
    novelty = -np.log2(np.maximum(popularity, 1.0) / max(n_users, 1))
    values, valid = _per_slot(topk, novelty)
    discount = 1.0 / np.log2(np.arange(2, topk.shape[1] + 2))
    return (values * discount).sum(axis=1) / np.maximum((valid * discount).sum(axis=1), 1e-12)


def beyond_metrics(topk: np.ndarray, train: sp.spmatrix, cutoffs: tuple[int, ...]
                   ) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """(per-user columns, list-level values) of every beyond-accuracy metric at every cutoff."""
    popularity = item_popularity(train)
    tail = long_tail_mask(popularity)
    n_users, n_items = train.shape
    per_user: dict[str, np.ndarray] = {}
    lists: dict[str, float] = {}
    for k in cutoffs:
        top = topk[:, :k]
        lists[f"Coverage@{k}"] = coverage(top, n_items)
        lists[f"GiniDiversity@{k}"] = gini_diversity(top, n_items)
        per_user[f"APLT@{k}"] = aplt(top, tail)
        per_user[f"ARP@{k}"] = arp(top, popularity)
        per_user[f"EFD@{k}"] = efd(top, popularity, n_users)
    return per_user, lists
