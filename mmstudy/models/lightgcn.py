"""LightGCN: linear propagation of ID embeddings on the normalised user-item graph."""
from __future__ import annotations

from typing import Any

import torch

from ..tensors import gather_rows, rows
from .base import MODELS, Batch, ModelInput, Recommender, bpr_loss, l2_reg
from .bpr import embedding_table
from .graphs import interaction_graph, layer_mean
from .hyperparams import check_params


@MODELS.register("LightGCN", "lgn", "light-gcn")
class LightGCN(Recommender):
    """LightGCN (He et al., "LightGCN: Simplifying and Powering Graph Convolution Network for
    Recommendation", SIGIR 2020), as in MMRec's `lightgcn.py`.

    E^(k+1) = A_hat E^(k) with A_hat = D^-1/2 A D^-1/2 the user-item graph of the training
    interactions; final embeddings = mean of E^(0..n_layers); score = dot product. Loss = BPR on
    the propagated embeddings + reg_weight * l2_reg on the batch's *ego* (layer-0) embeddings.
    Embeddings Xavier-uniform initialised. The graph is a cached torch CSR operator; the
    propagated embeddings are computed once per step and cached for evaluation by `prepare_eval`.

    Defaults: embedding_size 64, n_layers 2 (MMRec searches 1-4), reg_weight 1e-4.
    """

    defaults = {"embedding_size": 64, "n_layers": 2, "reg_weight": 1e-4}

    def __init__(self, data: ModelInput, **params: Any):
        super().__init__(data, **params)
        check_params(type(self).__name__, self.params, embedding_size="positive_int", n_layers="nonneg_int",
                     reg_weight="nonneg")
        dim = self.params["embedding_size"]
        self.user_embedding = embedding_table(self.n_users, dim)
        self.item_embedding = embedding_table(self.n_items, dim)
        self.graph = interaction_graph(data)

    def ego_embeddings(self) -> torch.Tensor:
        """Layer-0 node embeddings, users then items ((n_users + n_items) x dim)."""
        return torch.cat([self.user_embedding, self.item_embedding])

    def propagate(self, ego: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = layer_mean(self.graph, ego, self.params["n_layers"])
        return out.split([self.n_users, self.n_items])

    def loss(self, batch: Batch) -> torch.Tensor:
        ego = self.ego_embeddings()
        users, items = self.propagate(ego)
        user = rows(users, batch.users)
        ranking = bpr_loss((user * rows(items, batch.pos)).sum(1), (user * rows(items, batch.neg)).sum(1))
        reg = l2_reg(*gather_rows(ego, batch.users, self.n_users + batch.pos, self.n_users + batch.neg))
        return ranking + self.params["reg_weight"] * reg

    def representations(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.propagate(self.ego_embeddings())
