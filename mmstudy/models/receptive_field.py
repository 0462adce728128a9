"""The receptive field of a training batch: only the nodes an L-layer message-passing model
needs to score the batch, and the graph's row/column-restricted operators between them.

Models such as MMGCN propagate the whole user-item graph at every training step (as their
reference code does), although a batch's loss reads only a few thousand output rows. With
`nodes[L]` the batch's nodes and `nodes[l-1] = nodes[l] ∪ neighbours(nodes[l])`, layer l needs
to be computed only on `nodes[l]`, from its input rows `nodes[l-1]`: the same numbers (up to
float summation order) for far fewer rows. The input layer `nodes[0]` is always the whole
node set (a model's layer-0 features are cheap compared with its layers). It may be given as
`NodeBlocks`, its user rows and its item rows apart: on a big graph, concatenating them would cost
two more whole node tables per step (the concatenation and its gradient).

Everything is vectorised torch on the graph's device; the transposed operators for the
backward pass are sliced from the graph's stored transpose, so no sort is needed per batch.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from ..tensors import rows
from .graphs import SparseGraph, sparse_matmul
from .layers import _csr, _indptr


def _rows_of(matrix: torch.Tensor, row_ids: torch.Tensor | None) -> torch.Tensor:
    """matrix[row_ids] (every column) as a CSR tensor; `row_ids=None` is the matrix itself."""
    if row_ids is None:
        return matrix
    indptr, cols, values = matrix.crow_indices(), matrix.col_indices(), matrix.values()
    starts = indptr[row_ids]
    counts = indptr[row_ids + 1] - starts
    indptr = torch.cat([counts.new_zeros(1), counts.cumsum(0)])
    total = int(indptr[-1])
    offsets = torch.repeat_interleave(starts - indptr[:-1], counts, output_size=total)
    entries = offsets + torch.arange(total, device=offsets.device)
    return _csr(indptr, cols[entries], values[entries], (len(row_ids), matrix.shape[1]))


def _columns_of(matrix: torch.Tensor, col_map: torch.Tensor | None, n_cols: int) -> torch.Tensor:
    """`matrix` with column c renamed `col_map[c]`, or dropped where that is -1 (None: unchanged)."""
    if col_map is None:
        return matrix
    indptr, cols, values = matrix.crow_indices(), col_map[matrix.col_indices()], matrix.values()
    keep = cols >= 0
    if not bool(keep.all()):
        n_rows = len(indptr) - 1
        owner = torch.repeat_interleave(torch.arange(n_rows, device=cols.device), torch.diff(indptr),
                                        output_size=len(cols))
        indptr, cols, values = _indptr(owner[keep], n_rows), cols[keep], values[keep]
    return _csr(indptr, cols, values, (len(indptr) - 1, n_cols))


def _positions(ids: torch.Tensor, n: int) -> torch.Tensor:
    """A length-n map from node id to its position in `ids` (sorted, unique), -1 elsewhere."""
    where = torch.full((n,), -1, dtype=torch.long, device=ids.device)
    where[ids] = torch.arange(len(ids), device=ids.device)
    return where


@dataclass(frozen=True)
class NodeBlocks:
    """A whole-graph node table as its first rows (users) and the rest (items), kept apart."""

    users: torch.Tensor
    items: torch.Tensor

    def map(self, transform: Callable[[torch.Tensor], torch.Tensor]) -> "NodeBlocks":
        return NodeBlocks(transform(self.users), transform(self.items))

    def cat(self) -> torch.Tensor:
        return torch.cat([self.users, self.items])


Table = torch.Tensor | NodeBlocks


class ReceptiveField:
    """What an `n_layers` message-passing model over `graph` (rows receive messages) needs to
    compute its outputs at `targets` (node ids, repeats allowed).

    - `propagate(l, x)`: the layer-l aggregation `A[nodes[l+1]][:, nodes[l]] @ x` of an input `x`
      with one row per `nodes[l]` (differentiable in x; at layer 0 `x` may be `NodeBlocks`);
    - `own(l, x, transform)`: the rows of `transform(x)` (x by default) for the layer's output
      nodes `nodes[l+1]`, the transform applied before the gather (to each block of `NodeBlocks`);
    - `gather(l, table)`: the rows of a whole-graph node table (e.g. ID embeddings) for `nodes[l+1]`;
    - `targets(out)`: the rows of the last layer's output for `targets`, in their order.
    `ReceptiveField.whole(graph, n_layers)` is the trivial field of every node (evaluation).
    """

    def __init__(self, graph: SparseGraph, targets: torch.Tensor | None, n_layers: int):
        self.graph, self.n_layers = graph, n_layers
        n = graph.shape[0]
        self.nodes: list[torch.Tensor | None] = [None] * (n_layers + 1)  # None = every node
        self._target_index = None
        blocks: list[torch.Tensor | None] = [None] * n_layers  # rows of A for each layer's output nodes
        if targets is not None:
            self.nodes[n_layers], self._target_index = torch.unique(targets, return_inverse=True)
            for layer in range(n_layers - 1, -1, -1):
                blocks[layer] = _rows_of(graph.matrix, self.nodes[layer + 1])
                if layer > 0:
                    needed = torch.cat([self.nodes[layer + 1], blocks[layer].col_indices()])
                    self.nodes[layer] = torch.unique(needed)
        self._layers = [self._layer(layer, blocks[layer], n) for layer in range(n_layers)]
        self._split: tuple | None = None  # layer 0's operators by input block (`_input_blocks`)

    @classmethod
    def whole(cls, graph: SparseGraph, n_layers: int) -> "ReceptiveField":
        return cls(graph, None, n_layers)

    def _layer(self, layer: int, block: torch.Tensor | None, n: int
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """(A restricted to out-rows x in-columns, its transpose, positions of the out-rows among
        the in-rows) for layer `layer`, from `block` = A's out-rows; None positions = same nodes."""
        out_ids, in_ids = self.nodes[layer + 1], self.nodes[layer]
        if out_ids is None:
            return self.graph.matrix, self.graph.transposed, None
        in_map = None if in_ids is None else _positions(in_ids, n)
        forward = _columns_of(block, in_map, n if in_ids is None else len(in_ids))
        backward = _columns_of(_rows_of(self.graph.transposed, in_ids), _positions(out_ids, n), len(out_ids))
        return forward, backward, out_ids if in_map is None else in_map[out_ids]

    def propagate(self, layer: int, x: Table) -> torch.Tensor:
        forward, backward, _ = self._layers[layer]
        if isinstance(x, NodeBlocks):
            if self.nodes[layer + 1] is None:  # the whole graph out: no rows to save (evaluation)
                return sparse_matmul(x.cat(), forward, backward)
            (forward_u, backward_u), (forward_i, backward_i) = self._input_blocks(layer, len(x.users))
            return sparse_matmul(x.users, forward_u, backward_u) + sparse_matmul(x.items, forward_i, backward_i)
        return sparse_matmul(x, forward, backward)

    def _input_blocks(self, layer: int, n_users: int) -> tuple[tuple[torch.Tensor, torch.Tensor], ...]:
        """Layer `layer`'s (forward, backward) operators from its user input rows and from its
        item input rows; only for a layer whose input is the whole node set."""
        if layer != 0:
            raise ValueError("only the input layer (0) takes its nodes as NodeBlocks")
        if self._split is None or self._split[0] != n_users:
            forward, backward, _ = self._layers[0]
            ids = torch.arange(forward.shape[1], device=forward.device)
            is_user = ids < n_users
            users = _columns_of(forward, torch.where(is_user, ids, -1), n_users)
            items = _columns_of(forward, torch.where(is_user, -1, ids - n_users), len(ids) - n_users)
            self._split = (n_users, ((users, _rows_of(backward, ids[:n_users])),
                                     (items, _rows_of(backward, ids[n_users:]))))
        return self._split[1]

    def own(self, layer: int, x: Table, transform: Callable[[torch.Tensor], torch.Tensor] | None = None
            ) -> torch.Tensor:
        if transform is not None:
            x = x.map(transform) if isinstance(x, NodeBlocks) else transform(x)
        index = self._layers[layer][2]
        if isinstance(x, NodeBlocks):
            if index is None:
                return x.cat()
            n_users = len(x.users)
            is_user = index < n_users  # output nodes are sorted: users first
            return torch.cat([rows(x.users, index[is_user]), rows(x.items, index[~is_user] - n_users)])
        return x if index is None else rows(x, index)

    def gather(self, layer: int, table: torch.Tensor) -> torch.Tensor:
        out_ids = self.nodes[layer + 1]
        return table if out_ids is None else rows(table, out_ids)

    def targets(self, out: torch.Tensor) -> torch.Tensor:
        return out if self._target_index is None else rows(out, self._target_index)

    def sizes(self) -> list[int]:
        """Number of nodes computed at each layer (input layer first)."""
        n = self.graph.shape[0]
        return [n if ids is None else len(ids) for ids in self.nodes]
