"""VBPR: BPR-MF whose item factors are extended with a linear projection of item content."""
from __future__ import annotations

from typing import Any

import torch

from ..schema.projection import FeatureProjection, concat_features
from ..tensors import rows
from .base import MODELS, Batch, ModelInput, Recommender, bpr_loss, l2_reg
from .bpr import embedding_table
from .hyperparams import check_params


@MODELS.register("VBPR")
class VBPR(Recommender):
    """VBPR (He & McAuley, "VBPR: Visual Bayesian Personalized Ranking from Implicit Feedback",
    AAAI 2016), in MMRec's form (`vbpr.py`).

    Item i = [q_i ; W f_i + b] where f_i concatenates all modalities' features (in modality
    order) and W is one linear layer to `embedding_size`; user u = p_u of size 2*embedding_size
    (latent + content preference). score = <p_u, item>. Loss = BPR + reg_weight * l2_reg on the
    batch's user and full item vectors. p, q Xavier-uniform; W Xavier-normal with zero bias.
    Features are a constant input (not fine-tuned), as in MMRec.

    Defaults: embedding_size 64, reg_weight 1e-4.
    """

    defaults = {"embedding_size": 64, "reg_weight": 1e-4}
    multimodal = True
    cf_counterpart = "BPR-MF"

    def __init__(self, data: ModelInput, **params: Any):
        super().__init__(data, **params)
        check_params(type(self).__name__, self.params, embedding_size="positive_int", reg_weight="nonneg")
        dim = self.params["embedding_size"]
        self.user_embedding = embedding_table(self.n_users, 2 * dim)
        self.item_embedding = embedding_table(self.n_items, dim)
        self.content = FeatureProjection(concat_features(data), dim, init="xavier_normal")

    def item_vectors(self, items: torch.Tensor | None = None) -> torch.Tensor:
        ids = self.item_embedding if items is None else rows(self.item_embedding, items)
        return torch.cat([ids, self.content(items)], dim=1)

    def loss(self, batch: Batch) -> torch.Tensor:
        user = rows(self.user_embedding, batch.users)
        items = self.item_vectors(torch.cat([batch.pos, batch.neg]))
        pos, neg = items.split(len(batch.pos))
        ranking = bpr_loss((user * pos).sum(1), (user * neg).sum(1))
        return ranking + self.params["reg_weight"] * l2_reg(user, pos, neg)

    def representations(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.user_embedding, self.item_vectors()
