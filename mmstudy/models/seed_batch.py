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
from .seed_ops import project, seed_bpr, seed_rows, seed_squares
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


# --- implementations ---------------------------------------------------------------------------
@seed_batch_of(BPRMF)
class BPRMFSeeds(SeedBatch):
    """BPR-MF's loss (`bpr.BPRMF.loss`) for every seed at once."""

    def loss(self, batch: Batch) -> torch.Tensor:
        return seed_bpr(self.param("user_embedding"), self.param("item_embedding"), batch.users, batch.pos,
                        batch.neg, self.params["reg_weight"])

    def representations(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.param("user_embedding"), self.param("item_embedding")


@seed_batch_of(VBPR)
class VBPRSeeds(SeedBatch):
    """VBPR's loss (`vbpr.VBPR.loss`) for every seed at once. As `FeatureProjection` does per
    model, a batch that asks for at least the catalogue's worth of item rows projects the whole
    catalogue, for all seeds by one matrix product (every member reads the same features);
    smaller batches project each seed's own rows."""

    def __init__(self, members: list[Recommender]):
        super().__init__(members)
        self.features = members[0].content.features  # a constant buffer every member shares

    def item_vectors(self) -> torch.Tensor:
        """(B, n_items, 2 * dim): [q_i ; W f_i + b] per seed."""
        content = project(self.features, self.param("content.linear.weight"), self.param("content.linear.bias"))
        return torch.cat([self.param("item_embedding"), content], dim=2)

    def loss(self, batch: Batch) -> torch.Tensor:
        users, reg = self.param("user_embedding"), self.params["reg_weight"]
        if 2 * batch.pos.shape[1] >= self.n_items:
            return seed_bpr(users, self.item_vectors(), batch.users, batch.pos, batch.neg, reg)
        items = torch.cat([batch.pos, batch.neg], dim=1)
        vectors = torch.cat([seed_rows(self.param("item_embedding"), items), self._own_content(items)], dim=2)
        local = torch.arange(items.shape[1], device=items.device).expand_as(items)  # rows of `vectors`
        return seed_bpr(users, vectors, batch.users, *local.split(batch.pos.shape[1], dim=1), reg)

    def _own_content(self, items: torch.Tensor) -> torch.Tensor:
        """(B, k, dim): each seed's projected content of its own rows, as `FeatureProjection` does."""
        weight, bias = self.param("content.linear.weight"), self.param("content.linear.bias")
        out = []
        for b in range(len(items)):
            unique, inverse = torch.unique(items[b], return_inverse=True)
            out.append(rows(F.linear(rows(self.features, unique), weight[b], bias[b]), inverse))
        return torch.stack(out)

    def representations(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.param("user_embedding"), self.item_vectors()


@seed_batch_of(LightGCN)
class LightGCNSeeds(SeedBatch):
    """LightGCN's loss (`lightgcn.LightGCN.loss`) for every seed at once. Each seed's propagation
    is its own sparse product: one product over the seeds' columns side by side was measured
    slower on CPU (Last.fm-2K, one thread: 8.0 ms for 8 x 64 columns, 0.6 ms per 64), as the
    wide node table outgrows the cache that one seed's fits in."""

    def __init__(self, members: list[Recommender]):
        super().__init__(members)
        self.graph = members[0].graph  # the normalised training graph every member shares

    def ego_embeddings(self) -> torch.Tensor:
        """(B, nodes, dim): layer-0 node embeddings, users then items, per seed."""
        return torch.cat([self.param("user_embedding"), self.param("item_embedding")], dim=1)

    def propagate(self, ego: torch.Tensor) -> torch.Tensor:
        """(B, nodes, dim): each seed's propagated node embeddings."""
        return torch.stack([layer_mean(self.graph, seed, self.params["n_layers"]) for seed in ego])

    def loss(self, batch: Batch) -> torch.Tensor:
        ego = self.ego_embeddings()
        pos, neg = self.n_users + batch.pos, self.n_users + batch.neg
        nodes = self.propagate(ego)
        ranking = seed_bpr(nodes, nodes, batch.users, pos, neg)
        reg = seed_squares(seed_rows(ego, torch.cat([batch.users, pos, neg], dim=1))) / batch.users.shape[1]
        return ranking + self.params["reg_weight"] * reg

    def representations(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.propagate(self.ego_embeddings()).split([self.n_users, self.n_items], dim=1)


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
