"""Interaction preprocessing: implicit-feedback thresholds, k-core filtering, id re-indexing.

`preprocess(dataset, ...)` applies them to a Dataset while keeping timestamps, ratings, the
fixed split and every modality consistent, and records what it did in `meta["preprocessing"]`.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import scipy.sparse as sp

from ..errors import ConfigError, DataError
from .dataset import Dataset


def implicit_threshold(ratings: np.ndarray, min_rating: float | None) -> np.ndarray:
    """Boolean mask of the interactions kept as positives (rating >= min_rating; all if None)."""
    ratings = np.asarray(ratings)
    if min_rating is None:
        return np.ones(ratings.shape, dtype=bool)
    return ratings >= float(min_rating)


def kcore(interactions: sp.spmatrix, user_k: int = 0, item_k: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks of the users and items of the (user_k, item_k)-core.

    Users with fewer than `user_k` and items with fewer than `item_k` interactions are removed
    repeatedly (degrees counted among surviving users/items only) until nothing changes. With
    both thresholds 0 everything is kept, including users/items without interactions.
    """
    if user_k < 0 or item_k < 0:
        raise ConfigError(f"k-core thresholds must be >= 0, got user_k={user_k}, item_k={item_k}")
    coo = sp.coo_matrix(interactions)
    n_users, n_items = coo.shape
    rows, cols = coo.row, coo.col
    users, items = np.ones(n_users, bool), np.ones(n_items, bool)
    alive = np.ones(len(rows), bool)
    while True:
        new_users = users & (np.bincount(rows[alive], minlength=n_users) >= user_k)
        new_items = items & (np.bincount(cols[alive], minlength=n_items) >= item_k)
        if np.array_equal(new_users, users) and np.array_equal(new_items, items):
            return users, items
        users, items = new_users, new_items
        alive &= users[rows] & items[cols]


def reindex(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Contiguous codes 0..k-1 for arbitrary ids: (codes, sorted unique ids), codes[j] = index
    of values[j] in the unique ids."""
    uniques, codes = np.unique(np.asarray(values), return_inverse=True)
    return codes.astype(np.int64).ravel(), uniques


def drop_entries(matrix: sp.csr_matrix | None, keep: np.ndarray) -> sp.csr_matrix | None:
    """A CSR matrix without the stored entries where `keep` (aligned with `.data`) is False."""
    if matrix is None:
        return None
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows[keep], minlength=matrix.shape[0]))])
    return sp.csr_matrix((matrix.data[keep], matrix.indices[keep], indptr), shape=matrix.shape)


def keep_interactions(dataset: Dataset, keep: np.ndarray) -> Dataset:
    """The dataset with only the interactions where `keep` (in CSR order) is True."""
    keep = np.asarray(keep, dtype=bool)
    if keep.all():
        return dataset
    inter = drop_entries(dataset.interactions, keep)
    split = dataset.fixed_split
    if split is not None:
        split = replace(split, **{p: getattr(split, p).multiply(inter).tocsr() for p in ("train", "valid", "test")})
    return replace(dataset, interactions=inter, timestamps=drop_entries(dataset.timestamps, keep),
                   ratings=drop_entries(dataset.ratings, keep), fixed_split=split)


def preprocess(dataset: Dataset, min_rating: float | None = None, user_core: int = 0,
               item_core: int = 0) -> Dataset:
    """Threshold explicit ratings into positives, then keep the (user_core, item_core)-core.

    Users and items outside the core are removed together with their interactions, modality
    rows and fixed-split entries; thresholding alone never removes users or items.
    """
    if min_rating is None and user_core == 0 and item_core == 0:
        return dataset
    before = dataset.n_interactions
    out = dataset
    if min_rating is not None:
        if dataset.ratings is None:
            raise DataError(f"dataset {dataset.name!r} has no ratings, so min_rating={min_rating} cannot be applied")
        out = keep_interactions(out, implicit_threshold(dataset.ratings.data, min_rating))
    if user_core or item_core:
        users, items = kcore(out.interactions, user_core, item_core)
        if not users.any() or not items.any():
            raise DataError(f"dataset {dataset.name!r}: the ({user_core}, {item_core})-core is empty")
        out = out.subset(users=users, items=items)
    steps = [*dataset.meta.get("preprocessing", []),
             {"min_rating": min_rating, "user_core": user_core, "item_core": item_core,
              "interactions_before": before, "interactions_after": out.n_interactions,
              "users_removed": dataset.n_users - out.n_users, "items_removed": dataset.n_items - out.n_items}]
    return replace(out, meta={**dataset.meta, "preprocessing": steps})
