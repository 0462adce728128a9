"""Choosing an imputer's setting without training the recommender once per setting.

Each setting of the grid (hops, alpha, t, a learned imputer's size...) is scored by how well it
reconstructs content the cell can see: a seeded share of the OBSERVED rows of items with training
interactions is hidden (never a masked row, never test data), every setting imputes them through
the same `handle_missing` path the cell uses, and the setting with the highest mean cosine
similarity to the hidden truth is kept (first best in grid order). The recommender then trains
once. `retrain` selection (one training per setting, chosen on validation) stays available.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..data.modality import Modality
from ..data.split import Split
from .handling import handle_missing, mask_for
from .masking import apply_mask

HOLDOUT_SHARE = 0.1


def holdout_rows(modalities: dict[str, Modality], split: Split, seed: int,
                 share: float = HOLDOUT_SHARE) -> dict[str, np.ndarray]:
    """Per modality, a seeded share of the rows that are observed and belong to items with
    training interactions (at least one row where any is eligible)."""
    warm = np.diff(split.train.tocsc().indptr) > 0
    rng = np.random.default_rng([seed, 49979687])
    out = {}
    for name, mod in modalities.items():
        eligible = np.flatnonzero(mod.present & warm)
        n = max(1, int(round(share * len(eligible)))) if len(eligible) > 1 else 0
        out[name] = np.sort(rng.choice(eligible, size=n, replace=False)) if n else eligible[:0]
    return out


def _hidden(mod: Modality, rows: np.ndarray) -> Modality:
    present = mod.present.copy()
    present[rows] = False
    features = mod.features.copy()
    features[rows] = 0.0
    return replace(mod, features=features, present=present)


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    return float(np.mean(np.where(norms > 0, (a * b).sum(axis=1) / np.where(norms > 0, norms, 1), 0.0)))


def choose_by_reconstruction(modalities: dict[str, Modality], split: Split, cfg, points: list[dict],
                             graph_cache=None) -> tuple[dict, list[dict]]:
    """(the setting that reconstructs hidden observed rows best, every setting's score)."""
    mask = mask_for(modalities, cfg, split)
    masked = apply_mask(modalities, mask) if mask is not None else dict(modalities)
    rows = holdout_rows(masked, split, cfg.mask_seed)
    hidden = {name: _hidden(mod, rows[name]) for name, mod in masked.items()}
    plain = replace(cfg, setting="none", rate=0.0, grid={}, mechanism="mcar", strength=0.0)
    scores = []
    for params in points:
        filled = handle_missing(hidden, split, plain, params, graph_cache=graph_cache).modalities
        cosine = [_cosine(filled[n].features[r], masked[n].features[r]) for n, r in rows.items() if len(r)]
        scores.append({"params": params, "cosine": float(np.mean(cosine)) if cosine else float("nan")})
    best = max(range(len(points)), key=lambda i: (np.nan_to_num(scores[i]["cosine"], nan=-np.inf), -i))
    return points[best], scores
