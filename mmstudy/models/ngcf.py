"""NGCF (collaborative only) and NGCF-M (NGCF plus a projected item-content channel)."""
from __future__ import annotations

from typing import Any, Callable

import torch
from torch import nn
from torch.nn import functional as F

from ..schema.projection import FeatureProjection, concat_features
from ..tensors import rows
from .base import MODELS, Batch, ModelInput, Recommender, bpr_loss, l2_reg
from .bpr import embedding_table
from .graphs import interaction_graph
from .hyperparams import check_params
from .layers import EdgeSet, NoiseSource

Triple = tuple[torch.Tensor, torch.Tensor, torch.Tensor]


def zero_bias_linear(n_in: int, n_out: int) -> nn.Linear:
    layer = nn.Linear(n_in, n_out)
    nn.init.xavier_uniform_(layer.weight)
    nn.init.zeros_(layer.bias)
    return layer


@MODELS.register("NGCF")
class NGCF(Recommender):
    """NGCF (Wang et al., "Neural Graph Collaborative Filtering", SIGIR 2019), in the matrix form of
    the paper (Eq. 7, as RecBole implements it).

    E^(l) = LeakyReLU_0.2( W1 ((L + I) E^(l-1)) + W2 ((L E^(l-1)) * E^(l-1)) ) with biases,
    L = D^-1/2 A D^-1/2 the training user-item graph (cached), followed by message dropout
    during training; the node representation concatenates E^(0) and the L2-normalised
    E^(1..n_layers); score = dot product. Loss = BPR + reg_weight * l2_reg on the batch's
    layer-0 embeddings. Embeddings and weights Xavier-uniform, biases zero. `node_dropout` is
    the original code's (off by default there too): each batch keeps every entry of L with
    probability 1 - node_dropout, rescaled by 1/(1 - node_dropout), one draw for all layers.
    Both dropouts come from a `NoiseSource` re-seeded at every epoch start and are never applied
    outside `loss`.

    Defaults (original code / RecBole): embedding_size 64, n_layers 3, layer_size 64
    (layers [64, 64, 64]), message_dropout 0.1, node_dropout 0, reg_weight 1e-5.
    """

    defaults = {"embedding_size": 64, "n_layers": 3, "layer_size": 64, "message_dropout": 0.1,
                "node_dropout": 0.0, "reg_weight": 1e-5}

    def __init__(self, data: ModelInput, **params: Any):
        super().__init__(data, **params)
        check_params(type(self).__name__, self.params, embedding_size="positive_int", n_layers="nonneg_int",
                     layer_size="positive_int", message_dropout="proportion", node_dropout="proportion",
                     reg_weight="nonneg")
        p = self.params
        self.user_embedding = embedding_table(self.n_users, p["embedding_size"])
        self.item_embedding = embedding_table(self.n_items, p["embedding_size"])
        widths = [p["embedding_size"]] + [p["layer_size"]] * p["n_layers"]
        self.sum_layers = nn.ModuleList(zero_bias_linear(a, b) for a, b in zip(widths, widths[1:]))
        self.bi_layers = nn.ModuleList(zero_bias_linear(a, b) for a, b in zip(widths, widths[1:]))
        self.graph = interaction_graph(data)
        self.edges = EdgeSet.from_torch_csr(self.graph.matrix) if p["node_dropout"] > 0 else None
        self.noise = NoiseSource(data.seed)

    def on_epoch_start(self, epoch: int, generator: torch.Generator) -> None:
        self.noise.reseed(generator)

    def laplacian(self, dropout: bool) -> Callable[[torch.Tensor], torch.Tensor]:
        """x -> L x, with this batch's node dropout applied to L when training."""
        if not dropout or self.edges is None:
            return self.graph
        values = self.noise.dropout(self.edges.values, self.params["node_dropout"])
        return lambda x: self.edges.spmm(values, x)

    def propagate(self, dropout: bool) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.cat([self.user_embedding, self.item_embedding])
        layers, laplacian = [x], self.laplacian(dropout)
        for sum_layer, bi_layer in zip(self.sum_layers, self.bi_layers):
            side = laplacian(x)
            x = F.leaky_relu(sum_layer(side + x) + bi_layer(side * x), 0.2, inplace=True)  # a fresh sum
            if dropout:
                x = self.noise.dropout(x, self.params["message_dropout"])
            layers.append(F.normalize(x, dim=1))
        out = torch.cat(layers, dim=1)
        return out.split([self.n_users, self.n_items])

    def batch_vectors(self, batch: Batch) -> tuple[Triple, tuple[torch.Tensor, ...]]:
        """((user, positive, negative) vectors to score, tensors to L2-regularise)."""
        users, items = self.propagate(dropout=True)
        ego = (rows(self.user_embedding, batch.users), rows(self.item_embedding, batch.pos), rows(self.item_embedding, batch.neg))
        return (rows(users, batch.users), rows(items, batch.pos), rows(items, batch.neg)), ego

    def loss(self, batch: Batch) -> torch.Tensor:
        (user, pos, neg), regularised = self.batch_vectors(batch)
        ranking = bpr_loss((user * pos).sum(1), (user * neg).sum(1))
        return ranking + self.params["reg_weight"] * l2_reg(*regularised)

    def representations(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.propagate(dropout=False)


@MODELS.register("NGCF-M", "ngcfm", "ngcf_m")
class NGCFM(NGCF):
    """NGCF-M, the multimodal NGCF of Malitesta et al., "Do We Really Need to Drop Items with
    Missing Modalities in Multimodal Recommendation?" (CIKM 2024; reference code
    sisinflab/Graph-Missing-Modalities, `NGCFMModel`).

    score(u, i) = <g_u, g_i> + <t_u, c_i>: g are NGCF's propagated embeddings (exactly our
    NGCF, its CF counterpart), t_u a user content-preference table (Xavier-uniform) and
    c_i = normalize(W [f_i^1; ...; f_i^M] + b) the L2-normalised linear projection of the
    concatenated modality features (constant features, torch's default Linear init), as in the
    reference, where the content channel is not propagated. Loss = BPR + reg_weight * l2_reg on
    the batch's layer-0 embeddings, t_u and c_i.

    Defaults: NGCF's (embedding_size 64 is also the content size). CF counterpart: NGCF.
    """

    multimodal = True
    cf_counterpart = "NGCF"

    def __init__(self, data: ModelInput, **params: Any):
        super().__init__(data, **params)
        dim = self.params["embedding_size"]
        self.user_content = embedding_table(self.n_users, dim)
        self.content = FeatureProjection(concat_features(data), dim)

    def content_vectors(self, items: torch.Tensor | None = None) -> torch.Tensor:
        return F.normalize(self.content(items), dim=1)

    def batch_vectors(self, batch: Batch) -> tuple[Triple, tuple[torch.Tensor, ...]]:
        (user, pos, neg), regularised = super().batch_vectors(batch)
        taste = rows(self.user_content, batch.users)
        content = self.content_vectors(torch.cat([batch.pos, batch.neg]))
        content_pos, content_neg = content.split(len(batch.pos))
        vectors = (torch.cat([user, taste], 1), torch.cat([pos, content_pos], 1), torch.cat([neg, content_neg], 1))
        return vectors, (*regularised, taste, content_pos, content_neg)

    def representations(self) -> tuple[torch.Tensor, torch.Tensor]:
        users, items = super().representations()
        return torch.cat([users, self.user_content], 1), torch.cat([items, self.content_vectors()], 1)
