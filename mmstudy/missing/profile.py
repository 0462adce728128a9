"""Who is missing: how a drawn mask spreads over the items' training popularity.

Every masked cell records, per training-popularity decile, how many items there are, how many each
modality's synthetic draw could mask (its candidates) and did mask, and how many lack the modality
in the data, so the report can show which items a mechanism takes without reloading any data.
Deciles run from the most popular tenth of the catalogue (index 0, long-tail rank 1) to the least
popular (index 9, rank 10); items with equal training interactions are ordered by item index.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .masking import Mask
from .mechanisms import training_popularity

DECILES = 10


def popularity_deciles(train: sp.spmatrix, n_items: int) -> np.ndarray:
    """Each item's training-popularity decile: 0 = the most popular tenth ... 9 = the least popular."""
    order = np.argsort(-training_popularity(train, n_items), kind="stable")
    decile = np.empty(n_items, dtype=np.int64)
    decile[order] = np.arange(n_items) * DECILES // max(n_items, 1)
    return decile


def drawn_pools(mask: Mask) -> dict[str, np.ndarray]:
    """The candidates each masked modality's synthetic draw chose from, as the study draws masks
    (every item eligible): the items that have the modality (`same`: that have every modality)."""
    if mask.rate == 0:  # the data's own gaps only: nothing drawn
        return {}
    if mask.setting == "same":
        pool = ~np.logical_or.reduce([mask.natural[n] for n in mask.modalities])
        return {name: pool for name in mask.modalities}
    names = [mask.target] if mask.setting == "single" else mask.modalities
    return {name: ~mask.natural[name] for name in names}


def who_is_missing(mask: Mask, train: sp.spmatrix) -> dict:
    """Per-decile counts: `items`, and per modality `candidates`, `masked` (synthetic) and `natural`."""
    decile = popularity_deciles(train, mask.n_items)

    def per_decile(flags: np.ndarray) -> list[int]:
        return np.bincount(decile[flags], minlength=DECILES).tolist()

    pools = drawn_pools(mask)
    return {"items": per_decile(np.ones(mask.n_items, bool)),
            "candidates": {name: per_decile(pool) for name, pool in pools.items()},
            "masked": {name: per_decile(mask.synthetic(name)) for name in pools},
            "natural": {name: per_decile(mask.natural[name]) for name in mask.modalities}}


def mask_record(mask: Mask | None, train: sp.spmatrix) -> dict:
    """The manifest's account of a cell's mask beyond its checksum: the mechanism and strength of
    the synthetic draw (none for the data's own gaps alone) and who is missing."""
    if mask is None:
        return {}
    drawn = {"mechanism": mask.mechanism, "strength": mask.strength} if mask.rate > 0 else {}
    return {**drawn, "who_is_missing": who_is_missing(mask, train)}
