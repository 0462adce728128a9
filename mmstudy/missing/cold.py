"""New items: a share of the catalogue held out of training entirely (the `new_items` phase).

Cold items are drawn, seeded, among the items with training interactions; each of their training
interactions moves to validation or test (a seeded fair coin), so the model never sees them in
training while selection (validation) and the final test both rank them with the warm catalogue.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..data.split import Split
from ..errors import ConfigError


def cold_items(split: Split, share: float, seed: int) -> np.ndarray:
    """Sorted indices of round(share x warm items) items drawn among those with training interactions."""
    if not 0 < share < 1:
        raise ConfigError(f"missing.cold_share must lie in (0, 1), got {share}")
    warm = np.flatnonzero(np.diff(split.train.tocsc().indptr) > 0)
    n_cold = int(round(share * len(warm)))
    if n_cold < 1 or n_cold >= len(warm):
        raise ConfigError(f"new_items: a cold share of {share} holds out {n_cold} of the {len(warm)} items with "
                          "training interactions; choose a share that keeps at least one item on each side")
    rng = np.random.default_rng([seed, 15485863])
    return np.sort(rng.choice(warm, size=n_cold, replace=False))


def cold_start_split(split: Split, share: float, seed: int) -> tuple[Split, np.ndarray]:
    """(the split with the cold items' training interactions moved to validation/test, cold items)."""
    cold = cold_items(split, share, seed)
    is_cold = np.zeros(split.shape[1], bool)
    is_cold[cold] = True
    train = split.train.tocoo()
    moving = is_cold[train.col]
    to_valid = np.random.default_rng([seed, 32452843]).random(int(moving.sum())) < 0.5
    rows, cols = train.row[moving], train.col[moving]

    def part(matrix: sp.csr_matrix, r: np.ndarray, c: np.ndarray) -> sp.csr_matrix:
        added = sp.csr_matrix((np.ones(len(r), np.float32), (r, c)), shape=split.shape)
        return sp.csr_matrix(matrix + added)

    kept = sp.csr_matrix((train.data[~moving], (train.row[~moving], train.col[~moving])), shape=split.shape)
    out = Split(kept, part(split.valid, rows[to_valid], cols[to_valid]), part(split.test, rows[~to_valid], cols[~to_valid]),
                method=split.method, seed=split.seed,
                info={**split.info, "cold_items": int(len(cold)), "cold_share": float(share),
                      "cold_interactions_moved": int(moving.sum())})
    return out, cold
