"""BPR-MF: matrix factorisation trained with the BPR pairwise loss."""
from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ..tensors import rows
from .base import MODELS, Batch, ModelInput, Recommender, bpr_loss, l2_reg
from .hyperparams import check_params


def embedding_table(n: int, dim: int, init: str = "xavier_uniform") -> nn.Parameter:
    """An (n x dim) trainable table initialised like MMRec (Xavier uniform or normal)."""
    table = torch.empty(n, dim)
    getattr(nn.init, f"{init}_")(table)
    return nn.Parameter(table)


@MODELS.register("BPR-MF", "bpr", "bprmf", "mf")
class BPRMF(Recommender):
    """BPR-MF (Rendle et al., "BPR: Bayesian Personalized Ranking from Implicit Feedback", UAI 2009).

    score(u, i) = <p_u, q_i>; loss = BPR + reg_weight * l2_reg(p_u, q_pos, q_neg), the L2 term
    on the batch's embeddings (MMRec's BPR, whose EmbLoss uses unsquared norms; we use the shared
    squared-norm `l2_reg`). Embeddings Xavier-normal initialised as MMRec's BPR.

    Defaults: embedding_size 64, reg_weight 1e-4.
    """

    defaults = {"embedding_size": 64, "reg_weight": 1e-4}

    def __init__(self, data: ModelInput, **params: Any):
        super().__init__(data, **params)
        check_params(type(self).__name__, self.params, embedding_size="positive_int", reg_weight="nonneg")
        dim = self.params["embedding_size"]
        self.user_embedding = embedding_table(self.n_users, dim, "xavier_normal")
        self.item_embedding = embedding_table(self.n_items, dim, "xavier_normal")

    def loss(self, batch: Batch) -> torch.Tensor:
        user = rows(self.user_embedding, batch.users)
        pos, neg = rows(self.item_embedding, batch.pos), rows(self.item_embedding, batch.neg)
        ranking = bpr_loss((user * pos).sum(1), (user * neg).sum(1))
        return ranking + self.params["reg_weight"] * l2_reg(user, pos, neg)

    def representations(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.user_embedding, self.item_embedding
