"""GRCN: the user-item graph refined by modality-aware routing, then an ID GCN on the refined graph."""
from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from ..schema.content_dropout import ContentDropout
from ..tensors import gather_rows, normalize_rows, rows
from .base import MODELS, Batch, ModelInput, Recommender, bpr_loss
from .graphs import interaction_edges
from .hyperparams import check_params
from .layers import EdgeSet, pair_square_mean


class RoutingTower(ContentDropout, nn.Module):
    """One modality's graph refiner (GRCN's CGCN).

    Items: c_i = normalize(lrelu(W f_i + b)); users: p_u = normalize(preference_u). Routing
    (`n_routing` iterations): p_u <- normalize(p_u + sum_i alpha_ui c_i) with alpha = softmax over
    the user's items of <p_u, c_i>. Then one attention layer in both directions returns the node
    representations [p + sum alpha c ; c + sum alpha p] and the edge attentions of both
    directions (softmax over each user's items, and over each item's users).
    """

    def __init__(self, features: torch.Tensor, n_users: int, dim: int):
        super().__init__()
        features = features.detach().to(torch.float32)
        self.register_buffer("features", features, persistent=False)
        self.mlp = nn.Linear(features.shape[1], dim)
        nn.init.xavier_normal_(self.mlp.weight)
        self.preference = nn.Parameter(nn.init.xavier_normal_(torch.empty(n_users, dim)))

    def forward(self, edges: EdgeSet, n_routing: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        items = normalize_rows(F.leaky_relu(self.mlp(self.dropped(self.features))))
        users = normalize_rows(self.preference)
        for _ in range(n_routing):
            alpha = edges.softmax(edges.dot(users, items), by="row")
            users = normalize_rows(users + edges.spmm(alpha, items))
        scores = edges.dot(users, items)
        to_users, to_items = edges.softmax(scores, by="row"), edges.softmax(scores, by="col")
        nodes = torch.cat([users + edges.spmm(to_users, items), items + edges.spmm(to_items, users, transpose=True)])
        return nodes, to_users, to_items


@MODELS.register("GRCN")
class GRCN(Recommender):
    """GRCN (Wei et al., "Graph-Refined Convolutional Network for Multimedia Recommendation with
    Implicit Feedback", ACM MM 2020), after MMRec's `grcn.py` (weight mode "confid", pruning,
    fusion "concat", no activation, normalised inputs).

    - Graph refining: each modality's `RoutingTower` gives every edge direction an attention
      weight; an edge's weight is max_m (alpha^m * conf^m_source), with conf a learned
      per-node, per-modality confidence, then ReLU (pruning of negative edges).
    - ID tower: x = normalize(e_id); x1 = A_w x, x2 = A_w x1 (sum aggregation with the refined
      weights); id_rep = x + x1 + x2.
    - Representation = [id_rep ; tower_1 ; ... ; tower_M]; score = dot product.
    - Loss = BPR + reg_weight * (mean(e_u^2 + e_i^2) over the batch's (user, item) pairs
      + sum_m mean(p^m_u^2) over the batch's users).
    Routing follows the paper (users aggregate the features of their items); in MMRec's and the
    original code the routing messages flow only from users to items, so the preference update
    is a no-op there.

    Defaults: embedding_size 64 (ID), latent_dim 64 (per modality, MMRec `latent_embedding`),
    n_routing 3 (MMRec `n_layers`), reg_weight 1e-4 (MMRec grid). CF counterpart: LightGCN.
    """

    defaults = {"embedding_size": 64, "latent_dim": 64, "n_routing": 3, "reg_weight": 1e-4}
    multimodal = True
    cf_counterpart = "LightGCN"

    def __init__(self, data: ModelInput, **params: Any):
        super().__init__(data, **params)
        check_params(type(self).__name__, self.params, embedding_size="positive_int", latent_dim="positive_int",
                     n_routing="nonneg_int", reg_weight="nonneg")
        p = self.params
        n_nodes = self.n_users + self.n_items
        self.id_embedding = nn.Parameter(nn.init.xavier_normal_(torch.empty(n_nodes, p["embedding_size"])))
        self.towers = nn.ModuleList(RoutingTower(data.features[n].cpu(), self.n_users, p["latent_dim"])
                                    for n in data.modality_names)
        self.confidence = nn.Parameter(nn.init.xavier_normal_(torch.empty(n_nodes, len(self.towers))))
        users, items = interaction_edges(data)
        self.edges = EdgeSet(users, items, (self.n_users, self.n_items))

    def refined_weights(self, to_users: list[torch.Tensor], to_items: list[torch.Tensor]
                        ) -> tuple[torch.Tensor, torch.Tensor]:
        """Edge weights for messages into users (from items) and into items (from users)."""
        conf_items = rows(self.confidence, self.n_users + self.edges.cols)
        conf_users = rows(self.confidence, self.edges.rows)
        into_users = (torch.stack(to_users, dim=1) * conf_items).amax(dim=1)
        into_items = (torch.stack(to_items, dim=1) * conf_users).amax(dim=1)
        return F.relu(into_users), F.relu(into_items)

    def id_tower(self, into_users: torch.Tensor, into_items: torch.Tensor) -> torch.Tensor:
        x = normalize_rows(self.id_embedding)
        out, layer = x, x
        for _ in range(2):
            users, items = layer.split([self.n_users, self.n_items])
            layer = torch.cat([self.edges.spmm(into_users, items), self.edges.spmm(into_items, users, transpose=True)])
            out = out + layer
        return out

    def forward(self) -> torch.Tensor:
        reps, to_users, to_items = zip(*(tower(self.edges, self.params["n_routing"]) for tower in self.towers))
        id_rep = self.id_tower(*self.refined_weights(list(to_users), list(to_items)))
        return torch.cat([id_rep, *reps], dim=1)

    def loss(self, batch: Batch) -> torch.Tensor:
        out = self.forward()
        user, pos, neg = gather_rows(out, batch.users, self.n_users + batch.pos, self.n_users + batch.neg)
        loss = bpr_loss((user * pos).sum(1), (user * neg).sum(1))
        reg = pair_square_mean(self.id_embedding, self.n_users, batch)
        reg = reg + sum(rows(t.preference, batch.users).pow(2).mean() for t in self.towers)
        return loss + self.params["reg_weight"] * reg

    def representations(self) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.forward()
        return out.split([self.n_users, self.n_items])
