"""Full-ranking, per-user evaluation: `evaluate(model, split, "valid"|"test") -> EvalResult`.

Every item a user has not interacted with (in train, plus valid when testing) is ranked; metrics
are computed per user so that later comparisons can be paired. Metric definitions are in
`metrics` (accuracy) and `beyond` (coverage, diversity, popularity bias, novelty).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

from ..data.split import Split
from ..errors import ConfigError
from .beyond import beyond_metrics
from .metrics import METRICS, column, parse_metric
from .ranking import Scorer, check_part, hit_matrix, rank_topk

DEFAULT_CUTOFFS = (10, 20, 50)


@dataclass
class EvalResult:
    """Per-user metric columns (index 'user') and list-level metrics of one evaluation pass."""

    per_user: pd.DataFrame
    list_metrics: dict[str, float]
    n_users: int
    part: str
    seconds: float
    cutoffs: tuple[int, ...] = field(default=DEFAULT_CUTOFFS)

    def mean(self) -> dict[str, float]:
        """Mean of every per-user column, followed by the list-level metrics."""
        means = {name: float(value) for name, value in self.per_user.mean(axis=0).items()}
        return {**means, **self.list_metrics}


def _check_cutoffs(cutoffs: Sequence[int]) -> tuple[int, ...]:
    cutoffs = tuple(sorted({int(k) for k in cutoffs}))
    if not cutoffs or cutoffs[0] < 1:
        raise ConfigError(f"cutoffs must be positive integers, got {cutoffs}")
    return cutoffs


def evaluate(scorer: Scorer, split: Split, part: str = "valid",
             cutoffs: Sequence[int] = DEFAULT_CUTOFFS, users: np.ndarray | None = None,
             batch_size: int | None = None, metrics: Sequence[str] | None = None,
             beyond: bool = True, memory_budget_mb: float = 512) -> EvalResult:
    """Rank all unseen items for each user of `part` and score the top-k lists.

    `metrics` restricts the accuracy metrics (registry names, default all); `beyond=False`
    skips coverage/diversity/popularity/novelty (e.g. during validation).
    """
    start = time.perf_counter()
    cutoffs = _check_cutoffs(cutoffs)
    names = [METRICS.canonical(m) for m in (metrics if metrics is not None else METRICS.names())]
    check_part(part)
    users, topk = rank_topk(scorer, split, part, k_max=cutoffs[-1], users=users,
                            batch_size=batch_size, memory_budget_mb=memory_budget_mb)
    topk = topk.numpy()
    targets = getattr(split, part)[users]
    hits = hit_matrix(topk, targets)
    n_relevant = np.diff(targets.indptr)
    columns = {column(name, k): METRICS.get(name)(hits[:, :k], n_relevant)
               for name in names for k in cutoffs}
    list_metrics: dict[str, float] = {}
    if beyond:
        per_user_beyond, list_metrics = beyond_metrics(topk, split.train, cutoffs)
        columns.update(per_user_beyond)
    per_user = pd.DataFrame(columns, index=pd.Index(users, name="user"), dtype=np.float64)
    return EvalResult(per_user, list_metrics, len(users), part, time.perf_counter() - start, cutoffs)


def evaluate_metric(scorer: Scorer, split: Split, metric: str, part: str = "valid",
                    **kwargs) -> float:
    """The mean of one accuracy metric such as 'Recall@20' (what model selection needs)."""
    name, k = parse_metric(metric)
    result = evaluate(scorer, split, part, cutoffs=(k,), metrics=(name,), beyond=False, **kwargs)
    return float(result.per_user[column(name, k)].mean()) if result.n_users else 0.0


__all__ = ["DEFAULT_CUTOFFS", "EvalResult", "METRICS", "evaluate", "evaluate_metric",
           "parse_metric", "rank_topk"]
