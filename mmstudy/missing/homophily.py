"""Feature homophily of the co-interaction graph: do co-interacted items have similar content?

Definition (Newman's assortativity coefficient for a scalar attribute, per feature dimension):
restrict the symmetric graph weights W to edges whose endpoints both have the modality present;
every undirected edge {i, j} contributes the pairs (x_i, x_j) and (x_j, x_i) with weight w_ij, so
both ends share one marginal distribution with mean mu_d (strength-weighted) and variance var_d.
For dimension d

    r_d = sum_ij w_ij (x_id - mu_d)(x_jd - mu_d) / sum_ij w_ij (x_id - mu_d)^2,

the weighted Pearson correlation of feature d across edges, in [-1, 1]. The homophily is the
unweighted mean of r_d over dimensions with non-zero variance: ~1 when linked items have equal
features, ~0 when features are unrelated to the graph, negative when linked items differ
systematically. It is NaN when undefined (no edge between present items, or constant features).
"""
from __future__ import annotations

import math
from typing import Mapping

import numpy as np
import scipy.sparse as sp

from ..data.modality import Modality
from ..errors import DataError
from .graph import ItemGraph


def feature_homophily(modality: Modality, graph: ItemGraph) -> float:
    """Mean per-dimension assortativity of `modality`'s features over `graph`'s edges."""
    if graph.n_items != modality.n_items:
        raise DataError(f"homophily: graph has {graph.n_items} items but modality {modality.name!r} "
                        f"has {modality.n_items}")
    present = modality.present
    weights = sp.csr_matrix(graph.weights[present][:, present], dtype=np.float64)
    strength = np.asarray(weights.sum(axis=1)).ravel()
    total = strength.sum()
    if total <= 0:
        return math.nan
    x = modality.features[present].astype(np.float64)
    x -= (strength @ x) / total
    variance = (strength @ (x * x)) / total
    covariance = np.einsum("ij,ij->j", weights @ x, x) / total
    informative = variance > 1e-12 * variance.max(initial=0.0)
    if not informative.any():
        return math.nan
    r = covariance[informative] / variance[informative]
    return float(np.clip(r.mean(), -1.0, 1.0))


def modality_homophily(modalities: Mapping[str, Modality], graph: ItemGraph) -> dict[str, float]:
    """`feature_homophily` for every modality, keyed by name."""
    return {name: feature_homophily(modality, graph) for name, modality in modalities.items()}
