"""Sparse building blocks shared by models and imputers: torch conversion, normalisation, top-k kNN.

Nothing here ever materialises a dense n x n matrix: similarities are computed in row chunks and
only the top-k per row are kept.
"""
from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp
import torch

# torch's CSR tensors are stable for the sparse @ dense products used here; silence the notice
warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")


def to_torch_csr(matrix: sp.spmatrix, device: torch.device | str = "cpu") -> torch.Tensor:
    """A scipy sparse matrix as a float32 torch sparse CSR tensor (fast sparse @ dense on CPU)."""
    m = sp.csr_matrix(matrix, dtype=np.float32)
    m.sort_indices()
    return torch.sparse_csr_tensor(torch.from_numpy(m.indptr.astype(np.int64)),
                                   torch.from_numpy(m.indices.astype(np.int64)),
                                   torch.from_numpy(m.data), size=m.shape, device=device,
                                   check_invariants=False)


def degree_normalize(adj: sp.spmatrix, mode: str = "sym") -> sp.csr_matrix:
    """D^-1/2 A D^-1/2 (mode 'sym') or D^-1 A (mode 'row'); zero-degree rows stay zero."""
    adj = sp.csr_matrix(adj, dtype=np.float32)
    deg = np.asarray(adj.sum(axis=1)).ravel()
    with np.errstate(divide="ignore"):
        if mode == "sym":
            inv = np.where(deg > 0, deg ** -0.5, 0.0).astype(np.float32)
            return sp.csr_matrix(sp.diags(inv) @ adj @ sp.diags(inv))
        if mode == "row":
            inv = np.where(deg > 0, 1.0 / deg, 0.0).astype(np.float32)
            return sp.csr_matrix(sp.diags(inv) @ adj)
    raise ValueError(f"unknown normalisation mode {mode!r}; expected 'sym' or 'row'")


def bipartite_adjacency(train: sp.spmatrix) -> sp.csr_matrix:
    """The (users+items) x (users+items) symmetric user-item graph of the training interactions."""
    r = sp.csr_matrix(train, dtype=np.float32)
    return sp.bmat([[None, r], [r.T, None]], format="csr")


def topk_cosine_knn(features: np.ndarray | torch.Tensor, k: int, present: np.ndarray | None = None,
                    chunk: int = 2048, include_self: bool = False) -> sp.csr_matrix:
    """Top-k cosine-similarity neighbours per row, as a CSR matrix of similarities.

    Rows are processed in chunks of `chunk`, so peak memory is O(chunk x n). Rows whose
    `present` flag is False neither get nor give neighbours (they stay isolated).
    """
    x = torch.as_tensor(np.asarray(features, dtype=np.float32))
    n = x.shape[0]
    x = torch.nn.functional.normalize(x, dim=1)
    if present is not None:
        x = x * torch.as_tensor(np.asarray(present, dtype=bool))[:, None]
    k = int(min(k, n - (0 if include_self else 1)))
    if k <= 0 or n == 0:
        return sp.csr_matrix((n, n), dtype=np.float32)
    rows, cols, vals = [], [], []
    for start in range(0, n, chunk):
        sim = x[start:start + chunk] @ x.T
        if not include_self:
            idx = torch.arange(start, min(start + chunk, n))
            sim[idx - start, idx] = -np.inf
        v, c = torch.topk(sim, k, dim=1)
        rows.append(torch.arange(start, start + sim.shape[0]).repeat_interleave(k))
        cols.append(c.reshape(-1))
        vals.append(v.reshape(-1))
    r, c, v = (torch.cat(t).numpy() for t in (rows, cols, vals))
    keep = np.isfinite(v) & (v > 0) if present is not None else np.isfinite(v)
    return sp.csr_matrix((v[keep].astype(np.float32), (r[keep], c[keep])), shape=(n, n))


def topk_per_row(matrix: sp.spmatrix, k: int) -> sp.csr_matrix:
    """Keep the k largest entries of each row of a sparse matrix (vectorised, no Python row loop)."""
    m = sp.csr_matrix(matrix)
    m.eliminate_zeros()
    counts = np.diff(m.indptr)
    if counts.max(initial=0) <= k:
        return m
    row = np.repeat(np.arange(m.shape[0]), counts)
    order = np.lexsort((-m.data, row))
    rank = np.arange(m.nnz) - np.repeat(m.indptr[:-1], counts)
    keep = order[rank < k]
    return sp.csr_matrix((m.data[keep], (row[keep], m.indices[keep])), shape=m.shape)
