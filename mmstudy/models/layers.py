"""Message-passing blocks with *learned* edge values, shared by LATTICE, GRCN, MGCN, MMGCN, BM3, NGCF.

`graphs.SparseGraph` covers constant operators; the models here also need operators whose edge
values are functions of parameters (attention, routing weights, similarities of projected
features), without ever building a dense n x n matrix:

- `EdgeSet`: a fixed sparsity pattern (rows, cols) held in CSR order. `spmm(values, x)` is
  A(values) @ x (or A^T @ x), differentiable in both the values and x; `dot(a, b)` gives the
  per-edge inner products <a[row], b[col]> (torch's sampled dense-dense product, no E x d
  gather); `softmax(scores, by)` normalises edge scores over each row or column.
- `topk_cosine_pairs`: the top-k cosine neighbour index pairs of a feature matrix, chunked and on
  the features' device (values are recomputed differentiably with `EdgeSet.dot`).
- `interaction_graph_with`: the user-item graph with another normalisation than LightGCN's
  (row-normalised, optional self-loops), and `user_item_block`: the user x item block of the
  symmetric-normalised graph; both cached by the training-matrix hash.
- `NoiseSource`: dropout inside `loss` drawn from a private generator that is re-seeded from the
  training generator at every epoch start (reproducible, torch's global RNG untouched).
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn

from ..sparse import bipartite_adjacency, degree_normalize
from ..tensors import gather_rows, rows
from .base import ModelInput
from .cache import cached_sparse
from .graphs import SparseGraph, train_key


def _csr(indptr: torch.Tensor, indices: torch.Tensor, values: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
    return torch.sparse_csr_tensor(indptr, indices, values, shape, check_invariants=False)


def _indptr(sorted_rows: torch.Tensor, n_rows: int) -> torch.Tensor:
    counts = torch.bincount(sorted_rows, minlength=n_rows)
    return torch.cat([counts.new_zeros(1), torch.cumsum(counts, 0)])


class EdgeSet(nn.Module):
    """A fixed (n_rows x n_cols) sparsity pattern whose edge values are supplied per call.

    Edges are stored sorted by (row, col); every `values` / score vector is in that order
    (`rows`, `cols` give each edge's endpoints). Index tensors are non-persistent buffers, so
    the pattern moves with `.to(device)` and is not part of a state dict.
    """

    def __init__(self, rows: torch.Tensor, cols: torch.Tensor, shape: tuple[int, int]):
        super().__init__()
        n_rows, n_cols = int(shape[0]), int(shape[1])
        rows, cols = rows.long(), cols.long()
        order = torch.argsort(rows * n_cols + cols)
        rows, cols = rows[order], cols[order]
        by_col = torch.argsort(cols * n_rows + rows)
        self.shape = (n_rows, n_cols)
        for name, value in {"rows": rows, "cols": cols, "indptr": _indptr(rows, n_rows), "by_col": by_col,
                            "indptr_t": _indptr(cols[by_col], n_cols), "rows_t": rows[by_col],
                            "ones": torch.ones(len(rows), device=rows.device)}.items():
            self.register_buffer(name, value, persistent=False)

    @classmethod
    def from_scipy(cls, matrix: sp.spmatrix) -> "EdgeSet":
        """The pattern of the stored entries of a scipy sparse matrix."""
        coo = sp.coo_matrix(matrix)
        return cls(torch.from_numpy(coo.row.astype(np.int64)), torch.from_numpy(coo.col.astype(np.int64)), coo.shape)

    @classmethod
    def from_torch_csr(cls, matrix: torch.Tensor) -> "EdgeSet":
        """The pattern of a torch CSR tensor, its stored values kept (in edge order) as `values`."""
        indptr, cols = matrix.crow_indices(), matrix.col_indices()
        rows = torch.repeat_interleave(torch.arange(len(indptr) - 1, device=indptr.device), torch.diff(indptr))
        edges = cls(rows, cols, tuple(matrix.shape))
        order = torch.argsort(rows * matrix.shape[1] + cols)  # the order __init__ sorted the edges in
        edges.register_buffer("values", matrix.values()[order], persistent=False)
        return edges

    def __len__(self) -> int:
        return len(self.rows)

    def matrix(self, values: torch.Tensor, transpose: bool = False) -> torch.Tensor:
        """A(values) (or its transpose) as a torch CSR tensor (not differentiable; see `spmm`)."""
        if transpose:
            return _csr(self.indptr_t, self.rows_t, values[self.by_col], self.shape[::-1])
        return _csr(self.indptr, self.cols, values, self.shape)

    def spmm(self, values: torch.Tensor, x: torch.Tensor, transpose: bool = False) -> torch.Tensor:
        """A(values) @ x, or A(values)^T @ x; differentiable in `values` and `x`."""
        return _ValuedSpmm.apply(values, x, self, transpose)

    def dot(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """<a[row_e], b[col_e]> for every edge e; differentiable in `a` and `b`."""
        return _EdgeDot.apply(a, b, self)

    def sampled(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """Non-differentiable per-edge inner products (the kernel behind `dot` and the gradients)."""
        if len(self) == 0:
            return a.new_zeros(0)
        pattern = self.matrix(self.ones.to(a.dtype))
        return torch.sparse.sampled_addmm(pattern, a.contiguous(), b.contiguous().T, beta=0.0).values()

    def softmax(self, scores: torch.Tensor, by: str = "row") -> torch.Tensor:
        """Softmax of edge scores over the edges sharing a row (`by="row"`) or a column."""
        index, n = (self.rows, self.shape[0]) if by == "row" else (self.cols, self.shape[1])
        with torch.no_grad():
            top = scores.new_full((n,), -torch.inf).scatter_reduce(0, index, scores, "amax")
        weights = torch.exp(scores - rows(top, index))
        return weights / rows(scores.new_zeros(n).index_add(0, index, weights), index)

    def sum_by(self, values: torch.Tensor, by: str = "row") -> torch.Tensor:
        """Sum of edge values per row (or per column)."""
        index, n = (self.rows, self.shape[0]) if by == "row" else (self.cols, self.shape[1])
        return values.new_zeros(n).index_add(0, index, values)


class _ValuedSpmm(torch.autograd.Function):
    """y = A(v) @ x (A^T when `transpose`); dL/dv_e = <g[row_e], x[col_e]> (swapped for A^T)."""

    @staticmethod
    def forward(ctx, values, x, edges: EdgeSet, transpose: bool):
        ctx.save_for_backward(values, x)
        ctx.edges, ctx.transpose = edges, transpose
        return edges.matrix(values, transpose) @ x

    @staticmethod
    def backward(ctx, grad):
        values, x = ctx.saved_tensors
        edges, transpose = ctx.edges, ctx.transpose
        grad = grad.contiguous()
        grad_values = grad_x = None
        if ctx.needs_input_grad[0]:
            grad_values = edges.sampled(x, grad) if transpose else edges.sampled(grad, x)
        if ctx.needs_input_grad[1]:
            grad_x = edges.matrix(values, not transpose) @ grad
        return grad_values, grad_x, None, None


class _EdgeDot(torch.autograd.Function):
    """d_e = <a[row_e], b[col_e]>; dL/da = A(g) @ b, dL/db = A(g)^T @ a."""

    @staticmethod
    def forward(ctx, a, b, edges: EdgeSet):
        ctx.save_for_backward(a, b)
        ctx.edges = edges
        return edges.sampled(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        edges = ctx.edges
        grad = grad.contiguous()
        grad_a = edges.matrix(grad) @ b if ctx.needs_input_grad[0] else None
        grad_b = edges.matrix(grad, transpose=True) @ a if ctx.needs_input_grad[1] else None
        return grad_a, grad_b, None


@torch.no_grad()
def topk_cosine_pairs(x: torch.Tensor, k: int, valid: torch.Tensor | None = None,
                      chunk: int = 2048) -> tuple[torch.Tensor, torch.Tensor]:
    """(rows, cols) of each row's top-k cosine neighbours, the row itself included.

    Computed in row chunks on `x`'s device (peak memory O(chunk x n)). Rows flagged False in
    `valid` neither get nor give neighbours; pairs with non-positive similarity are dropped.
    """
    n = x.shape[0]
    unit = nn.functional.normalize(x.detach().float(), dim=1)
    valid = torch.ones(n, dtype=torch.bool, device=x.device) if valid is None else valid.to(x.device)
    k = min(int(k), int(valid.sum()))
    if k <= 0:
        empty = torch.zeros(0, dtype=torch.long, device=x.device)
        return empty, empty
    # one similarity buffer and preallocated outputs: nothing long-lived is allocated between the
    # big chunks, so a heap that keeps freed memory (`mmstudy.allocator`) reuses one block
    sim_buffer = unit.new_empty(min(chunk, n), n)
    top, index = unit.new_empty(n, k), torch.empty(n, k, dtype=torch.long, device=x.device)
    for start in range(0, n, chunk):
        sim = torch.mm(unit[start:start + chunk], unit.T, out=sim_buffer[:min(chunk, n - start)])
        sim[:, ~valid] = -torch.inf
        torch.topk(sim, k, dim=1, out=(top[start:start + len(sim)], index[start:start + len(sim)]))
    keep = (top > 0) & valid[:, None]
    rows = torch.arange(n, device=x.device)[:, None].expand_as(index)
    return rows[keep], index[keep]


def content_signal(features: torch.Tensor) -> torch.Tensor:
    """Items whose feature row is not all zero (a zero-filled missing modality carries no signal)."""
    return features.detach().abs().sum(dim=1) > 0


# --- user-item graphs ---------------------------------------------------------------------------
def interaction_graph_with(data: ModelInput, norm: str, self_loops: bool = False) -> SparseGraph:
    """The (users+items)^2 training graph, `degree_normalize(A [+ I], norm)`, cached, on the device.

    (LightGCN's D^-1/2 A D^-1/2 is `graphs.interaction_graph`.) `norm="row"` averages the
    neighbours (MMGCN's mean aggregation; LATTICE's D^-1 (A + I) with `self_loops`).
    """
    def compute() -> sp.csr_matrix:
        adj = bipartite_adjacency(data.train)
        if self_loops:
            adj = adj + sp.identity(adj.shape[0], dtype=np.float32, format="csr")
        return degree_normalize(adj, norm)

    matrix = cached_sparse(data.cache, "ui-graph", compute, train=train_key(data), norm=norm, self_loops=self_loops)
    return SparseGraph(matrix, symmetric=norm == "sym").to(data.device)


def user_item_block(data: ModelInput) -> SparseGraph:
    """D_u^-1/2 R D_i^-1/2: the user x item block of the symmetric-normalised graph (cached)."""
    def compute() -> sp.csr_matrix:
        r = sp.csr_matrix(data.train, dtype=np.float32)
        with np.errstate(divide="ignore"):
            du, di = (np.asarray(r.sum(axis=a)).ravel() for a in (1, 0))
            du, di = (np.where(d > 0, d ** -0.5, 0.0).astype(np.float32) for d in (du, di))
        return sp.csr_matrix(sp.diags(du) @ r @ sp.diags(di))

    matrix = cached_sparse(data.cache, "ui-block-sym", compute, train=train_key(data))
    return SparseGraph(matrix, symmetric=False).to(data.device)


def pair_square_mean(node_table: torch.Tensor, n_users: int, batch) -> torch.Tensor:
    """mean(e_u^2 + e_i^2) over the batch's (user, pos) and (user, neg) pairs, for a users-then-items
    node table (the ID regulariser of the MMGCN/GRCN reference code)."""
    user, pos, neg = gather_rows(node_table, batch.users, n_users + batch.pos, n_users + batch.neg)
    return (2 * user.square().sum() + pos.square().sum() + neg.square().sum()) / (2 * user.numel())


# --- randomness inside the loss -----------------------------------------------------------------
class NoiseSource:
    """A private random stream for dropout inside `loss`.

    Seeded from the model seed at construction and re-seeded from the training generator by
    `reseed` (call it in `on_epoch_start`), so a run is reproducible for a seed on CPU and never
    touches torch's global RNG. One generator per device is created lazily.
    """

    def __init__(self, seed: int):
        self.seed = int(seed)
        self._generators: dict[torch.device, torch.Generator] = {}

    def reseed(self, generator: torch.Generator) -> None:
        self.seed = int(torch.randint(0, 2**62, (1,), generator=generator, device=generator.device))
        self._generators.clear()

    def generator(self, device: torch.device) -> torch.Generator:
        device = torch.device(device)
        if device not in self._generators:
            self._generators[device] = torch.Generator(device=device).manual_seed(self.seed)
        return self._generators[device]

    def dropout(self, x: torch.Tensor, p: float) -> torch.Tensor:
        """Inverted dropout: zero each entry with probability p, scale the rest by 1/(1-p)."""
        if p <= 0:
            return x
        keep = torch.rand(x.shape, generator=self.generator(x.device), device=x.device) >= p
        return x * keep / (1.0 - p)
