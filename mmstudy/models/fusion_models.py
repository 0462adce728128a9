"""Configurable fusion backbones: one matrix-factorisation and one graph recommender whose item
content is a representation (joint | coordinated) followed by a fusion operator.

Hyper-parameters shared by both (`FUSION_DEFAULTS`): representation, operator (concat | sum |
mean | product | attention), attention (item | global scope), align_weight (InfoNCE between the
modality projections of the batch's positive items; coordinated only), temperature,
id_embedding (False: content-only items, used for late fusion's per-modality models),
finetune_features. With representation "joint" and operator "concat", MF-Fusion is VBPR and
LightGCN-Fusion is LightGCN-M (without feature fine-tuning by default).
"""
from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from ..errors import ConfigError
from ..schema.fusion import ConcatFusion, make_operator
from ..schema.representation import JointRepresentation, make_representation
from ..tensors import rows
from .base import MODELS, Batch, ModelInput, Recommender, bpr_loss, l2_reg
from .bpr import embedding_table
from .graphs import interaction_graph
from .hyperparams import check_params
from .lightgcn import LightGCN

FUSION_DEFAULTS = {"representation": "joint", "operator": "concat", "attention": "item", "align_weight": 0.0,
                   "temperature": 0.2, "id_embedding": True, "finetune_features": False}


class FusedContent(nn.Module):
    """Item content vectors: `representation` projections combined by `operator`."""

    def __init__(self, data: ModelInput, dim: int, params: dict[str, Any], init: str | None = None):
        super().__init__()
        self.representation = make_representation(params["representation"], data, dim, init=init,
                                                  trainable=params["finetune_features"])
        self.operator = make_operator(params["operator"], dim, self.representation.n_outputs, params["attention"])
        if isinstance(self.representation, JointRepresentation) and not isinstance(self.operator, ConcatFusion):
            raise ConfigError(f"operator {params['operator']!r} needs a coordinated representation; a joint one "
                              "has a single projection of the concatenated features (use operator 'concat')")
        if params["align_weight"] > 0 and not self.representation.aligns:
            raise ConfigError("align_weight > 0 needs representation 'coordinated' (a joint representation has "
                              "no per-modality projections to align)")
        self.align_weight, self.temperature = params["align_weight"], params["temperature"]

    @property
    def output_dim(self) -> int:
        return self.operator.output_dim

    def forward(self, items: torch.Tensor | None = None) -> torch.Tensor:
        return self.operator(self.representation(items))

    def alignment(self, items: torch.Tensor) -> torch.Tensor:
        """align_weight x InfoNCE of the modality projections of `items` (0 when disabled)."""
        if self.align_weight == 0:
            return torch.zeros((), device=items.device)
        return self.align_weight * self.representation.alignment_loss(items, self.temperature)


def _check_fusion_params(model: str, params: dict[str, Any]) -> None:
    check_params(model, params, embedding_size="positive_int", reg_weight="nonneg", align_weight="nonneg",
                 id_embedding="bool", finetune_features="bool")
    if not isinstance(params["temperature"], (int, float)) or params["temperature"] <= 0:
        raise ConfigError(f"hyper-parameter 'temperature' of model {model} must be > 0, got {params['temperature']!r}")


@MODELS.register("MF-Fusion", "mffusion", "mf-fusion", "vbpr-fusion")
class MFFusion(Recommender):
    """Matrix factorisation with fused item content (VBPR family).

    Item i = [q_i ; c_i] (or c_i alone without ID embeddings), c_i = operator(representation(f_i));
    user u = p_u of the matching size; score = <p_u, item>. Loss = BPR + reg_weight * l2_reg on
    the batch's user and item vectors + the alignment term. p, q Xavier-uniform, projections
    Xavier-normal with zero bias (as VBPR).

    Defaults: embedding_size 64, reg_weight 1e-4, plus `FUSION_DEFAULTS`.
    """

    defaults = {"embedding_size": 64, "reg_weight": 1e-4, **FUSION_DEFAULTS}
    multimodal = True
    cf_counterpart = "BPR-MF"

    def __init__(self, data: ModelInput, **params: Any):
        super().__init__(data, **params)
        _check_fusion_params(type(self).__name__, self.params)
        dim = self.params["embedding_size"]
        self.content = FusedContent(data, dim, self.params, init="xavier_normal")
        id_dim = dim if self.params["id_embedding"] else 0
        self.item_embedding = embedding_table(self.n_items, dim) if id_dim else None
        self.user_embedding = embedding_table(self.n_users, id_dim + self.content.output_dim)

    def item_vectors(self, items: torch.Tensor | None = None) -> torch.Tensor:
        content = self.content(items)
        if self.item_embedding is None:
            return content
        ids = self.item_embedding if items is None else rows(self.item_embedding, items)
        return torch.cat([ids, content], dim=1)

    def loss(self, batch: Batch) -> torch.Tensor:
        user = rows(self.user_embedding, batch.users)
        items = self.item_vectors(torch.cat([batch.pos, batch.neg]))
        pos, neg = items.split(len(batch.pos))
        ranking = bpr_loss((user * pos).sum(1), (user * neg).sum(1))
        return ranking + self.params["reg_weight"] * l2_reg(user, pos, neg) + self.content.alignment(batch.pos)

    def representations(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.user_embedding, self.item_vectors()


@MODELS.register("LightGCN-Fusion", "lightgcnfusion", "lgn-fusion", "lightgcn-m-fusion")
class LightGCNFusion(LightGCN):
    """LightGCN over fused item content (LightGCN-M family).

    Node features: users [p_u ; t_u], items [q_i ; normalize(c_i)] (without ID embeddings: t_u
    and normalize(c_i) alone), c_i = operator(representation(f_i)); LightGCN propagation (mean
    over layers 0..n_layers) on the normalised training graph, score = dot product. Loss =
    LightGCN's (BPR + reg_weight * l2_reg of the batch's layer-0 features) + the alignment term.

    Defaults: embedding_size 64 (per channel), n_layers 2, reg_weight 1e-4, plus `FUSION_DEFAULTS`.
    """

    defaults = {**LightGCN.defaults, **FUSION_DEFAULTS}
    multimodal = True
    cf_counterpart = "LightGCN"

    def __init__(self, data: ModelInput, **params: Any):
        Recommender.__init__(self, data, **params)  # LightGCN's tables depend on id_embedding: built here
        _check_fusion_params(type(self).__name__, self.params)
        check_params(type(self).__name__, self.params, n_layers="nonneg_int")
        dim = self.params["embedding_size"]
        self.content = FusedContent(data, dim, self.params)
        with_ids = self.params["id_embedding"]
        self.user_embedding = embedding_table(self.n_users, (dim if with_ids else 0) + self.content.output_dim)
        self.item_embedding = embedding_table(self.n_items, dim) if with_ids else None
        self.graph = interaction_graph(data)

    def ego_embeddings(self) -> torch.Tensor:
        items = F.normalize(self.content(), dim=1)
        if self.item_embedding is not None:
            items = torch.cat([self.item_embedding, items], dim=1)
        return torch.cat([self.user_embedding, items])

    def loss(self, batch: Batch) -> torch.Tensor:
        return super().loss(batch) + self.content.alignment(batch.pos)
