"""Uniform negative sampling over shuffled training pairs, vectorised over whole epochs."""
from __future__ import annotations

from typing import Iterator

import numpy as np
import scipy.sparse as sp
import torch

from ..errors import ConfigError, DataError
from ..models.base import Batch


class NegativeSampler:
    """Yields one epoch of `Batch(users, pos, neg)`: every training pair exactly once, shuffled,
    each with an item drawn uniformly among the items the user has NOT interacted with.

    Negatives are drawn for the whole epoch at once; candidates that collide with a positive
    (found by binary search on the sorted keys user * n_items + item) are redrawn in rounds until
    none collide. All randomness comes from `generator`.
    """

    def __init__(self, train: sp.spmatrix, generator: torch.Generator, batch_size: int = 2048,
                 device: torch.device | str = "cpu"):
        if batch_size < 1:
            raise ConfigError(f"batch_size must be positive, got {batch_size}")
        train = sp.csr_matrix(train)
        train.sum_duplicates()
        train.sort_indices()
        self.n_users, self.n_items = train.shape
        if train.nnz == 0:
            raise DataError("the training matrix has no interactions to sample from")
        full = np.flatnonzero(np.diff(train.indptr) >= self.n_items)
        if full.size:
            raise DataError(f"user {int(full[0])} interacted with every item: no negative exists")
        rows = np.repeat(np.arange(self.n_users, dtype=np.int64), np.diff(train.indptr))
        self.users = torch.from_numpy(rows)
        self.items = torch.from_numpy(train.indices.astype(np.int64))
        self.keys = self.users * self.n_items + self.items  # sorted (CSR with sorted indices)
        self.generator = generator
        self.batch_size = int(batch_size)
        self.device = torch.device(device)

    def __len__(self) -> int:
        return -(-len(self.users) // self.batch_size)

    def is_positive(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """Elementwise: did `users[j]` interact with `items[j]` in training?"""
        query = users * self.n_items + items
        pos = torch.searchsorted(self.keys, query).clamp_(max=len(self.keys) - 1)
        return self.keys[pos] == query

    def sample_negatives(self, users: torch.Tensor) -> torch.Tensor:
        """One uniformly drawn non-interacted item per entry of `users`."""
        neg = torch.randint(self.n_items, users.shape, generator=self.generator)
        todo = torch.nonzero(self.is_positive(users, neg)).squeeze(1)
        while len(todo):
            neg[todo] = torch.randint(self.n_items, todo.shape, generator=self.generator)
            todo = todo[self.is_positive(users[todo], neg[todo])]
        return neg

    def epoch(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One epoch's (users, positives, negatives), shuffled, on the sampler's device."""
        order = torch.randperm(len(self.users), generator=self.generator)
        users, pos = self.users[order], self.items[order]
        neg = self.sample_negatives(users)
        return tuple(t.to(self.device) for t in (users, pos, neg))  # one transfer per epoch

    def __iter__(self) -> Iterator[Batch]:
        users, pos, neg = self.epoch()
        for start in range(0, len(users), self.batch_size):
            part = slice(start, start + self.batch_size)
            yield Batch(users[part], pos[part], neg[part])
