"""Imputation quality against the truth, on the synthetically masked rows.

A synthetically masked row still has its true features (the modalities before masking); a natural
gap has none, so only synthetic rows are scored. Per modality, over those rows i:

* ``cosine``: the mean over rows of cos(imputed_i, true_i); a zero vector on either side (e.g. the
  `zeros` imputer) carries no direction and scores 0;
* ``rse``: the pooled relative squared error sum_i ||imputed_i - true_i||^2 / sum_i ||true_i||^2
  (pooled, so near-zero true rows cannot blow it up): 1 for `zeros`, below 1 when an imputation
  is closer to the truth than nothing, NaN when every true row is zero;
* ``rows``: how many rows were scored.
"""
from __future__ import annotations

import math
from typing import Mapping

import numpy as np

from ..data.modality import Modality
from ..errors import DataError


def row_quality(imputed: np.ndarray, truth: np.ndarray) -> dict:
    """{"rows", "cosine", "rse"} of imputed rows against their true rows (same shape)."""
    imputed, truth = np.asarray(imputed, np.float64), np.asarray(truth, np.float64)
    if imputed.shape != truth.shape or imputed.ndim != 2:
        raise DataError(f"imputation quality: imputed rows {imputed.shape} and true rows {truth.shape} differ")
    if not len(truth):
        return {"rows": 0, "cosine": math.nan, "rse": math.nan}
    norms = np.linalg.norm(imputed, axis=1) * np.linalg.norm(truth, axis=1)
    cosine = np.divide(np.einsum("ij,ij->i", imputed, truth), norms, out=np.zeros(len(truth)), where=norms > 0)
    energy = float(np.square(truth).sum())
    rse = float(np.square(imputed - truth).sum()) / energy if energy > 0 else math.nan
    return {"rows": int(len(truth)), "cosine": float(cosine.mean()), "rse": rse}


def imputation_quality(truth: Mapping[str, Modality], filled: Mapping[str, Modality],
                       synthetic: Mapping[str, np.ndarray]) -> dict[str, dict]:
    """`row_quality` per modality over its synthetically masked rows (`synthetic[name]`, boolean per
    item) that truly had content; modalities without such rows are left out."""
    out = {}
    for name, rows in synthetic.items():
        rows = np.asarray(rows, dtype=bool) & truth[name].present
        if rows.any():
            out[name] = row_quality(filled[name].features[rows], truth[name].features[rows])
    return out
