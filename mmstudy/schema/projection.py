"""Item-content projections: item features mapped into an embedding space.

- `FeatureProjection`: one item-feature matrix (a frozen buffer, or a fine-tuned parameter as in
  MMRec's FREEDOM) followed by a linear map to the embedding space; `forward(items)` projects only
  the distinct requested rows, so the cost is bounded by the batch, not by the catalogue.
- `concat_features` / `modality_projections`: VBPR-style single projection of the concatenated
  modalities, or one projection per modality (FREEDOM, BM3, LATTICE, coordinated representations).

`data` is a model input: any object whose `features` maps modality names to (n_items x d) tensors,
in modality order (`mmstudy.models.ModelInput`).
"""
from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ..tensors import rows
from .content_dropout import ContentDropout


class FeatureProjection(ContentDropout, nn.Module):
    """Linear projection of an (n_items x d) feature matrix to `dim` columns.

    `trainable=True` fine-tunes a private copy of the features (the caller's tensor is never
    modified); otherwise they are a constant buffer. `init="xavier_normal"` initialises the weight
    with Xavier-normal and a zero bias (MMRec's `xavier_normal_initialization`); `None` keeps
    torch's default Linear initialisation. In training mode, rows may be dropped for robustness
    training (`content_dropout`, off unless the model input asks for it).
    """

    def __init__(self, features: torch.Tensor, dim: int, *, trainable: bool = False,
                 init: str | None = None):
        super().__init__()
        features = features.detach().to(torch.float32)
        if trainable:
            self.features = nn.Parameter(features.clone())
        else:
            self.register_buffer("features", features, persistent=False)
        self.linear = nn.Linear(features.shape[1], dim)
        if init == "xavier_normal":
            nn.init.xavier_normal_(self.linear.weight)
            nn.init.zeros_(self.linear.bias)
        elif init is not None:
            raise ValueError(f"unknown init {init!r}; expected 'xavier_normal' or None")

    def forward(self, items: torch.Tensor | None = None) -> torch.Tensor:
        """Projected features of `items` (all items when None), shape (len(items) x dim)."""
        if items is None:
            return self.linear(self.dropped(self.features))
        if len(items) >= self.features.shape[0]:  # the batch covers most of the catalogue anyway
            return rows(self.linear(self.dropped(self.features)), items)
        unique, inverse = torch.unique(items, return_inverse=True)
        return rows(self.linear(self.dropped(rows(self.features, unique), unique)), inverse)


def concat_features(data, names: list[str] | None = None) -> torch.Tensor:
    """The modalities' feature matrices side by side, (n_items x sum of dims), in modality order."""
    names = list(data.features) if names is None else names
    return torch.cat([data.features[n].detach().to(torch.float32).cpu() for n in names], dim=1)


def modality_projections(data, dim: int, **options: Any) -> nn.ModuleList:
    """One `FeatureProjection` per modality, in `data.features` order."""
    return nn.ModuleList(FeatureProjection(f.cpu(), dim, **options) for f in data.features.values())
