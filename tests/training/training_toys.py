"""Tiny recommenders (registered under 'toy-*' names) and splits for the training tests."""
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn

from mmstudy.data.split import Split
from mmstudy.models.base import MODELS, ModelInput, Recommender, bpr_loss, l2_reg


def make_split(n_users=40, n_items=30, seed=0, train=0.3, valid=0.1, test=0.1) -> Split:
    r = np.random.default_rng(seed).random((n_users, n_items))
    edges = np.cumsum([train, valid, test])
    parts = [(r >= lo) & (r < hi) for lo, hi in zip([0, *edges[:-1]], edges)]
    return Split(*(sp.csr_matrix(p.astype(np.float32)) for p in parts))


class ToyMF(Recommender):
    """Plain BPR matrix factorisation."""

    defaults = {"dim": 8, "reg": 1e-4}

    def __init__(self, data: ModelInput, **params):
        super().__init__(data, **params)
        self.user = nn.Parameter(0.1 * torch.randn(self.n_users, self.params["dim"]))
        self.item = nn.Parameter(0.1 * torch.randn(self.n_items, self.params["dim"]))

    def loss(self, batch):
        u, p, n = self.user[batch.users], self.item[batch.pos], self.item[batch.neg]
        return bpr_loss((u * p).sum(1), (u * n).sum(1)) + self.params["reg"] * l2_reg(u, p, n)

    def representations(self):
        return self.user, self.item


class Oracle(Recommender):
    """Scores = the dense matrix of the split part named by `target` (set `Oracle.parts`)."""

    defaults = {"target": "valid"}
    parts: ClassVar[dict[str, torch.Tensor]] = {}

    def __init__(self, data: ModelInput, **params):
        super().__init__(data, **params)
        self.w = nn.Parameter(torch.zeros(1))

    def loss(self, batch):
        return (self.w - 1).pow(2).sum()

    def prepare_eval(self):
        """Nothing to precompute: `score` reads the fixed matrix."""

    def score(self, users):
        return self.parts[self.params["target"]][users] + 0 * self.w


class Scripted(Recommender):
    """Ranks validation items first only at epoch `peak`; loss becomes NaN from epoch `nan_at`."""

    defaults = {"peak": 3, "nan_at": 0}
    parts: ClassVar[dict[str, torch.Tensor]] = {}

    def __init__(self, data: ModelInput, **params):
        super().__init__(data, **params)
        self.w = nn.Parameter(torch.zeros(4))
        self.register_buffer("epoch", torch.zeros((), dtype=torch.long))
        self.history: list[torch.Tensor] = []  # w at the start of each epoch

    def on_epoch_start(self, epoch, generator):
        self.epoch.fill_(epoch)
        self.history.append(self.w.detach().clone())

    def loss(self, batch):
        if self.params["nan_at"] and int(self.epoch) >= self.params["nan_at"]:
            return self.w.sum() * float("nan")
        return (self.w - 1).pow(2).sum()

    def prepare_eval(self):
        """Nothing to precompute: `score` reads the fixed matrix."""

    def score(self, users):
        good = self.parts["valid"][users]
        return good if int(self.epoch) == self.params["peak"] else -good


for _name, _cls in {"toy-mf": ToyMF, "toy-oracle": Oracle, "toy-scripted": Scripted}.items():
    if _name not in MODELS:
        MODELS.add(_name, _cls)
