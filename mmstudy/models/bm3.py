"""BM3: self-supervised bootstrapping of user, item and modality latents, without negatives."""
from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from ..schema.projection import modality_projections
from ..tensors import rows
from .base import MODELS, Batch, ModelInput, Recommender
from .bpr import embedding_table
from .graphs import interaction_graph, layer_mean
from .hyperparams import check_params
from .layers import NoiseSource


def cosine_loss(online: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """1 - mean cosine similarity between rows (the target side carries no gradient)."""
    return 1.0 - F.cosine_similarity(online, target.detach(), dim=-1).mean()


@MODELS.register("BM3")
class BM3(Recommender):
    """BM3 (Zhou et al., "Bootstrap Latent Representations for Multi-modal Recommendation",
    WWW 2023), as in MMRec's `bm3.py`.

    - Latents: LightGCN mean over `n_layers` on the sym-normalised user-item graph; items add
      their ID embedding (i = lightgcn_i + q_i). Modality m: W_m f^m_i + b_m (raw features
      fine-tuned, W_m Xavier-normal), in the embedding space.
    - No negative sampling: a shared predictor P (a linear layer) maps online latents, the
      target latents are dropout(`dropout`)-perturbed, gradient-free copies. For each training
      pair (u, i): L = [1 - cos(P u, t_i)] + [1 - cos(P i, t_u)]
      + cl_weight * sum_m ([1 - cos(P f^m_i, t_i)] + [1 - cos(P f^m_i, t^m_i)])
      + reg_weight * (||U|| + ||I||) / n_items, MMRec's EmbLoss on the full latent tables
      (unsquared Frobenius norms).
    - score(u, i) = <P u, P i>.
    The dropout masks come from a `NoiseSource` re-seeded at each epoch start (reproducible).

    Defaults (MMRec): embedding_size 64, n_layers 1, dropout 0.5, reg_weight 0.1,
    cl_weight 2.0, finetune_features True. CF counterpart: LightGCN.
    """

    defaults = {"embedding_size": 64, "n_layers": 1, "dropout": 0.5, "reg_weight": 0.1, "cl_weight": 2.0,
                "finetune_features": True}
    multimodal = True
    uses_negatives = False
    cf_counterpart = "LightGCN"

    def __init__(self, data: ModelInput, **params: Any):
        super().__init__(data, **params)
        check_params(type(self).__name__, self.params, embedding_size="positive_int", n_layers="nonneg_int",
                     dropout="proportion", reg_weight="nonneg", cl_weight="nonneg", finetune_features="bool")
        dim = self.params["embedding_size"]
        self.user_embedding = embedding_table(self.n_users, dim)
        self.item_embedding = embedding_table(self.n_items, dim)
        self.predictor = nn.Linear(dim, dim)
        nn.init.xavier_normal_(self.predictor.weight)
        self.projections = modality_projections(data, dim, trainable=self.params["finetune_features"],
                                                init="xavier_normal")
        self.graph = interaction_graph(data)
        self.noise = NoiseSource(data.seed)

    def on_epoch_start(self, epoch: int, generator: torch.Generator) -> None:
        self.noise.reseed(generator)

    def latents(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Online user and item latents before the predictor."""
        ego = torch.cat([self.user_embedding, self.item_embedding])
        out = layer_mean(self.graph, ego, self.params["n_layers"])
        users, items = out.split([self.n_users, self.n_items])
        return users, items + self.item_embedding

    def loss(self, batch: Batch) -> torch.Tensor:
        p = self.params
        users, items = self.latents()
        user, item = rows(users, batch.users), rows(items, batch.pos)
        with torch.no_grad():
            user_target, item_target = self.noise.dropout(user, p["dropout"]), self.noise.dropout(item, p["dropout"])
        loss = cosine_loss(self.predictor(user), item_target) + cosine_loss(self.predictor(item), user_target)
        for projection in self.projections:
            content = projection(batch.pos)
            with torch.no_grad():
                content_target = self.noise.dropout(content, p["dropout"])
            online = self.predictor(content)
            loss = loss + p["cl_weight"] * (cosine_loss(online, item_target) + cosine_loss(online, content_target))
        if p["reg_weight"] > 0:
            loss = loss + p["reg_weight"] * (users.norm() + items.norm()) / self.n_items
        return loss

    def representations(self) -> tuple[torch.Tensor, torch.Tensor]:
        users, items = self.latents()
        return self.predictor(users), self.predictor(items)
