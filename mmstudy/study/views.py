"""Views of a cell's one test pass: the same scorer and ranking, targets or catalogue restricted.

- `per_user_common`: the items a `dropped` run keeps (catalogue restricted), so imputers and
  `dropped` compare on the same items and users;
- `per_user_cold`: the new items' own metrics (`new_items` phase): targets restricted to the cold
  items, ranked with the warm catalogue, plus each user's random-ranking floor;
- `per_user_head` / `per_user_tail`: who pays: targets restricted to the short head / long tail
  of training popularity (the APLT split of `evaluation.beyond`);
- `segments`: per user, whether a test item lost content to the cell's mask and whether the user
  is cold (training interactions in the lowest quartile).
Head, tail and segments are stored for every masked multimodal cell, and for an unmasked one
that asks for them (`missing.segment_views`: the complete-data point who-pays compares with).
None is a second test evaluation: no selection reads them.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch

from ..data.split import Split
from ..evaluation import evaluate
from ..evaluation.beyond import item_popularity, long_tail_mask
from ..evaluation.ranking import is_model, seen_items
from ..missing.handling import HandledData, restrict_items
from .cell import Cell


def restricted(scorer, columns: np.ndarray):
    """A score function over the `columns` items of `scorer` (a model or a score function)."""
    score, index = (scorer.score if is_model(scorer) else scorer), torch.from_numpy(columns)
    return lambda users: score(users)[:, index]


def target_view(split: Split, items: np.ndarray) -> Split:
    """The split whose test targets are only `items` (ranking still over every item)."""
    keep = np.zeros(split.shape[1], bool)
    keep[items] = True
    test = sp.csr_matrix(split.test.multiply(sp.csr_matrix(keep.astype(np.float32))))
    test.eliminate_zeros()
    return Split(split.train, split.valid, test, method=split.method, seed=split.seed, info=split.info)


def cell_views(scorer, handled: HandledData, split: Split, cell: Cell, budget: float,
               cold: np.ndarray | None = None) -> dict[str, pd.DataFrame]:
    """The extra per-user tables a cell stores beside `per_user` (see the module docstring)."""
    def scored(view: Split, score=scorer) -> pd.DataFrame:
        return evaluate(score, view, "test", cutoffs=cell.cutoffs, memory_budget_mb=budget).per_user

    out = {}
    if cell.missing.common_items and handled.kept_items is None:
        keep = handled.complete_items if handled.complete_items is not None else np.arange(split.shape[1])
        out["per_user_common"] = scored(restrict_items(split, keep), restricted(scorer, keep))
    if cold is not None:
        if handled.kept_items is not None:  # `dropped`: the kept cold items, in the kept catalogue's indices
            cold = np.flatnonzero(np.isin(handled.kept_items, cold))
        out["per_user_cold"] = with_random_floor(scored(target_view(handled.split, cold)), handled.split, cell.cutoffs)
    masked = cell.missing.setting != "none" or cell.missing.segment_views
    if masked and handled.modalities and handled.kept_items is None:
        tail = np.flatnonzero(long_tail_mask(item_popularity(handled.split.train)))
        head = np.setdiff1d(np.arange(split.shape[1]), tail)
        out["per_user_tail"], out["per_user_head"] = scored(target_view(handled.split, tail)), \
            scored(target_view(handled.split, head))
        out["segments"] = segments(handled, split)
    return {name: table for name, table in out.items() if not table.empty}


def with_random_floor(per_user: pd.DataFrame, split: Split, cutoffs: tuple[int, ...]) -> pd.DataFrame:
    """`per_user` plus RandomRecall@k: the expected Recall@k of a uniformly random ranking of the
    user's candidates (k / candidates), the floor a model must beat on new items."""
    candidates = split.shape[1] - np.diff(seen_items(split, "test").indptr)[per_user.index.to_numpy()]
    return per_user.assign(**{f"RandomRecall@{k}": np.minimum(1.0, k / np.maximum(candidates, 1)) for k in cutoffs})


def segments(handled: HandledData, split: Split) -> pd.DataFrame:
    """Per evaluated test user: `masked_target` (a test item lost content) and `cold_user`."""
    users = split.eval_users("test")
    complete = np.zeros(split.shape[1], bool)
    complete[handled.complete_items if handled.complete_items is not None else slice(None)] = True
    lost = sp.csr_matrix(split.test.multiply(sp.csr_matrix((~complete).astype(np.float32))))
    degree = np.diff(split.train.indptr)[users]
    return pd.DataFrame({"masked_target": np.diff(lost.indptr)[users] > 0,
                         "cold_user": degree <= np.quantile(degree, 0.25)}, index=pd.Index(users, name="user"))
