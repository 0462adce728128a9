"""Per-user top-k accuracy metrics computed from a boolean hit matrix.

Every metric takes `hits` (bool, n_users x k: is the item at rank r relevant?) and
`n_relevant` (int, n_users: size of the user's target set) and returns a float64 array with one
value per user. The cutoff k is the number of columns of `hits`.

Conventions (binary relevance, MMRec-compatible):
- Recall@k    = hits / |relevant|  (not hits / min(|relevant|, k); MMRec and ranx divide by |relevant|).
- Precision@k = hits / k.
- HitRate@k   = 1 if at least one hit.
- nDCG@k      = sum_r hit_r / log2(r + 1), divided by the ideal DCG of min(|relevant|, k) hits.
- MAP@k       = sum_r Precision@r * hit_r / min(|relevant|, k)  (MMRec's convention).
- MAPcut@k    = sum_r Precision@r * hit_r / |relevant|  (ranx map@k, trec_eval map_cut_k).
- MRR@k       = 1 / rank of the first hit within k, 0 without a hit.
"""
from __future__ import annotations

import re
from typing import Callable

import numpy as np

from ..errors import ConfigError
from ..registry import Registry

MetricFn = Callable[[np.ndarray, np.ndarray], np.ndarray]
METRICS: Registry[MetricFn] = Registry("metric")


def _ranks(k: int) -> np.ndarray:
    return np.arange(1, k + 1, dtype=np.float64)


def _relevant(n_relevant: np.ndarray) -> np.ndarray:
    n_relevant = np.asarray(n_relevant, dtype=np.float64)
    if np.any(n_relevant <= 0):
        raise ValueError("every evaluated user needs at least one relevant item")
    return n_relevant


@METRICS.register("Recall")
def recall(hits: np.ndarray, n_relevant: np.ndarray) -> np.ndarray:
    """Share of the user's relevant items found in the top k."""
    return hits.sum(axis=1) / _relevant(n_relevant)


@METRICS.register("Precision")
def precision(hits: np.ndarray, n_relevant: np.ndarray) -> np.ndarray:
    """Share of the top k that is relevant."""
    _relevant(n_relevant)
    return hits.sum(axis=1) / float(hits.shape[1])


@METRICS.register("HitRate", "hit_rate", "hr")
def hit_rate(hits: np.ndarray, n_relevant: np.ndarray) -> np.ndarray:
    """1.0 when at least one relevant item is in the top k."""
    _relevant(n_relevant)
    return hits.any(axis=1).astype(np.float64)


@METRICS.register("nDCG", "ndcg")
def ndcg(hits: np.ndarray, n_relevant: np.ndarray) -> np.ndarray:
    """Binary-gain DCG with log2 discount over the ideal DCG of min(|relevant|, k) hits."""
    k = hits.shape[1]
    discount = 1.0 / np.log2(_ranks(k) + 1.0)
    ideal = np.concatenate([[0.0], np.cumsum(discount)])
    n_ideal = np.minimum(_relevant(n_relevant), k).astype(np.int64)
    return (hits * discount).sum(axis=1) / ideal[n_ideal]


@METRICS.register("MAP", "ap")
def average_precision(hits: np.ndarray, n_relevant: np.ndarray) -> np.ndarray:
    """Sum of Precision@r over hit ranks r, divided by min(|relevant|, k)."""
    k = hits.shape[1]
    precision_at = np.cumsum(hits, axis=1) / _ranks(k)
    return (precision_at * hits).sum(axis=1) / np.minimum(_relevant(n_relevant), k)


@METRICS.register("MAPcut", "map_cut", "map-cut")
def average_precision_cut(hits: np.ndarray, n_relevant: np.ndarray) -> np.ndarray:
    """Sum of Precision@r over hit ranks r <= k, divided by |relevant| (ranx's map@k and
    trec_eval's map_cut_k: a user with more relevant items than k cannot reach 1)."""
    k = hits.shape[1]
    precision_at = np.cumsum(hits, axis=1) / _ranks(k)
    return (precision_at * hits).sum(axis=1) / _relevant(n_relevant)


@METRICS.register("MRR", "rr")
def reciprocal_rank(hits: np.ndarray, n_relevant: np.ndarray) -> np.ndarray:
    """1 / rank of the first relevant item in the top k, 0 when there is none."""
    _relevant(n_relevant)
    first = hits.argmax(axis=1)
    return np.where(hits.any(axis=1), 1.0 / (first + 1.0), 0.0)


_NAME = re.compile(r"^\s*([A-Za-z_]+)\s*@\s*(\d+)\s*$")


def parse_metric(name: str) -> tuple[str, int]:
    """'recall@20' -> ('Recall', 20); unknown names raise UnknownNameError, bad forms ConfigError."""
    match = _NAME.match(str(name))
    if not match:
        raise ConfigError(f"metric {name!r} must look like 'Recall@20' (name@cutoff)")
    metric, k = METRICS.canonical(match.group(1)), int(match.group(2))
    if k < 1:
        raise ConfigError(f"metric {name!r}: the cutoff must be at least 1")
    return metric, k


def column(metric: str, k: int) -> str:
    """The canonical column name of a metric at a cutoff, e.g. 'nDCG@20'."""
    return f"{METRICS.canonical(metric)}@{k}"
