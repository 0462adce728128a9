"""How similar two feature spaces are: linear centered kernel alignment (CKA).

Linear CKA (Kornblith et al., 2019) compares two representations X (n x d1) and Y (n x d2) of
the same n items:

    CKA(X, Y) = ||Yc^T Xc||_F^2 / (||Xc^T Xc||_F * ||Yc^T Yc||_F),

with Xc, Yc column-centred. It lies in [0, 1], is 1 for X = Y, and is invariant to orthogonal
transforms and isotropic scaling of either space (not to arbitrary invertible linear maps), so
two extractors that encode the same item geometry in rotated or rescaled coordinates score 1.
For one-dimensional X and Y it equals their squared Pearson correlation. Computed in float64
in feature space (cost n * d1 * d2), or through n x n Gram matrices when that is cheaper
(few items, wide features).
"""
from __future__ import annotations

import math
from typing import Mapping

import numpy as np
import pandas as pd

from ..data.modality import Modality
from ..errors import DataError


def _centred(x: np.ndarray, name: str) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise DataError(f"CKA: {name} must be 2-D (items x dims), got shape {x.shape}")
    if x.shape[0] < 2:
        raise DataError(f"CKA: {name} needs at least 2 items, got {x.shape[0]}")
    if not np.isfinite(x).all():
        raise DataError(f"CKA: {name} holds non-finite values")
    return x - x.mean(axis=0)


def _self_norm(xc: np.ndarray) -> float:
    """||Xc^T Xc||_F via the smaller of the two Gram matrices (same non-zero spectrum)."""
    gram = xc.T @ xc if xc.shape[1] <= xc.shape[0] else xc @ xc.T
    return float(np.linalg.norm(gram))


def _cka(xc: np.ndarray, x_norm: float, yc: np.ndarray, y_norm: float) -> float:
    if x_norm == 0 or y_norm == 0:
        return math.nan  # a constant representation has no geometry to compare
    n, d1, d2 = xc.shape[0], xc.shape[1], yc.shape[1]
    if n * (d1 + d2) < d1 * d2:  # few items, wide features: <Xc Xc^T, Yc Yc^T>_F is cheaper
        cross = float(np.vdot(xc @ xc.T, yc @ yc.T))
    else:
        cross = float(np.linalg.norm(yc.T @ xc) ** 2)
    return float(np.clip(cross / (x_norm * y_norm), 0.0, 1.0))


def linear_cka(x: np.ndarray, y: np.ndarray) -> float:
    """Linear CKA of two representations of the same items (rows); NaN if either is constant."""
    xc, yc = _centred(x, "x"), _centred(y, "y")
    if xc.shape[0] != yc.shape[0]:
        raise DataError(f"CKA: x has {xc.shape[0]} items but y has {yc.shape[0]}; rows must be the same items")
    return _cka(xc, _self_norm(xc), yc, _self_norm(yc))


def cka_matrix(features: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """Symmetric matrix of pairwise linear CKA between named representations of the same items."""
    if not features:
        raise DataError("CKA: no representations given")
    names = list(features)
    centred = {n: _centred(features[n], n) for n in names}
    rows = {c.shape[0] for c in centred.values()}
    if len(rows) > 1:
        raise DataError(f"CKA: representations cover different item counts {sorted(rows)}")
    norms = {n: _self_norm(c) for n, c in centred.items()}
    out = pd.DataFrame(np.eye(len(names)), index=names, columns=names)
    for i, a in enumerate(names):
        if norms[a] == 0:
            out.loc[a, a] = math.nan
        for b in names[i + 1:]:
            out.loc[a, b] = out.loc[b, a] = _cka(centred[a], norms[a], centred[b], norms[b])
    return out


def shared_items(modalities: Mapping[str, Modality], max_items: int | None = None, seed: int = 0) -> np.ndarray:
    """Sorted indices of the items present in every modality, subsampled to `max_items` (seeded)."""
    if not modalities:
        raise DataError("no feature sets given")
    counts = {m.n_items for m in modalities.values()}
    if len(counts) > 1:
        raise DataError(f"feature sets cover different item counts {sorted(counts)}")
    present = np.logical_and.reduce([m.present for m in modalities.values()])
    items = np.flatnonzero(present)
    if max_items is not None and len(items) > max_items:
        items = np.sort(np.random.default_rng(seed).choice(items, size=max_items, replace=False))
    return items


def modality_cka(modalities: Mapping[str, Modality], max_items: int | None = None,
                 seed: int = 0) -> tuple[pd.DataFrame, int]:
    """(CKA matrix between feature sets of one modality, number of shared items it was computed on)."""
    items = shared_items(modalities, max_items, seed)
    if len(items) < 2:
        raise DataError(f"CKA: only {len(items)} item(s) have every feature set {list(modalities)}")
    return cka_matrix({name: m.features[items] for name, m in modalities.items()}), int(len(items))
