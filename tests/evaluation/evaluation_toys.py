"""Tiny splits and fixed-score models shared by the evaluation tests."""
import numpy as np
import scipy.sparse as sp
import torch

from mmstudy.data.split import Split
from mmstudy.models.base import ModelInput, Recommender


def make_split(n_users=30, n_items=25, seed=0, train=0.3, valid=0.15, test=0.15) -> Split:
    """Random disjoint parts: every cell is train, valid, test or nothing."""
    r = np.random.default_rng(seed).random((n_users, n_items))
    edges = np.cumsum([train, valid, test])
    parts = [(r >= lo) & (r < hi) for lo, hi in zip([0, *edges[:-1]], edges)]
    return Split(*(sp.csr_matrix(p.astype(np.float32)) for p in parts))


class FixedScores(Recommender):
    """score(users) = rows of a given matrix; counts `prepare_eval` calls."""

    def __init__(self, data: ModelInput, scores: torch.Tensor):
        super().__init__(data)
        self.scores = scores
        self.prepared = 0

    def prepare_eval(self) -> None:
        self.prepared += 1

    def score(self, users: torch.Tensor) -> torch.Tensor:
        return self.scores[users]


def distinct_scores(n_users, n_items, seed=0) -> torch.Tensor:
    """Random scores without ties (a random permutation of 0..n_items-1 per user)."""
    g = torch.Generator().manual_seed(seed)
    return torch.stack([torch.randperm(n_items, generator=g) for _ in range(n_users)]).float()
