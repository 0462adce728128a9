"""The item-item co-interaction graph that graph imputers propagate features over.

Built from TRAINING interactions only (the function never sees validation or test data):
co-occurrence counts C = R^T R (two items are linked by every user who interacted with both),
diagonal removed, top-k neighbours kept per item, symmetrised by union, degree-normalised.
C is computed in row chunks sized by their sparse-product work, so neither a dense n x n matrix
nor the full C is ever held in memory.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ..errors import ConfigError, DataError
from ..hashing import array_sha256
from ..sparse import degree_normalize, topk_per_row

WEIGHTINGS = ("binary", "count")


@dataclass(frozen=True, eq=False)
class ItemGraph:
    """A symmetric item-item graph.

    `weights` holds the symmetrised edge weights (1.0 per edge for "binary" weighting, else the
    co-occurrence count), `adjacency` its degree-normalised form used for propagation.
    `isolated[i]` is True for items without any neighbour (no training interactions, or no
    co-interacting item); `cold[i]` for items without any training interaction.
    """

    weights: sp.csr_matrix
    adjacency: sp.csr_matrix
    k: int
    normalize: str
    weighting: str
    isolated: np.ndarray
    cold: np.ndarray
    train_checksum: str

    @property
    def n_items(self) -> int:
        return int(self.weights.shape[0])

    @property
    def n_isolated(self) -> int:
        return int(self.isolated.sum())

    @property
    def n_edges(self) -> int:
        """Undirected edges (each stored twice in the symmetric matrices)."""
        return int(self.weights.nnz // 2)

    @property
    def checksum(self) -> str:
        return array_sha256(self.adjacency)

    def summary(self) -> dict:
        degree = np.diff(self.weights.indptr)
        return {"n_items": self.n_items, "k": self.k, "normalize": self.normalize,
                "weighting": self.weighting, "n_edges": self.n_edges, "n_isolated": self.n_isolated,
                "n_cold": int(self.cold.sum()),
                "mean_degree": float(degree.mean()) if self.n_items else 0.0,
                "max_degree": int(degree.max(initial=0)), "train_checksum": self.train_checksum,
                "checksum": self.checksum}


def co_interaction_graph(train: sp.spmatrix, k: int = 100, normalize: str = "sym",
                         weighting: str = "binary", work_per_chunk: int = 5_000_000) -> ItemGraph:
    """The top-k co-interaction graph of a (users x items) TRAINING interaction matrix.

    Each item keeps its k items with the largest co-occurrence counts (ties: lower item index);
    the graph is the union of these lists (an edge exists if either endpoint selected the other),
    so degrees can exceed k. `weighting="binary"` gives every edge weight 1 (as the published
    imputation code does), "count" keeps the co-occurrence count. `normalize` is "sym"
    (D^-1/2 W D^-1/2) or "row" (D^-1 W). `work_per_chunk` bounds the sparse-product work (and so
    the memory) of one row chunk of R^T R.
    """
    if not sp.issparse(train) or train.ndim != 2:
        raise DataError(f"co_interaction_graph expects a sparse (users x items) train matrix, got {type(train).__name__}")
    if int(k) < 1:
        raise ConfigError(f"graph k must be >= 1, got {k}")
    if weighting not in WEIGHTINGS:
        raise ConfigError(f"unknown graph weighting {weighting!r}; expected one of {WEIGHTINGS}")
    if normalize not in ("sym", "row"):
        raise ConfigError(f"unknown graph normalisation {normalize!r}; expected 'sym' or 'row'")
    r = sp.csr_matrix(train, dtype=np.float32)
    r.sum_duplicates()
    if r.nnz and (r.data < 0).any():
        raise DataError("train matrix has negative interaction values")
    r.data[:] = 1.0
    r.eliminate_zeros()
    top = _topk_cooccurrence(r, int(k), work_per_chunk)
    weights = sp.csr_matrix(top.maximum(top.T), dtype=np.float32)
    if weighting == "binary":
        weights.data[:] = 1.0
    weights.sort_indices()
    return ItemGraph(weights=weights, adjacency=degree_normalize(weights, normalize), k=int(k),
                     normalize=normalize, weighting=weighting, isolated=np.diff(weights.indptr) == 0,
                     cold=np.diff(r.tocsc().indptr) == 0, train_checksum=array_sha256(r))


def _topk_cooccurrence(r: sp.csr_matrix, k: int, work_per_chunk: int) -> sp.csr_matrix:
    """Top-k rows of C = R^T R without the diagonal, computed in chunks of item rows."""
    n_items = r.shape[1]
    rt = sp.csr_matrix(r.T)
    user_degree = np.diff(r.indptr).astype(np.int64)
    work = rt @ user_degree  # multiply-adds needed for each row of R^T R
    bounds = _chunk_bounds(np.asarray(work, dtype=np.int64), work_per_chunk)
    parts = []
    for start, stop in zip(bounds[:-1], bounds[1:]):
        block = sp.csr_matrix(rt[start:stop] @ r)
        block.sort_indices()  # so that top-k ties go to the lower item index
        rows = np.repeat(np.arange(start, stop), np.diff(block.indptr))
        block.data[block.indices == rows] = 0.0
        parts.append(topk_per_row(block, k))
    if not parts:
        return sp.csr_matrix((n_items, n_items), dtype=np.float32)
    return sp.csr_matrix(sp.vstack(parts, format="csr"), dtype=np.float32)


def _chunk_bounds(work: np.ndarray, budget: int) -> np.ndarray:
    """Row boundaries so that each chunk's summed work is about `budget` (at least one row)."""
    n = len(work)
    if n == 0:
        return np.zeros(1, dtype=np.int64)
    cumulative = np.cumsum(work)
    cuts = np.searchsorted(cumulative, np.arange(budget, cumulative[-1], budget), side="right")
    return np.unique(np.concatenate([[0], cuts, [n]])).astype(np.int64)
