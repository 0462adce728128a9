"""MGCN: a user-item view plus purified item-item modality views, fused with behaviour awareness."""
from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from ..errors import ConfigError
from ..schema.projection import modality_projections
from ..tensors import gather_rows
from .base import MODELS, Batch, ModelInput, Recommender, bpr_loss, l2_reg
from .bpr import embedding_table
from .graphs import SparseGraph, interaction_graph, item_knn_graph, layer_mean
from .hyperparams import check_params
from .layers import user_item_block


def gate(dim: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(dim, dim), nn.Sigmoid())


def info_nce(view1: torch.Tensor, view2: torch.Tensor, temperature: float) -> torch.Tensor:
    """In-batch InfoNCE: row j of view1 should match row j of view2 among all rows of view2.

    Cross-entropy over cosine logits / temperature with the diagonal as targets (= MMRec's
    -log(exp(pos) / sum exp(all)), computed stably in one fused log-softmax); the temperature
    scales the B x d view, not the B x B logits (that block is the cost of this loss).
    """
    view1, view2 = F.normalize(view1, dim=1), F.normalize(view2, dim=1)
    logits = (view1 / temperature) @ view2.T
    return F.cross_entropy(logits, torch.arange(len(logits), device=logits.device))


@MODELS.register("MGCN")
class MGCN(Recommender):
    """MGCN (Yu et al., "Multi-View Graph Convolutional Network for Multimedia Recommendation",
    ACM MM 2023), as in MMRec's `mgcn.py`.

    - Behaviour-guided purifier: item view of modality m = q_i * sigmoid(G_m(W_m f^m_i + b_m)),
      the ID embedding gated by the projected (fine-tuned) features.
    - Item-item view: n_layers products with S_m (top-`knn_k` cosine graph of the raw features,
      item included, similarity-weighted, D^-1/2 S D^-1/2; cached); users: R_norm @ items with
      R_norm = D_u^-1/2 R D_i^-1/2.
    - User-item view: LightGCN mean over `n_ui_layers` (sym-normalised graph): E_cf.
    - Behaviour-aware fuser: a = softmax_m(query(E_m)) gives the common part C = sum_m a_m E_m;
      the specific parts (E_m - C) are gated by sigmoid(P_m E_cf); side = (sum_m gated_m + C) /
      (M + 1). Final = E_cf + side; score = dot product.
    - Loss = BPR + reg_weight * 0.5 * l2_reg(u, i+, i-) (final embeddings)
      + cl_loss * [InfoNCE(side_i, E_cf_i) over the batch's positives + InfoNCE(side_u, E_cf_u)
      over the batch's users], temperature `temperature`.

    Defaults (MMRec): embedding_size 64, n_ui_layers 2, n_layers 1, knn_k 10, reg_weight 1e-4,
    cl_loss 0.01 (grid {0.001, 0.01, 0.1}), temperature 0.2, finetune_features True.
    CF counterpart: LightGCN.
    """

    defaults = {"embedding_size": 64, "n_ui_layers": 2, "n_layers": 1, "knn_k": 10, "reg_weight": 1e-4,
                "cl_loss": 0.01, "temperature": 0.2, "finetune_features": True}
    multimodal = True
    cf_counterpart = "LightGCN"

    def __init__(self, data: ModelInput, **params: Any):
        super().__init__(data, **params)
        check_params(type(self).__name__, self.params, embedding_size="positive_int", n_ui_layers="nonneg_int",
                     n_layers="nonneg_int", knn_k="positive_int", reg_weight="nonneg", cl_loss="nonneg",
                     finetune_features="bool")
        p = self.params
        dim, names = p["embedding_size"], data.modality_names
        if not isinstance(p["temperature"], (int, float)) or p["temperature"] <= 0:
            raise ConfigError(f"hyper-parameter 'temperature' of model MGCN must be > 0, got {p['temperature']!r}")
        self.user_embedding = embedding_table(self.n_users, dim)
        self.item_embedding = embedding_table(self.n_items, dim)
        self.projections = modality_projections(data, dim, trainable=p["finetune_features"])
        self.item_gates = nn.ModuleList(gate(dim) for _ in names)
        self.preference_gates = nn.ModuleList(gate(dim) for _ in names)
        self.query = nn.Sequential(nn.Linear(dim, dim), nn.Tanh(), nn.Linear(dim, 1, bias=False))
        self.item_graphs = nn.ModuleList(
            SparseGraph(item_knn_graph(data, n, p["knn_k"], include_self=True, binary=False)).to(data.device)
            for n in names)
        self.ui_graph = interaction_graph(data)
        self.user_items = user_item_block(data)

    def modality_view(self, m: int) -> torch.Tensor:
        """Purified item embeddings of modality m propagated on its item graph, users aggregated."""
        items = self.item_embedding * self.item_gates[m](self.projections[m]())
        for _ in range(self.params["n_layers"]):
            items = self.item_graphs[m](items)
        return torch.cat([self.user_items(items), items])

    def forward(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(final node embeddings, side embeddings, cf embeddings); nodes are users then items."""
        ego = torch.cat([self.user_embedding, self.item_embedding])
        cf = layer_mean(self.ui_graph, ego, self.params["n_ui_layers"])
        views = [self.modality_view(m) for m in range(len(self.item_graphs))]
        attention = torch.softmax(torch.cat([self.query(v) for v in views], dim=1), dim=1)
        common = sum(attention[:, m:m + 1] * v for m, v in enumerate(views))
        specific = sum(g(cf) * (v - common) for g, v in zip(self.preference_gates, views))
        side = (specific + common) / (len(views) + 1)
        return cf + side, side, cf

    def loss(self, batch: Batch) -> torch.Tensor:
        nodes, side, cf = self.forward()
        pos_nodes, neg_nodes = self.n_users + batch.pos, self.n_users + batch.neg
        user, pos, neg = gather_rows(nodes, batch.users, pos_nodes, neg_nodes)
        loss = bpr_loss((user * pos).sum(1), (user * neg).sum(1))
        loss = loss + self.params["reg_weight"] * 0.5 * l2_reg(user, pos, neg)
        if self.params["cl_loss"] > 0:
            t = self.params["temperature"]
            side_items, side_users = gather_rows(side, pos_nodes, batch.users)
            cf_items, cf_users = gather_rows(cf, pos_nodes, batch.users)
            contrast = info_nce(side_items, cf_items, t) + info_nce(side_users, cf_users, t)
            loss = loss + self.params["cl_loss"] * contrast
        return loss

    def representations(self) -> tuple[torch.Tensor, torch.Tensor]:
        nodes = self.forward()[0]
        return nodes.split([self.n_users, self.n_items])
