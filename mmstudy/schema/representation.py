"""Item-content representations: joint (one projection of the concatenated features) versus
coordinated (one projection per modality, optionally aligned by a contrastive loss).

Both map an item-feature input to a list of (n x dim) tensors: one for `joint`, one per
modality for `coordinated`; a fusion operator (`schema.fusion`) then combines the list.
`info_nce` is the symmetric InfoNCE loss that pulls an item's modality projections together
and pushes other items' apart (CLIP-style); `CoordinatedRepresentation.alignment_loss` averages
it over all modality pairs.
"""
from __future__ import annotations

import itertools
from typing import Any, ClassVar

import torch
from torch import nn
from torch.nn import functional as F

from ..errors import ConfigError
from ..registry import Registry
from .projection import FeatureProjection, concat_features, modality_projections

REPRESENTATIONS: Registry[type["Representation"]] = Registry("representation")


class Representation(nn.Module):
    """Projects item features; `forward(items)` -> list of (len(items) x dim) tensors."""

    aligns: ClassVar[bool] = False

    @property
    def n_outputs(self) -> int:
        raise NotImplementedError

    def forward(self, items: torch.Tensor | None = None) -> list[torch.Tensor]:
        raise NotImplementedError

    def alignment_loss(self, items: torch.Tensor, temperature: float) -> torch.Tensor:
        """Zero: nothing to align (overridden by coordinated representations)."""
        return torch.zeros((), device=items.device)


@REPRESENTATIONS.register("joint", "shared", "early-projection")
class JointRepresentation(Representation):
    """One linear projection of [f^1; ...; f^M] (VBPR / LightGCN-M style)."""

    def __init__(self, data, dim: int, **projection: Any):
        super().__init__()
        self.projection = FeatureProjection(concat_features(data), dim, **projection)

    @property
    def n_outputs(self) -> int:
        return 1

    def forward(self, items=None):
        return [self.projection(items)]


@REPRESENTATIONS.register("coordinated", "coord", "separate", "per-modality")
class CoordinatedRepresentation(Representation):
    """One linear projection W_m f^m + b_m per modality, into a common space of size `dim`."""

    aligns = True

    def __init__(self, data, dim: int, **projection: Any):
        super().__init__()
        self.projections = modality_projections(data, dim, **projection)

    @property
    def n_outputs(self) -> int:
        return len(self.projections)

    def forward(self, items=None):
        return [projection(items) for projection in self.projections]

    def alignment_loss(self, items: torch.Tensor, temperature: float) -> torch.Tensor:
        """Mean symmetric InfoNCE over modality pairs, on the distinct `items` (0 for one modality)."""
        if self.n_outputs < 2:
            return torch.zeros((), device=items.device)
        views = self.forward(torch.unique(items))
        pairs = list(itertools.combinations(views, 2))
        return sum(info_nce(a, b, temperature) for a, b in pairs) / len(pairs)


def info_nce(a: torch.Tensor, b: torch.Tensor, temperature: float = 0.2) -> torch.Tensor:
    """Symmetric InfoNCE: row i of `a` and row i of `b` are the positive pair, other rows negatives.

    loss = (CE(softmax(cos(a, b) / t), diag) + CE(softmax(cos(b, a) / t), diag)) / 2.
    """
    if a.shape != b.shape or a.ndim != 2:
        raise ValueError(f"info_nce needs two (n x d) tensors of one shape, got {tuple(a.shape)} and {tuple(b.shape)}")
    if temperature <= 0:
        raise ConfigError(f"InfoNCE temperature must be > 0, got {temperature}")
    logits = F.normalize(a, dim=1) @ F.normalize(b, dim=1).T / temperature
    target = torch.arange(len(a), device=a.device)
    return (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2


def make_representation(name: str, data, dim: int, **projection: Any) -> Representation:
    """A representation by (case-insensitive) name over `data`'s modalities, in their order."""
    return REPRESENTATIONS.get(name)(data, dim, **projection)
