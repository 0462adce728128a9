"""Item-content building blocks shared by multimodal recommenders, plus hyper-parameter checks.

- `FeatureProjection`: one item-feature matrix (a frozen buffer, or a fine-tuned parameter as in
  MMRec's FREEDOM) followed by a linear map to the embedding space; `forward(items)` projects only
  the distinct requested rows, so the cost is bounded by the batch, not by the catalogue.
- `concat_features` / `modality_projections`: VBPR-style single projection of the concatenated
  modalities, or one projection per modality (FREEDOM, BM3, LATTICE, ...).
- `check_params`: range checks that raise a ConfigError naming the hyper-parameter.
"""
from __future__ import annotations

from typing import Any, Callable

import torch
from torch import nn

from ..errors import ConfigError
from .base import ModelInput, rows


class FeatureProjection(nn.Module):
    """Linear projection of an (n_items x d) feature matrix to `dim` columns.

    `trainable=True` fine-tunes a private copy of the features (the caller's tensor is never
    modified); otherwise they are a constant buffer. `init="xavier_normal"` initialises the weight
    with Xavier-normal and a zero bias (MMRec's `xavier_normal_initialization`); `None` keeps
    torch's default Linear initialisation.
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
            return self.linear(self.features)
        if len(items) >= self.features.shape[0]:  # the batch covers most of the catalogue anyway
            return rows(self.linear(self.features), items)
        unique, inverse = torch.unique(items, return_inverse=True)
        return rows(self.linear(rows(self.features, unique)), inverse)


def concat_features(data: ModelInput, names: list[str] | None = None) -> torch.Tensor:
    """The modalities' feature matrices side by side, (n_items x sum of dims), in modality order."""
    names = data.modality_names if names is None else names
    return torch.cat([data.features[n].detach().to(torch.float32).cpu() for n in names], dim=1)


def modality_projections(data: ModelInput, dim: int, **options: Any) -> nn.ModuleList:
    """One `FeatureProjection` per modality, in `data.modality_names` order."""
    return nn.ModuleList(FeatureProjection(data.features[n].cpu(), dim, **options) for n in data.modality_names)


# --- hyper-parameter checks ---------------------------------------------------------------------
_RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "positive_int": (lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1, "an integer >= 1"),
    "nonneg_int": (lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0, "an integer >= 0"),
    "nonneg": (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0, "a number >= 0"),
    "unit": (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 1,
             "a number in [0, 1]"),
    "proportion": (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v < 1,
                   "a number in [0, 1)"),
    "bool": (lambda v: isinstance(v, bool), "true or false"),
}


def check_params(model: str, params: dict[str, Any], **rules: str) -> None:
    """Raise a ConfigError naming the first parameter that breaks its rule (see `_RULES`)."""
    for key, rule in rules.items():
        test, expected = _RULES[rule]
        if not test(params[key]):
            raise ConfigError(f"hyper-parameter {key!r} of model {model} must be {expected}, got {params[key]!r}")
