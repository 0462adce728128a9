"""MMGCN: one graph convolution network per modality on the user-item graph, outputs averaged."""
from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from ..schema.content_dropout import ContentDropout
from ..tensors import mean_square, normalize_rows
from .base import MODELS, Batch, ModelInput, Recommender, bpr_loss
from .hyperparams import check_params
from .layers import interaction_graph_with, pair_square_mean
from .receptive_field import NodeBlocks, ReceptiveField, Table


def xavier_linear(n_in: int, n_out: int) -> nn.Linear:
    layer = nn.Linear(n_in, n_out)
    nn.init.xavier_normal_(layer.weight)
    return layer


class ModalityGCN(ContentDropout, nn.Module):
    """One modality's tower: x^0 = normalize([p_u ; MLP(f_i)]), then per layer l
    h = lrelu(A_mean x W_l), x_hat = lrelu(L_l x) + e_id, x^(l+1) = lrelu(G_l h + x_hat)."""

    def __init__(self, features: torch.Tensor, n_users: int, dim: int, dim_latent: int, n_layers: int):
        super().__init__()
        features = features.detach().to(torch.float32)
        self.register_buffer("features", features, persistent=False)
        width = features.shape[1]
        self.mlp = xavier_linear(width, dim_latent) if width > dim_latent else None
        width = dim_latent if self.mlp is not None else width
        self.preference = nn.Parameter(nn.init.xavier_normal_(torch.empty(n_users, width)))
        widths = [width] + [dim] * n_layers
        self.conv = nn.ParameterList(nn.Parameter(nn.init.xavier_normal_(torch.empty(widths[l], widths[l])))
                                     for l in range(n_layers))
        self.linear = nn.ModuleList(xavier_linear(widths[l], dim) for l in range(n_layers))
        self.gate = nn.ModuleList(xavier_linear(widths[l], dim) for l in range(n_layers))

    def forward(self, field: ReceptiveField, id_embedding: torch.Tensor) -> torch.Tensor:
        """The tower's output at the field's last-layer nodes. (A x) W = A (x W) is aggregated first,
        so the layer's big transform runs only on its output nodes; the narrow own-node transform
        runs before the row gather (a 64-wide gather is cheaper than a 256-wide one). The input
        stays as its user and item blocks (`NodeBlocks`): normalising rows commutes with stacking
        them, and the stacked table and its gradient would be two more whole node tables."""
        features = self.dropped(self.features)
        items = self.mlp(features) if self.mlp is not None else features
        x: Table = NodeBlocks(normalize_rows(self.preference), normalize_rows(items))
        for layer, (conv, linear, gate) in enumerate(zip(self.conv, self.linear, self.gate)):
            # in place on fresh products (their backward needs only their inputs): one table less each
            h = F.leaky_relu(field.propagate(layer, x) @ conv, inplace=True)
            x_hat = F.leaky_relu(field.own(layer, x, linear), inplace=True) + field.gather(layer, id_embedding)
            x = F.leaky_relu(gate(h) + x_hat, inplace=True)
        return x


@MODELS.register("MMGCN")
class MMGCN(Recommender):
    """MMGCN (Wei et al., "MMGCN: Multi-modal Graph Convolution Network for Personalized
    Recommendation of Micro-video", ACM MM 2019), after MMRec's `mmgcn.py` (mean aggregation,
    no concatenation, with ID embeddings).

    Each modality m has its own tower (`ModalityGCN`) on the training user-item graph with
    mean aggregation (row-normalised adjacency, cached): users start from a learned preference
    p^m_u, items from their features (first mapped to `dim_latent` by a linear MLP when wider than
    `dim_latent`; MMRec maps only its 4096-d image features), L2-normalised; `n_layers` layers
    combine the aggregated neighbours (h), the node's own transform and a shared ID embedding
    e_id. The representation of every node is the mean of the towers' outputs;
    score = dot product. Loss = BPR + reg_weight * (mean(e_u^2 + e_i^2) over the batch's
    (user, item) pairs + mean over modalities of mean(p^m^2)).
    Unlike MMRec (whose ID embeddings and preferences are plain tensors, never optimised), all
    of them are trained parameters, as in the original MMGCN code. MMRec's code runs three layers
    whatever its `n_layers` says; `n_layers=3` reproduces that.
    A training step computes each layer only on the batch's receptive field (`ReceptiveField`:
    the batch's nodes and their neighbourhoods), with the same result as propagating the whole
    graph as MMRec does; evaluation propagates the whole graph once.

    Defaults: embedding_size 64, n_layers 2 (MMRec config), dim_latent 256, reg_weight 1e-4.
    CF counterpart: LightGCN.
    """

    defaults = {"embedding_size": 64, "n_layers": 2, "dim_latent": 256, "reg_weight": 1e-4}
    multimodal = True
    cf_counterpart = "LightGCN"

    def __init__(self, data: ModelInput, **params: Any):
        super().__init__(data, **params)
        check_params(type(self).__name__, self.params, embedding_size="positive_int", n_layers="positive_int",
                     dim_latent="positive_int", reg_weight="nonneg")
        p = self.params
        self.id_embedding = nn.Parameter(
            nn.init.xavier_normal_(torch.empty(self.n_users + self.n_items, p["embedding_size"])))
        self.towers = nn.ModuleList(
            ModalityGCN(data.features[n].cpu(), self.n_users, p["embedding_size"], p["dim_latent"], p["n_layers"])
            for n in data.modality_names)
        self.graph = interaction_graph_with(data, "row")

    def forward(self, field: ReceptiveField | None = None) -> torch.Tensor:
        """Node representations at the field's last-layer nodes (every node by default)."""
        if field is None:
            field = ReceptiveField.whole(self.graph, self.params["n_layers"])
        return sum(tower(field, self.id_embedding) for tower in self.towers) / len(self.towers)

    def loss(self, batch: Batch) -> torch.Tensor:
        targets = torch.cat([batch.users, self.n_users + batch.pos, self.n_users + batch.neg])
        field = ReceptiveField(self.graph, targets, self.params["n_layers"])
        user, pos, neg = field.targets(self.forward(field)).split(len(batch.users))
        loss = bpr_loss((user * pos).sum(1), (user * neg).sum(1))
        reg = pair_square_mean(self.id_embedding, self.n_users, batch)
        reg = reg + sum(mean_square(t.preference) for t in self.towers) / len(self.towers)
        return loss + self.params["reg_weight"] * reg

    def representations(self) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.forward()
        return out.split([self.n_users, self.n_items])
