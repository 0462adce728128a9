"""Batched full ranking: score every item for each user, mask seen items, keep the top k.

Items a user already interacted with are excluded before ranking: training items when ranking
for validation, training and validation items when ranking for test. Slots that cannot be
filled because a user has fewer than k unseen items (or the catalogue has fewer than k items)
hold -1: never a hit, never counted as a recommendation.
"""
from __future__ import annotations

import inspect
import itertools
import math
import warnings
from contextlib import contextmanager
from typing import Callable, Iterator, Union

import numpy as np
import scipy.sparse as sp
import torch

from ..data.split import Split
from ..errors import ConfigError, DataError

ScoreFn = Callable[[torch.Tensor], torch.Tensor]
Scorer = Union[torch.nn.Module, ScoreFn]  # a recommender (prepare_eval + score) or a score function
MASKED_PARTS = {"valid": ("train",), "test": ("train", "valid")}


def check_part(part: str) -> str:
    if part not in MASKED_PARTS:
        raise ConfigError(f"evaluation part must be 'valid' or 'test', got {part!r}")
    return part


def seen_items(split: Split, part: str) -> sp.csr_matrix:
    """The interactions to exclude when ranking for `part` (train; or train + valid for test)."""
    seen = sum(getattr(split, p) for p in MASKED_PARTS[check_part(part)])
    seen = sp.csr_matrix(seen)
    seen.sort_indices()
    return seen


def csr_entries(indptr: torch.Tensor, indices: torch.Tensor, rows: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """(position of the row in `rows`, column) for every stored entry of the selected CSR rows."""
    starts, ends = indptr[rows], indptr[rows + 1]
    lengths = ends - starts
    local = torch.repeat_interleave(torch.arange(len(rows), device=rows.device), lengths)
    offsets = torch.arange(int(lengths.sum()), device=rows.device) \
        - torch.repeat_interleave(torch.cumsum(lengths, 0) - lengths, lengths)
    return local, indices[torch.repeat_interleave(starts, lengths) + offsets]


def budget_batch_size(n_items: int, memory_budget_mb: float) -> int:
    """Users per batch so that one float32 score block (batch x n_items) fits the budget."""
    if not (math.isfinite(memory_budget_mb) and memory_budget_mb > 0):
        raise ConfigError(f"memory_budget_mb (the evaluation memory budget) must be a finite number of MB > 0, "
                          f"got {memory_budget_mb}")
    return max(1, int(memory_budget_mb * 2**20) // (4 * max(1, n_items)))


def check_users(users: np.ndarray | None, split: Split, part: str) -> np.ndarray:
    """The users to evaluate: `split.eval_users(part)` by default; given users must have targets."""
    if users is None:
        return split.eval_users(part)
    users = np.asarray(users, dtype=np.int64).ravel()
    n_users = split.shape[0]
    bad = users[(users < 0) | (users >= n_users)]
    if bad.size:
        raise DataError(f"user index {int(bad[0])} is out of range for a split with {n_users} users")
    no_target = users[np.diff(getattr(split, part).indptr)[users] == 0]
    if no_target.size:
        raise DataError(f"user {int(no_target[0])} has no {part} interactions and cannot be evaluated")
    return users


def is_model(scorer: Scorer) -> bool:
    """A recommender (a module with `prepare_eval` and `score`, see `mmstudy.models.Recommender`)
    rather than a plain score function."""
    return isinstance(scorer, torch.nn.Module) and callable(getattr(scorer, "prepare_eval", None))


@contextmanager
def scoring(scorer: Scorer) -> Iterator[ScoreFn]:
    """A score function for `scorer` in eval mode without gradients; a model prepares once."""
    with torch.no_grad():
        if is_model(scorer):
            was_training = scorer.training
            scorer.eval()
            scorer.prepare_eval()
            try:
                yield scorer.score
            finally:
                scorer.train(was_training)
        elif callable(scorer):
            yield scorer
        else:
            raise TypeError(f"expected a Recommender or a score function, got {type(scorer).__name__}")


def _scorer_device(scorer: Scorer) -> torch.device:
    """Where a model's tensors live (plain score functions receive CPU user indices)."""
    if not is_model(scorer):
        return torch.device("cpu")
    tensor = next(itertools.chain(scorer.parameters(), scorer.buffers()), None)
    return tensor.device if tensor is not None else torch.device(scorer.device_)


def rank_topk(scorer: Scorer, split: Split, part: str = "valid", k_max: int = 50,
              users: np.ndarray | None = None, batch_size: int | None = None,
              memory_budget_mb: float = 512) -> tuple[np.ndarray, torch.Tensor]:
    """Top-`k_max` unseen items for each evaluated user: (users, LongTensor n_users x k_max)."""
    seen = seen_items(split, part)
    n_items = split.shape[1]
    if k_max < 1:
        raise ConfigError(f"k_max must be at least 1, got {k_max}")
    users = check_users(users, split, part)
    batch_size = batch_size or budget_batch_size(n_items, memory_budget_mb)
    if batch_size < 1:
        raise ConfigError(f"batch_size must be positive, got {batch_size}")
    device = _scorer_device(scorer)
    indptr = torch.from_numpy(seen.indptr.astype(np.int64)).to(device)
    indices = torch.from_numpy(seen.indices.astype(np.int64)).to(device)
    all_users = torch.from_numpy(users).to(device)
    topk = torch.empty(len(users), k_max, dtype=torch.long)
    with scoring(scorer) as score:
        # a model writes every batch into one score block: no block per batch to allocate, copy and
        # free (with a heap that keeps freed memory, those blocks fragmented it by gigabytes)
        block = torch.empty(min(batch_size, len(users)), n_items, device=device) if writes_into(score) else None
        for start in range(0, len(users), batch_size):
            batch = all_users[start:start + batch_size]
            scores = _block_scores(score, batch, n_items, None if block is None else block[:len(batch)])
            topk[start:start + len(batch)] = _topk_block(scores, batch, indptr, indices, k_max)
    return users, topk


def writes_into(score: ScoreFn) -> bool:
    """Whether a score function takes `out=` (a `Recommender`'s does): it can fill a given block."""
    try:
        return "out" in inspect.signature(score).parameters
    except (TypeError, ValueError):  # builtins without a signature
        return False


def _block_scores(score: ScoreFn, batch: torch.Tensor, n_items: int, block: torch.Tensor | None) -> torch.Tensor:
    """The batch's float32 scores, in a tensor the caller may overwrite (`block` when given)."""
    expected = (len(batch), n_items)
    if block is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)  # torch resizes a mis-shaped `out` with a warning
            try:
                return score(batch, out=block)
            except (RuntimeError, UserWarning) as error:
                raise ValueError(f"score function could not fill a {expected} block: {error}") from None
    scores = score(batch)
    if scores.shape != expected:
        raise ValueError(f"score function returned shape {tuple(scores.shape)}, expected {expected}")
    return scores.to(torch.float32, copy=True)  # never write -inf into a caller's tensor


def _topk_block(scores: torch.Tensor, batch: torch.Tensor, indptr: torch.Tensor, indices: torch.Tensor,
                k: int) -> torch.Tensor:
    """Top-k unseen items of each row of `scores` (overwritten: seen items become -inf), -1 padded."""
    rows, cols = csr_entries(indptr, indices, batch)
    scores[rows.to(scores.device), cols.to(scores.device)] = -torch.inf
    values, items = torch.topk(scores, min(k, scores.shape[1]), dim=1)
    if torch.isnan(values).any():  # topk ranks NaN above everything: checking the top suffices
        raise FloatingPointError("the model produced NaN scores; it probably diverged during training")
    items = torch.where(torch.isneginf(values), -1, items).cpu()
    return torch.nn.functional.pad(items, (0, k - items.shape[1]), value=-1)


def hit_matrix(topk: np.ndarray, targets: sp.csr_matrix) -> np.ndarray:
    """hits[u, r] = is topk[u, r] in row u of `targets` (vectorised sorted-key membership)."""
    targets = sp.csr_matrix(targets)
    targets.sort_indices()
    n_items = np.int64(targets.shape[1])
    rows = np.repeat(np.arange(targets.shape[0], dtype=np.int64), np.diff(targets.indptr))
    keys = rows * n_items + targets.indices  # sorted: rows ascend, columns ascend within rows
    query = np.arange(len(topk), dtype=np.int64)[:, None] * n_items + topk
    pos = np.minimum(np.searchsorted(keys, query), max(len(keys) - 1, 0))
    return (keys[pos] == query) & (topk >= 0) if len(keys) else np.zeros(topk.shape, bool)
