"""Tensor helpers with cheap backward passes on CPU, shared by every layer that trains or projects.

Profiling showed advanced indexing (`t[idx]`), per-index gathers, `F.normalize` and `pow(2).mean()`
dominating CPU training steps; each helper here computes the same value with a faster backward.
"""
from __future__ import annotations

import torch


def rows(table: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """`table[index]` for a 1-D index, via `index_select`: its backward is an index_add, about 3x
    faster on CPU than the index_put behind advanced indexing (the hot path of every loss)."""
    return table.index_select(0, index)


def gather_rows(table: torch.Tensor, *indices: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """`rows(table, index)` for each index, in one gather: the backward pass zero-fills one
    table-sized gradient buffer instead of one per index (on whole-graph node tables that fill
    costs as much as the gather itself)."""
    return rows(table, torch.cat(indices)).split([len(index) for index in indices])


def normalize_rows(x: torch.Tensor) -> torch.Tensor:
    """`F.normalize(x, dim=1)` (same eps), as x * (1/||x||): its backward is ~1.5x faster on CPU
    than the division's (a hot path of every model that normalises whole node tables)."""
    return x * torch.linalg.vector_norm(x, dim=1, keepdim=True).clamp_min(1e-12).reciprocal()


def mean_square(x: torch.Tensor) -> torch.Tensor:
    """mean(x ** 2) over all entries, via `vector_norm`: one pass backward, ~2x faster on CPU
    than `x.pow(2).mean()` on whole tables (e.g. MMGCN's preference regulariser)."""
    return torch.linalg.vector_norm(x).square() / x.numel()
