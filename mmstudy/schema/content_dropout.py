"""Training-time content dropout: the `modality_dropout` strategy's robustness training.

Every module that holds item content (`FeatureProjection`, and the towers of the models that read
raw features) mixes in `ContentDropout` and passes its feature rows through `dropped` before
using them. `make_model` switches it on for the whole model from the model input
(`ModelInput.content_dropout`, set from the handled data), so no model has code of its own for it:

* in training mode a seeded share `rate` of the items' rows is zeroed, exactly
  round(rate * n_items) per modality, each modality on its own draw (a concatenated matrix is
  recognised by its width, the sum of the modality widths, and dropped block by block);
* the draw is made at the first use after the module enters training mode, i.e. once per epoch
  (the training loop calls `model.train()` before every epoch), from a private generator seeded by
  the model seed and the module's position, so training is reproducible;
* in evaluation mode nothing is dropped: evaluation is deterministic and sees every observed row.

Missing rows are zeros already (the strategy fills them with zeros), so a dropped row looks exactly
like a missing one. Models without content have no such module and are unaffected.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..errors import ConfigError


class ContentDropout:
    """Mixin for an `nn.Module` whose `features` is an (n_items x d) content matrix; off until configured."""

    content_dropout: float = 0.0

    def configure_content_dropout(self, rate: float, widths: tuple[int, ...], seed: int) -> None:
        """Drop a share `rate` of the rows of each column block of `widths` (summing to d) per epoch."""
        self.content_dropout = float(rate)
        self._dropout_widths = tuple(int(w) for w in widths)
        self._dropout_generator = torch.Generator().manual_seed(int(seed))
        self._kept = None

    def train(self, mode: bool = True):
        self._kept = None  # entering or leaving training mode: the next epoch draws anew
        return super().train(mode)

    def dropped(self, features: torch.Tensor, items: torch.Tensor | None = None) -> torch.Tensor:
        """`features` (all rows, or the rows of `items`) with this epoch's dropped rows zeroed in
        training mode; unchanged in evaluation mode or when off."""
        if not (self.training and self.content_dropout > 0):
            return features
        if getattr(self, "_kept", None) is None:
            self._kept = self._draw(int(self.features.shape[0]))
        kept = (self._kept if items is None else self._kept[items.cpu()]).to(features.device)
        if kept.shape[1] == 1:
            return features * kept
        bounds = np.cumsum([0, *self._dropout_widths])
        return torch.cat([features[:, a:b] * kept[:, j:j + 1] for j, (a, b) in enumerate(zip(bounds[:-1], bounds[1:]))],
                         dim=1)

    def _draw(self, n: int) -> torch.Tensor:
        """(n_items x blocks) 0/1 float: per block, round(rate * n_items) random rows are 0."""
        kept = torch.ones(n, len(self._dropout_widths))
        for j in range(len(self._dropout_widths)):
            kept[torch.randperm(n, generator=self._dropout_generator)[:round(self.content_dropout * n)], j] = 0.0
        return kept


def configure_content_dropout(model: nn.Module, rate: float, widths: list[int], seed: int) -> int:
    """Switch content dropout on in every `ContentDropout` module of `model`; returns how many.

    `widths` are the modality widths of the model input: a module whose width is their sum (with
    several modalities) holds the concatenated matrix and drops each modality block on its own.
    """
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0.0 <= rate < 1.0:
        raise ConfigError(f"content dropout rate must be in [0, 1), got {rate!r}")
    count = 0
    for position, module in enumerate(model.modules()):
        if isinstance(module, ContentDropout):
            width = int(module.features.shape[1])
            blocks = tuple(widths) if len(widths) > 1 and width == sum(widths) else (width,)
            stream = int(np.random.SeedSequence([int(seed), position, 0x0D0]).generate_state(1)[0])
            module.configure_content_dropout(rate, blocks, stream)
            count += 1
    return count
