"""Seed batches: the copies of one recommender that differ only in their training seed, as one model.

A seed batch holds B members, each built by `make_model` with its own seed (so its initialisation
is exactly that of a separately trained model), and stacks their parameters on a leading seed
axis. One training step computes every member's loss in one pass: stacked tables gathered with
per-seed offsets, item content projected for all seeds by one matrix product, LightGCN propagation
as one sparse product over the seeds' columns side by side. The batch's loss is a vector of the
members' losses; its sum is what is differentiated, so each member's gradient is exactly its own
loss's, and Adam's update is elementwise: every member trains as if alone, up to the rounding of the
batched products. `member(b, state)` hands back member b as an ordinary model of its class, which
is what evaluation, the test pass and the manifest see.

Implementations: BPR-MF, VBPR, LightGCN, LightGCN-M (`batch_class`); the other models have none.
"""
from __future__ import annotations

from typing import Callable, ClassVar

import torch
from torch import nn
from torch.nn import functional as F

from ..tensors import rows
from .base import MODELS, Batch, Recommender
from .bpr import BPRMF
from .graphs import layer_mean
from .lightgcn import LightGCN
from .lightgcn_m import LightGCNM
from .vbpr import VBPR

SEED_BATCHES: dict[type[Recommender], type["SeedBatch"]] = {}


def batch_class(model: str) -> type["SeedBatch"] | None:
    """The seed-batch implementation of the model named `model` (None: it has none)."""
    return SEED_BATCHES.get(MODELS.get(model))


def seed_batch_of(model: type[Recommender]) -> Callable[[type["SeedBatch"]], type["SeedBatch"]]:
    """Class decorator: register a seed-batch implementation of `model` (its exact class only)."""
    def register(cls: type[SeedBatch]) -> type[SeedBatch]:
        SEED_BATCHES[model] = cls
        cls.model = model
        return cls
    return register


class SeedBatch(nn.Module):
    """B members of one model class with the same hyper-parameters, their parameters stacked.

    `param(name)` is the (B, *shape) stack of the members' parameter `name`; `loss(batch)` takes
    a `Batch` of (B, batch size) index tensors (row b: member b's own samples) and returns the
    (B,) vector of the members' losses; `representations()` returns (B, n_users, D) and
    (B, n_items, D). `narrow(keep)` drops the members not kept (e.g. stopped early).
    """

    model: ClassVar[type[Recommender]]

    def __init__(self, members: list[Recommender]):
        super().__init__()
        first = members[0] if members else None
        if first is None or any(type(m) is not self.model or m.params != first.params for m in members):
            raise ValueError(f"a {type(self).__name__} needs {self.model.__name__} members with equal hyper-parameters")
        self.names = [name for name, _ in first.named_parameters()]
        if any(set(m.state_dict()) != set(self.names) for m in members):  # members' state = their parameters
            raise ValueError(f"{self.model.__name__} keeps state beyond its parameters; it cannot be seed-batched")
        self.stacked = nn.ParameterList(
            nn.Parameter(torch.stack([dict(m.named_parameters())[n].detach() for m in members]),
                         requires_grad=dict(first.named_parameters())[n].requires_grad) for n in self.names)
        self.members, self.active = list(members), list(range(len(members)))
        self.params, self.n_users, self.n_items = first.params, first.n_users, first.n_items

    @property
    def size(self) -> int:
        """Members still in the batch."""
        return len(self.active)

    def param(self, name: str) -> torch.Tensor:
        return self.stacked[self.names.index(name)]

    def seed_state(self, position: int) -> dict[str, torch.Tensor]:
        """A copy of the parameters of the member at `position` in the batch (its state_dict)."""
        return {n: p[position].detach().clone() for n, p in zip(self.names, self.stacked)}

    def narrow(self, keep: list[int]) -> None:
        """Keep only the members at positions `keep` (new parameter tensors)."""
        index = torch.tensor(keep, dtype=torch.long, device=self.stacked[0].device)
        for i, p in enumerate(self.stacked):
            self.stacked[i] = nn.Parameter(p.detach().index_select(0, index), requires_grad=p.requires_grad)
        self.active = [self.active[k] for k in keep]

    def member(self, index: int, state: dict[str, torch.Tensor]) -> Recommender:
        """Member `index` (of the members the batch started with) holding `state`, in eval mode."""
        model = self.members[index]
        model.load_state_dict(state)
        return model.eval()

    def loss(self, batch: Batch) -> torch.Tensor:
        raise NotImplementedError

    def representations(self) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError


# --- per-seed building blocks ------------------------------------------------------------------
def seed_rows(table: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """(B, k, d): row index[b, j] of table[b] for a (B, n, d) table, in one gather."""
    b, n = table.shape[:2]
    offsets = torch.arange(b, device=index.device).unsqueeze(1) * n
    return rows(table.reshape(b * n, -1), (index + offsets).reshape(-1)).view(*index.shape, -1)


def node_rows(table: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """(B, k, d): row index[b, j] of seed b for an (n, B, d) node table (seeds side by side)."""
    n, b = table.shape[:2]
    seeds = torch.arange(b, device=index.device).unsqueeze(1)
    return rows(table.reshape(n * b, -1), (index * b + seeds).reshape(-1)).view(*index.shape, -1)


def seed_bpr(pos: torch.Tensor, neg: torch.Tensor) -> torch.Tensor:
    """(B,) BPR losses of (B, k) score pairs (`base.bpr_loss` per row)."""
    return -F.logsigmoid(pos - neg).mean(dim=1)


def seed_l2(*tensors: torch.Tensor) -> torch.Tensor:
    """(B,) `base.l2_reg` per seed of (B, k, d) tensors: squared norms over the first's batch size."""
    return sum(t.pow(2).sum(dim=(1, 2)) for t in tensors) / max(1, tensors[0].shape[1])


def pair_scores(user: torch.Tensor, items: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, k) positive and negative scores of users against [positives; negatives] item rows."""
    pos, neg = items.split(k, dim=1)
    return (user * pos).sum(2), (user * neg).sum(2)


def project(features: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """(B, n, d): every seed's linear projection of `features`, shared (n, f) or per seed (B, n, f),
    with (B, d, f) weights: one matrix product for all seeds."""
    if features.dim() == 3:
        return torch.baddbmm(bias.unsqueeze(1), features, weight.transpose(1, 2))
    b, d = bias.shape
    out = torch.addmm(bias.reshape(b * d), features, weight.reshape(b * d, -1).T)
    return out.view(-1, b, d).transpose(0, 1)


# --- implementations ---------------------------------------------------------------------------
@seed_batch_of(BPRMF)
class BPRMFSeeds(SeedBatch):
    """BPR-MF's loss (`bpr.BPRMF.loss`) for every seed at once."""

    def loss(self, batch: Batch) -> torch.Tensor:
        user = seed_rows(self.param("user_embedding"), batch.users)
        items = seed_rows(self.param("item_embedding"), torch.cat([batch.pos, batch.neg], dim=1))
        ranking = seed_bpr(*pair_scores(user, items, batch.pos.shape[1]))
        return ranking + self.params["reg_weight"] * seed_l2(user, items)

    def representations(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.param("user_embedding"), self.param("item_embedding")


@seed_batch_of(VBPR)
class VBPRSeeds(SeedBatch):
    """VBPR's loss (`vbpr.VBPR.loss`) for every seed at once. As `FeatureProjection` does per
    model, a batch that asks for at least the catalogue's worth of item rows projects the whole
    catalogue: for all seeds by one matrix product; smaller batches project each seed's own rows."""

    def __init__(self, members: list[Recommender]):
        super().__init__(members)
        self.features = members[0].content.features  # a constant buffer every member shares

    def content(self, items: torch.Tensor | None = None) -> torch.Tensor:
        """(B, k, d) projected content of each seed's `items` (B, k); all items when None."""
        weight, bias = self.param("content.linear.weight"), self.param("content.linear.bias")
        if items is None or items.shape[1] >= self.n_items:
            every = project(self.features, weight, bias)
            return every if items is None else seed_rows(every, items)
        return torch.stack([self._own_rows(items[b], weight[b], bias[b]) for b in range(len(items))])

    def _own_rows(self, items: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        """One seed's projected rows, computed as `FeatureProjection` computes them."""
        unique, inverse = torch.unique(items, return_inverse=True)
        return rows(F.linear(rows(self.features, unique), weight, bias), inverse)

    def item_vectors(self, items: torch.Tensor | None = None) -> torch.Tensor:
        table = self.param("item_embedding")
        ids = table if items is None else seed_rows(table, items)
        return torch.cat([ids, self.content(items)], dim=2)

    def loss(self, batch: Batch) -> torch.Tensor:
        user = seed_rows(self.param("user_embedding"), batch.users)
        items = self.item_vectors(torch.cat([batch.pos, batch.neg], dim=1))
        ranking = seed_bpr(*pair_scores(user, items, batch.pos.shape[1]))
        return ranking + self.params["reg_weight"] * seed_l2(user, items)

    def representations(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.param("user_embedding"), self.item_vectors()


@seed_batch_of(LightGCN)
class LightGCNSeeds(SeedBatch):
    """LightGCN's loss (`lightgcn.LightGCN.loss`) for every seed at once: the seeds' node tables sit
    side by side, (nodes, B * dim), so each propagation layer is one sparse product for all seeds."""

    def __init__(self, members: list[Recommender]):
        super().__init__(members)
        self.graph = members[0].graph  # the normalised training graph every member shares

    def ego_embeddings(self) -> torch.Tensor:
        """(B, nodes, dim): layer-0 node embeddings, users then items, per seed."""
        return torch.cat([self.param("user_embedding"), self.param("item_embedding")], dim=1)

    def propagate(self, ego: torch.Tensor) -> torch.Tensor:
        """(nodes, B, dim) propagated node embeddings of (B, nodes, dim) layer-0 ones."""
        b, n, d = ego.shape
        side_by_side = ego.transpose(0, 1).reshape(n, b * d)
        return layer_mean(self.graph, side_by_side, self.params["n_layers"]).view(n, b, d)

    def loss(self, batch: Batch) -> torch.Tensor:
        ego = self.ego_embeddings()
        nodes = self.propagate(ego)
        index = torch.cat([batch.users, self.n_users + batch.pos, self.n_users + batch.neg], dim=1)
        k = batch.users.shape[1]
        user, items = node_rows(nodes, index).split([k, 2 * k], dim=1)
        reg = seed_l2(*seed_rows(ego, index).split([k, 2 * k], dim=1))
        return seed_bpr(*pair_scores(user, items, k)) + self.params["reg_weight"] * reg

    def representations(self) -> tuple[torch.Tensor, torch.Tensor]:
        nodes = self.propagate(self.ego_embeddings()).transpose(0, 1).contiguous()
        return nodes.split([self.n_users, self.n_items], dim=1)


@seed_batch_of(LightGCNM)
class LightGCNMSeeds(LightGCNSeeds):
    """LightGCN-M (`lightgcn_m.LightGCNM`): LightGCN's batch over [ID; content] node features, the
    content projected for every seed by one (batched) matrix product."""

    def __init__(self, members: list[Recommender]):
        super().__init__(members)
        if "content.features" not in self.names:  # frozen features: one buffer every member shares
            self.features = members[0].content.features

    def ego_embeddings(self) -> torch.Tensor:
        features = self.param("content.features") if "content.features" in self.names else self.features
        content = project(features, self.param("content.linear.weight"), self.param("content.linear.bias"))
        users = torch.cat([self.param("user_embedding"), self.param("user_content")], dim=2)
        items = torch.cat([self.param("item_embedding"), F.normalize(content, dim=2)], dim=2)
        return torch.cat([users, items], dim=1)
