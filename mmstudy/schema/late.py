"""Late fusion: one recommender per modality plus an ID-only one, their scores fused at inference.

Scores are fused per user over the *candidate* items (those not already seen in the parts the
evaluated part masks: train for validation, train + valid for test):
- `normsum`: sum_m w_m norm(s_m), norm = per-user min-max or z-score over the candidates;
- `rrf`: reciprocal-rank fusion, sum_m w_m / (k + rank_m), ranks 1.. among the candidates.
Weights come from `simplex_grid` and are chosen on VALIDATION only (`select_weights`, first best
in grid order); the test part is then scored once with the chosen weights. The cells that train the
components and call these functions are `mmstudy.study.late_fusion`.
"""
from __future__ import annotations

import itertools
from typing import Callable, Sequence

import scipy.sparse as sp
import torch

from ..errors import ConfigError

ScoreFn = Callable[[torch.Tensor], torch.Tensor]


def simplex_grid(n: int, step: float | None) -> list[tuple[float, ...]]:
    """Weight vectors of `n` entries, multiples of `step`, summing to 1 (None: equal weights only)."""
    if n < 1:
        raise ConfigError(f"late fusion needs at least one component, got {n}")
    if step is None:
        return [tuple([1.0 / n] * n)]
    parts = round(1.0 / step) if step > 0 else 0
    if not 0 < step <= 1 or abs(parts * step - 1) > 1e-9:
        raise ConfigError(f"fusion.grid_step must divide 1 (e.g. 0.5, 0.25, 0.1), got {step}")
    grid = [c for c in itertools.product(range(parts + 1), repeat=n) if sum(c) == parts]
    return [tuple(k / parts for k in c) for c in sorted(grid, reverse=True)]


def normalise_scores(scores: torch.Tensor, candidates: torch.Tensor, norm: str) -> torch.Tensor:
    """Per-row min-max (to [0, 1]) or z-score of `scores` over the `candidates` (bool, same
    shape); non-candidates become 0. Constant rows map to 0."""
    x = torch.where(candidates, scores, torch.nan)
    if norm == "minmax":
        low = torch.where(candidates, scores, torch.inf).amin(1, keepdim=True)
        high = torch.where(candidates, scores, -torch.inf).amax(1, keepdim=True)
        span = high - low
        out = (x - low) / torch.where(span > 0, span, torch.ones_like(span))
    elif norm == "zscore":
        mean = x.nanmean(1, keepdim=True)
        std = (x - mean).pow(2).nanmean(1, keepdim=True).sqrt()
        out = (x - mean) / torch.where(std > 0, std, torch.ones_like(std))
    else:
        raise ConfigError(f"unknown score normalisation {norm!r}; expected 'minmax' or 'zscore'")
    return torch.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0)


def reciprocal_ranks(scores: torch.Tensor, candidates: torch.Tensor, k: float = 60.0) -> torch.Tensor:
    """1 / (k + rank) per row, rank 1 = the highest-scoring candidate (ties: lower item index
    first); non-candidates get 0."""
    masked = torch.where(candidates, scores, -torch.inf)
    order = torch.argsort(masked, dim=1, descending=True, stable=True)
    ranks = torch.empty_like(order)
    ranks.scatter_(1, order, torch.arange(1, scores.shape[1] + 1, device=scores.device).expand_as(order))
    return torch.where(candidates, 1.0 / (k + ranks.to(scores.dtype)), torch.zeros_like(scores))


class LateFusion:
    """Fused score functions of several components for one evaluated part.

    `exclude` (users x items) marks the items that part does not rank (already seen). The
    transformed component scores (normalised, or reciprocal ranks) are computed once and kept
    when they fit `budget_mb`, so trying many weight vectors costs one scoring pass.
    """

    def __init__(self, score_fns: Sequence[ScoreFn], exclude: sp.csr_matrix, part: str, method: str = "normsum",
                 norm: str = "minmax", rrf_k: float = 60.0, budget_mb: float = 1024):
        if method not in ("normsum", "rrf"):
            raise ConfigError(f"unknown late-fusion method {method!r}; expected 'normsum' or 'rrf'")
        self.score_fns, self.exclude, self.part = list(score_fns), sp.csr_matrix(exclude, dtype=bool), part
        self.method, self.norm, self.rrf_k = method, norm, rrf_k
        n_users, n_items = self.exclude.shape
        fits = len(self.score_fns) * n_users * n_items * 4 <= budget_mb * 2**20
        self._cache: torch.Tensor | None = self._transform(torch.arange(n_users)) if fits else None

    @classmethod
    def for_part(cls, score_fns: Sequence[ScoreFn], split, part: str, config) -> "LateFusion":
        """Fusion for `part` of `split` with a FusionConfig's method, norm and rrf_k."""
        from ..evaluation.ranking import seen_items
        return cls(score_fns, seen_items(split, part), part, config.method, config.norm, config.rrf_k)

    def _transform(self, users: torch.Tensor) -> torch.Tensor:
        """(components x users x items) normalised scores or reciprocal ranks."""
        candidates = torch.from_numpy(~self.exclude[users.cpu().numpy()].toarray())
        out = []
        with torch.no_grad():
            for score in self.score_fns:
                s = score(users).detach().float().cpu()
                out.append(reciprocal_ranks(s, candidates, self.rrf_k) if self.method == "rrf"
                           else normalise_scores(s, candidates, self.norm))
        return torch.stack(out)

    def components(self, users: torch.Tensor) -> torch.Tensor:
        users = users.cpu()
        return self._cache[:, users] if self._cache is not None else self._transform(users)

    def scorer(self, weights: Sequence[float]) -> ScoreFn:
        """The fused score function for these component weights."""
        if len(weights) != len(self.score_fns):
            raise ConfigError(f"{len(weights)} weights for {len(self.score_fns)} late-fusion components")
        w = torch.tensor(weights, dtype=torch.float32)
        return lambda users: torch.einsum("m,mbn->bn", w, self.components(users))


def select_weights(fusion: LateFusion, split, metric: str, grid: Sequence[Sequence[float]],
                   memory_budget_mb: float = 512.0
                   ) -> tuple[tuple[float, ...], float, list[tuple[tuple[float, ...], float]]]:
    """(best weights, their validation score, every (weights, score)): the first best of `grid`
    on the VALIDATION part (scored in user batches that fit `memory_budget_mb`); refuses a
    fusion built for any other part."""
    from ..evaluation import evaluate_metric

    if fusion.part != "valid":
        raise ConfigError(f"late-fusion weights are selected on validation, not on {fusion.part!r}")
    trials = [(tuple(w), evaluate_metric(fusion.scorer(w), split, metric, "valid",
                                               memory_budget_mb=memory_budget_mb)) for w in grid]
    best = max(range(len(trials)), key=lambda i: (trials[i][1], -i))
    return trials[best][0], trials[best][1], trials
