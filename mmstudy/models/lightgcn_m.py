"""LightGCN-M: LightGCN whose node features also carry projected item content."""
from __future__ import annotations

from typing import Any

import torch
from torch.nn import functional as F

from ..schema.projection import FeatureProjection, concat_features
from .base import MODELS, ModelInput
from .bpr import embedding_table
from .hyperparams import check_params
from .lightgcn import LightGCN


@MODELS.register("LightGCN-M", "lightgcnm", "lgn-m")
class LightGCNM(LightGCN):
    """LightGCN-M, the multimodal LightGCN of Malitesta et al., "Do We Really Need to Drop Items
    with Missing Modalities in Multimodal Recommendation?" (CIKM 2024; reference code
    sisinflab/Graph-Missing-Modalities, `LightGCNMModel`, aggregation "concat").

    Two channels share LightGCN's propagation on the normalised user-item graph:
      collaborative: users p_u, items q_i (ID embeddings, as LightGCN);
      multimodal:    users t_u (ID embeddings), items normalize(W [f_i^1; ...; f_i^M] + b), the
                     L2-normalised linear projection of the concatenated modality features.
    Both are propagated (mean over layers 0..n_layers) and score(u, i) = <p_u, q_i> + <t_u, c_i>;
    equivalently, one LightGCN over the concatenated node features [p_u; t_u] and [q_i; c_i],
    which is how it is computed here. Loss = BPR + reg_weight * l2_reg on the batch's layer-0
    node features (LightGCN's regulariser; the normalised content block has constant norm).
    As in the reference, the raw features are fine-tuned (`finetune_features`); p, q, t are
    Xavier-uniform, W has torch's default initialisation.

    Defaults: embedding_size 64 (per channel), n_layers 2 (as our LightGCN, its CF
    counterpart), reg_weight 1e-4, finetune_features True.
    """

    defaults = {**LightGCN.defaults, "finetune_features": True}
    multimodal = True
    cf_counterpart = "LightGCN"

    def __init__(self, data: ModelInput, **params: Any):
        super().__init__(data, **params)
        check_params(type(self).__name__, self.params, finetune_features="bool")
        dim = self.params["embedding_size"]
        self.user_content = embedding_table(self.n_users, dim)
        self.content = FeatureProjection(concat_features(data), dim, trainable=self.params["finetune_features"])

    def ego_embeddings(self) -> torch.Tensor:
        users = torch.cat([self.user_embedding, self.user_content], dim=1)
        items = torch.cat([self.item_embedding, F.normalize(self.content(), dim=1)], dim=1)
        return torch.cat([users, items])
