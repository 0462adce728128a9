"""LATTICE: item-item graphs learned from projected modality features, mixed with frozen kNN graphs."""
from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from ..schema.projection import modality_projections
from ..tensors import rows
from .base import MODELS, Batch, ModelInput, Recommender, bpr_loss, l2_reg
from .bpr import embedding_table
from .graphs import SparseGraph, item_knn_graph, layer_mean
from .hyperparams import check_params
from .layers import EdgeSet, content_signal, interaction_graph_with, topk_cosine_pairs


@MODELS.register("LATTICE")
class LATTICE(Recommender):
    """LATTICE (Zhang et al., "Mining Latent Structures for Multimedia Recommendation", ACM MM
    2021), as in MMRec's `lattice.py` with its default `cf_model: lightgcn`.

    - Frozen graphs O_m: per modality, top-`knn_k` cosine neighbours of the raw features (the
      item itself included), edge weight = similarity, D^-1/2 S D^-1/2 (cached by feature hash).
    - Learned graph: per modality, top-`knn_k` cosine neighbours of the projected features
      W_m f^m + b_m (raw features fine-tuned); the kept pairs' similarities are recomputed
      differentiably (never a dense n x n), weighted by softmax(modal_weight)_m, and the sum is
      D^-1/2-normalised: L. Item graph G = (1 - lambda_coeff) L + lambda_coeff sum_m w_m O_m.
    - As the reference, G is rebuilt (with gradients into the projections and modal weights) on
      the first batch of every epoch; later batches of the epoch reuse it detached. Evaluation
      rebuilds it from the current parameters.
    - h = G^n_layers q (item ID embeddings). User-item side: LightGCN mean over `n_ui_layers` on
      MMRec's D^-1 (A + I) graph. Items = lightgcn_i + normalize(h); score = dot product.
    - Loss = BPR + reg_weight * 0.5 * l2_reg(u, i+, i-) on the final embeddings.
    Items whose raw features are all zero (zero-filled missing modality) get no neighbours in
    that modality's graphs.

    Defaults (MMRec): embedding_size 64 (also the projection size), n_ui_layers 2 (weight_size
    [64, 64]), n_layers 1, knn_k 10, lambda_coeff 0.9, reg_weight 0.0 (grid {0, 1e-5, 1e-4,
    1e-3}), finetune_features True; the reference trains with lr 5e-4 (pass it to `fit`).
    CF counterpart: LightGCN.
    """

    defaults = {"embedding_size": 64, "n_ui_layers": 2, "n_layers": 1, "knn_k": 10, "lambda_coeff": 0.9,
                "reg_weight": 0.0, "finetune_features": True}
    multimodal = True
    cf_counterpart = "LightGCN"

    def __init__(self, data: ModelInput, **params: Any):
        super().__init__(data, **params)
        check_params(type(self).__name__, self.params, embedding_size="positive_int", n_ui_layers="nonneg_int",
                     n_layers="nonneg_int", knn_k="positive_int", lambda_coeff="unit", reg_weight="nonneg",
                     finetune_features="bool")
        p = self.params
        names = data.modality_names
        self.user_embedding = embedding_table(self.n_users, p["embedding_size"])
        self.item_embedding = embedding_table(self.n_items, p["embedding_size"])
        self.projections = modality_projections(data, p["embedding_size"], trainable=p["finetune_features"])
        self.modal_weight = nn.Parameter(torch.full((len(names),), 1.0 / len(names)))
        self.frozen = nn.ModuleList(
            SparseGraph(item_knn_graph(data, n, p["knn_k"], include_self=True, binary=False)).to(data.device)
            for n in names)
        self.register_buffer("signal", torch.stack([content_signal(data.features[n]) for n in names]).to(data.device),
                             persistent=False)
        self.ui_graph = interaction_graph_with(data, "row", self_loops=True)
        self.rebuild = True
        self._graph: tuple[list[EdgeSet], torch.Tensor, torch.Tensor] | None = None

    def on_epoch_start(self, epoch: int, generator: torch.Generator) -> None:
        self.rebuild = True

    def learned_graph(self) -> tuple[list[EdgeSet], torch.Tensor, torch.Tensor]:
        """(per-modality kNN patterns, their normalised edge values concatenated, modality weights)."""
        weights = torch.softmax(self.modal_weight, dim=0)
        patterns, values = [], []
        for m, projection in enumerate(self.projections):
            unit = F.normalize(projection(), dim=1)
            rows, cols = topk_cosine_pairs(unit, self.params["knn_k"], self.signal[m])
            edges = EdgeSet(rows, cols, (self.n_items, self.n_items))
            patterns.append(edges)
            values.append(weights[m] * edges.dot(unit, unit))
        rows = torch.cat([e.rows for e in patterns])
        cols = torch.cat([e.cols for e in patterns])
        values = torch.cat(values)
        degree = values.new_zeros(self.n_items).index_add(0, rows, values)
        scale = degree.clamp_min(1e-12).rsqrt() * (degree > 0)
        return patterns, values * scale[rows] * scale[cols], weights

    def item_side(self, graph: tuple[list[EdgeSet], torch.Tensor, torch.Tensor]) -> torch.Tensor:
        patterns, values, weights = graph
        lam = self.params["lambda_coeff"]
        h = self.item_embedding
        for _ in range(self.params["n_layers"]):
            learned, start = 0, 0
            for edges in patterns:
                learned = learned + edges.spmm(values[start:start + len(edges)], h)
                start += len(edges)
            frozen = sum(w * graph_m(h) for w, graph_m in zip(weights, self.frozen))
            h = (1 - lam) * learned + lam * frozen
        return h

    def forward(self, graph: tuple[list[EdgeSet], torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        ego = torch.cat([self.user_embedding, self.item_embedding])
        out = layer_mean(self.ui_graph, ego, self.params["n_ui_layers"])
        users, items = out.split([self.n_users, self.n_items])
        return users, items + F.normalize(self.item_side(graph), dim=1)

    def loss(self, batch: Batch) -> torch.Tensor:
        if self.rebuild or self._graph is None:
            graph = self.learned_graph()
            self._graph = (graph[0], graph[1].detach(), graph[2].detach())
            self.rebuild = False
        else:
            graph = self._graph
        users, items = self.forward(graph)
        user, pos, neg = rows(users, batch.users), rows(items, batch.pos), rows(items, batch.neg)
        loss = bpr_loss((user * pos).sum(1), (user * neg).sum(1))
        if self.params["reg_weight"] > 0:
            loss = loss + self.params["reg_weight"] * 0.5 * l2_reg(user, pos, neg)
        return loss

    def representations(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.forward(self.learned_graph())
