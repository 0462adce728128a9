"""Graph building blocks shared by graph recommenders (LightGCN, FREEDOM, LATTICE, BM3, ...).

- `SparseGraph`: a fixed sparse operator (torch CSR buffer) whose product with a dense matrix is
  differentiable in the dense argument; the backward pass reuses the matrix itself when it is
  symmetric (or a precomputed transpose), which is ~2.5x faster than torch's generic CSR backward.
- `interaction_graph`: the symmetric-normalised user-item graph D^-1/2 A D^-1/2, cached.
- `item_knn_graph` / `merged_item_graph`: per-modality cosine kNN item-item graphs, cached by the
  feature content hash, and their weighted sum.
- `sym_normalized_edges` / `bipartite_graph_from_edges`: the same normalisation on an edge list,
  on the device (used for per-epoch sub-sampled graphs, e.g. FREEDOM's edge pruning).
- `layer_mean`: LightGCN propagation, the mean of the embeddings after 0..n layers.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn

from ..errors import ConfigError
from ..hashing import array_sha256
from ..sparse import bipartite_adjacency, degree_normalize, to_torch_csr, topk_cosine_knn
from .base import ModelInput
from .cache import cached_sparse, matrix_key


class _FixedSparseMatmul(torch.autograd.Function):
    """y = A @ x with a constant sparse A; the gradient wrt x is A^T @ grad (A^T given)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, matrix: torch.Tensor, matrix_t: torch.Tensor) -> torch.Tensor:
        ctx.matrix_t = matrix_t
        return matrix @ x

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        return ctx.matrix_t @ grad.contiguous(), None, None


def sparse_matmul(x: torch.Tensor, matrix: torch.Tensor, matrix_t: torch.Tensor) -> torch.Tensor:
    """`matrix @ x` for a constant sparse CSR `matrix`, differentiable in x via `matrix_t` (its transpose)."""
    return _FixedSparseMatmul.apply(x, matrix, matrix_t)


class SparseGraph(nn.Module):
    """A constant sparse matrix held as a non-persistent CSR buffer (moves with `.to(device)`).

    `graph(x)` is `matrix @ x`, differentiable in `x`. Symmetric matrices store no transpose.
    """

    def __init__(self, matrix: sp.spmatrix | torch.Tensor, symmetric: bool = False):
        super().__init__()
        self.set(matrix, symmetric)

    def set(self, matrix: sp.spmatrix | torch.Tensor, symmetric: bool = False,
            device: torch.device | str | None = None) -> None:
        """Replace the operator (a scipy matrix or a torch CSR tensor), keeping the device."""
        if device is None:
            device = self.matrix.device if hasattr(self, "matrix") else "cpu"
        if isinstance(matrix, torch.Tensor):
            if not symmetric:
                raise ValueError("pass a scipy matrix for non-symmetric graphs (the transpose is precomputed)")
            csr, csr_t = matrix.to(device), None
        else:
            csr = to_torch_csr(matrix, device)
            csr_t = None if symmetric else to_torch_csr(sp.csr_matrix(matrix).T, device)
        self.symmetric = symmetric
        self.register_buffer("matrix", csr, persistent=False)
        self.register_buffer("matrix_t", csr_t, persistent=False)

    @property
    def shape(self) -> tuple[int, int]:
        return tuple(self.matrix.shape)

    @property
    def transposed(self) -> torch.Tensor:
        """The transpose as a CSR tensor (the matrix itself when symmetric)."""
        return self.matrix if self.matrix_t is None else self.matrix_t

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return sparse_matmul(x, self.matrix, self.transposed)


def layer_mean(graph: SparseGraph, ego: torch.Tensor, n_layers: int) -> torch.Tensor:
    """LightGCN propagation: mean of [E, A E, A^2 E, ..., A^n E]."""
    total, current = ego, ego
    for _ in range(n_layers):
        current = graph(current)
        total = total + current
    return total / (n_layers + 1)


# --- content keys -------------------------------------------------------------------------------
def train_key(data: ModelInput) -> str:
    """Content hash of the training interaction matrix."""
    return matrix_key(data.train)


def feature_key(data: ModelInput, name: str) -> str:
    """`data.feature_keys[name]` (features + mask hash), or a hash of the features if absent."""
    if name not in data.features:
        raise ConfigError(f"unknown modality {name!r}; available: {data.modality_names}")
    key = data.feature_keys.get(name)
    return key if key else array_sha256(data.features[name].detach().cpu().numpy())


# --- user-item graph ----------------------------------------------------------------------------
def interaction_graph(data: ModelInput) -> SparseGraph:
    """The (users+items)^2 graph D^-1/2 A D^-1/2 of the training interactions, on `data.device`."""
    matrix = cached_sparse(data.cache, "ui-sym", lambda: degree_normalize(bipartite_adjacency(data.train)),
                           train=train_key(data))
    return SparseGraph(matrix, symmetric=True).to(data.device)


def interaction_edges(data: ModelInput) -> tuple[torch.Tensor, torch.Tensor]:
    """(user, item) index tensors (int64, CPU) of the training interactions, row-major order."""
    coo = sp.csr_matrix(data.train).tocoo()
    return torch.from_numpy(coo.row.astype(np.int64)), torch.from_numpy(coo.col.astype(np.int64))


def sym_normalized_edges(users: torch.Tensor, items: torch.Tensor, n_users: int, n_items: int) -> torch.Tensor:
    """Edge weights 1/sqrt(deg_u * deg_i) of the bipartite graph formed by these edges."""
    deg_u = torch.bincount(users, minlength=n_users).to(torch.float32)
    deg_i = torch.bincount(items, minlength=n_items).to(torch.float32)
    return (deg_u[users] * deg_i[items]).rsqrt()


def bipartite_graph_from_edges(users: torch.Tensor, items: torch.Tensor, n_users: int,
                               n_items: int) -> torch.Tensor:
    """The sym-normalised (users+items)^2 CSR graph of an edge list, built on the edges' device."""
    values = sym_normalized_edges(users, items, n_users, n_items)
    rows = torch.cat([users, items + n_users])
    cols = torch.cat([items + n_users, users])
    n = n_users + n_items
    coo = torch.sparse_coo_tensor(torch.stack([rows, cols]), torch.cat([values, values]), (n, n),
                                  check_invariants=False)
    return coo.coalesce().to_sparse_csr()


# --- item-item graphs ---------------------------------------------------------------------------
def item_knn_graph(data: ModelInput, name: str, k: int, *, include_self: bool = True,
                   binary: bool = True, norm: str = "sym") -> sp.csr_matrix:
    """Normalised cosine top-k item-item graph of one modality (scipy CSR, cached).

    Follows MMRec's `get_knn_adj_mat`: top-k by cosine similarity (the item itself included by
    default), edge weight 1 (`binary`) or the similarity, then `degree_normalize(norm)`. Items
    whose feature row is all zero (e.g. a zero-filled missing modality) carry no content signal:
    they get no neighbours and are nobody's neighbour.
    """
    if k < 1:
        raise ConfigError(f"knn k must be >= 1, got {k}")

    def compute() -> sp.csr_matrix:
        x = data.features[name].detach().float().cpu()
        signal = (x.abs().sum(dim=1) > 0).numpy()
        knn = topk_cosine_knn(x, k, present=signal, include_self=include_self)
        if binary:
            knn.data[:] = 1.0
        return degree_normalize(knn, norm)

    return cached_sparse(data.cache, "item-knn", compute, features=feature_key(data, name), k=int(k),
                         include_self=include_self, binary=binary, norm=norm)


def merged_item_graph(data: ModelInput, weights: dict[str, float], k: int, **knn_options) -> SparseGraph:
    """sum_m weights[m] * item_knn_graph(m): the fused item-item graph, on `data.device`."""
    total = sp.csr_matrix((data.n_items, data.n_items), dtype=np.float32)
    for name, weight in weights.items():
        if weight:
            total = total + np.float32(weight) * item_knn_graph(data, name, k, **knn_options)
    return SparseGraph(total.tocsr(), symmetric=False).to(data.device)
