"""FREEDOM: a frozen multimodal item-item graph plus a degree-sensitively pruned user-item graph."""
from __future__ import annotations

from typing import Any

import torch

from ..errors import ConfigError
from ..schema.projection import modality_projections
from ..tensors import rows
from .base import MODELS, Batch, ModelInput, Recommender, bpr_loss
from .bpr import embedding_table
from .graphs import (SparseGraph, bipartite_graph_from_edges, interaction_edges, interaction_graph, layer_mean,
                     merged_item_graph, sym_normalized_edges)
from .hyperparams import check_params


def item_graph_weights(names: list[str], params: dict[str, Any]) -> dict[str, float]:
    """Weights of the per-modality kNN graphs in FREEDOM's fused item-item graph.

    1. `modality_weights` (a {name: weight} dict) when given: used as is; it must name exactly the
       model's modalities, with non-negative weights.
    2. one modality: weight 1.
    3. `image_modality` (a modality name, or a 0-based position in the modality order) found:
       it gets `mm_image_weight`, the others share 1 - mm_image_weight equally (MMRec: image 0.1,
       text 0.9).
    4. otherwise: equal weights 1/M.
    """
    explicit = params["modality_weights"]
    if explicit is not None:
        if not isinstance(explicit, dict) or set(explicit) != set(names):
            raise ConfigError(f"hyper-parameter 'modality_weights' must map exactly the modalities {names}, "
                              f"got {explicit!r}")
        if any(not isinstance(w, (int, float)) or w < 0 for w in explicit.values()):
            raise ConfigError(f"hyper-parameter 'modality_weights' must be non-negative numbers, got {explicit!r}")
        return {n: float(explicit[n]) for n in names}
    if len(names) == 1:
        return {names[0]: 1.0}
    chosen = params["image_modality"]
    if isinstance(chosen, int) and not isinstance(chosen, bool):
        if not 0 <= chosen < len(names):
            raise ConfigError(f"hyper-parameter 'image_modality' = {chosen} is not a position in {names}")
        chosen = names[chosen]
    if chosen not in names:
        return {n: 1.0 / len(names) for n in names}
    rest = (1.0 - params["mm_image_weight"]) / (len(names) - 1)
    return {n: params["mm_image_weight"] if n == chosen else rest for n in names}


@MODELS.register("FREEDOM")
class FREEDOM(Recommender):
    """FREEDOM (Zhou & Shen, "A Tale of Two Graphs: Freezing and Denoising Graph Structures for
    Multimodal Recommendation", ACM MM 2023), as in MMRec's `freedom.py`.

    - Frozen item-item graph S = sum_m w_m S_m, S_m the sym-normalised binary top-`knn_k` cosine
      graph of modality m's raw features (item itself included), built once and cached; weights
      per `item_graph_weights()` (`mm_image_weight` for `image_modality`).
    - User-item graph: each epoch (`on_epoch_start`) keeps (1 - dropout) of the training edges,
      sampled without replacement with probability proportional to 1/sqrt(deg_u deg_i), and
      re-normalises the kept graph symmetrically; evaluation uses the full graph. Before the first
      `on_epoch_start` the full graph is used.
    - Embeddings: LightGCN mean over `n_ui_layers` on the user-item graph; items add
      h = S^n_mm_layers q (ID embeddings propagated on the item graph).
    - Loss = BPR(users, fused items) + reg_weight * sum_m BPR(users, W_m f^m_i + b_m), the
      modality projections scored against the propagated users. Raw features are fine-tuned
      (`finetune_features`, as MMRec); ID embeddings Xavier-uniform, W_m torch's default init.

    Defaults: embedding_size 64 (also the projection size), knn_k 10, n_mm_layers 1,
    n_ui_layers 2, dropout 0.8, mm_image_weight 0.1, image_modality "image",
    modality_weights None, reg_weight 1e-4 (from MMRec's grid {0, 1e-5, 1e-4, 1e-3}),
    finetune_features True.
    """

    defaults = {"embedding_size": 64, "knn_k": 10, "n_mm_layers": 1, "n_ui_layers": 2, "dropout": 0.8,
                "mm_image_weight": 0.1, "image_modality": "image", "modality_weights": None,
                "reg_weight": 1e-4, "finetune_features": True}
    multimodal = True
    cf_counterpart = "LightGCN"

    def __init__(self, data: ModelInput, **params: Any):
        super().__init__(data, **params)
        check_params(type(self).__name__, self.params, embedding_size="positive_int", knn_k="positive_int",
                     n_mm_layers="nonneg_int", n_ui_layers="nonneg_int", dropout="proportion",
                     mm_image_weight="unit", reg_weight="nonneg", finetune_features="bool")
        p = self.params
        self.weights = item_graph_weights(data.modality_names, p)
        self.user_embedding = embedding_table(self.n_users, p["embedding_size"])
        self.item_embedding = embedding_table(self.n_items, p["embedding_size"])
        self.projections = modality_projections(data, p["embedding_size"], trainable=p["finetune_features"])
        self.item_graph = merged_item_graph(data, self.weights, p["knn_k"])
        self.full_graph = interaction_graph(data)
        self.train_graph = SparseGraph(self.full_graph.matrix, symmetric=True)  # pruned per epoch
        users, items = interaction_edges(data)
        self.register_buffer("edge_users", users, persistent=False)
        self.register_buffer("edge_items", items, persistent=False)
        self.edge_probability = sym_normalized_edges(users, items, self.n_users, self.n_items)  # CPU

    def on_epoch_start(self, epoch: int, generator: torch.Generator) -> None:
        """Degree-sensitive edge pruning: resample the training graph for this epoch."""
        n_keep = int(len(self.edge_probability) * (1.0 - self.params["dropout"]))
        if self.params["dropout"] <= 0 or n_keep == 0:
            return
        probability = self.edge_probability.to(generator.device)
        keep = torch.multinomial(probability, n_keep, replacement=False, generator=generator)
        keep = keep.to(self.edge_users.device)
        graph = bipartite_graph_from_edges(self.edge_users[keep], self.edge_items[keep], self.n_users, self.n_items)
        self.train_graph.set(graph, symmetric=True)

    def forward(self, graph: SparseGraph) -> tuple[torch.Tensor, torch.Tensor]:
        item_side = self.item_embedding
        for _ in range(self.params["n_mm_layers"]):
            item_side = self.item_graph(item_side)
        ego = torch.cat([self.user_embedding, self.item_embedding])
        out = layer_mean(graph, ego, self.params["n_ui_layers"])
        users, items = out.split([self.n_users, self.n_items])
        return users, items + item_side

    def loss(self, batch: Batch) -> torch.Tensor:
        users, items = self.forward(self.train_graph)
        user = rows(users, batch.users)
        loss = bpr_loss((user * rows(items, batch.pos)).sum(1), (user * rows(items, batch.neg)).sum(1))
        if self.params["reg_weight"] > 0:
            both = torch.cat([batch.pos, batch.neg])
            for projection in self.projections:
                content = projection(both)
                pos, neg = content.split(len(batch.pos))
                loss = loss + self.params["reg_weight"] * bpr_loss((user * pos).sum(1), (user * neg).sum(1))
        return loss

    def representations(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.forward(self.full_graph)
