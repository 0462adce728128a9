"""`cross_modal`: predict a missing modality from the item's other observed modalities (ridge).

A closed-form counterpart of the cross-modal autoencoders of Malitesta et al. (IEEE TKDE 2026,
see `mmstudy.missing.learned`), which learn visual -> textual and textual -> visual maps on the
items that have both. Here, for a target modality t and the other modalities S:

    x_i = [z_s(i) for s in S] + [1{s observed at i} for s in S],   y_i = z_t(i),

with z the `BlockScaler` encoding (centred, unit RMS row norm per block, 0 where absent), so an
item missing some sources still gets a prediction from the others. W minimises
||X_c W - Y||^2 + lambda ||W||^2 over the training-observed rows of t (X_c: X centred on those
rows; the intercept is not penalised), solved in closed form in float64 (primal or dual, whichever
system is smaller). The penalty is relative, lambda = alpha * trace(X_c^T X_c) / p (alpha times the
mean eigenvalue), so one `alpha` means the same shrinkage whatever the widths and row counts;
`alpha` is a grid key chosen on validation (default 0.1). A missing item without any other
observed modality has nothing to predict from: it gets the observed mean and is counted in
`fallback_items`. A dataset with a single modality is a ConfigError.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import scipy.linalg

from ..errors import ConfigError
from .imputers import register
from .learned import BlockScaler, LearnedImputer, presence


@register("cross_modal", "cross_modal_ridge", "crossmodal")
@dataclass(frozen=True)
class CrossModal(LearnedImputer):
    """Ridge regression of a modality on the item's other observed modalities."""
    alpha: float = 0.1
    min_modalities: ClassVar[int] = 2
    param_grid: ClassVar[dict[str, list]] = {"alpha": [0.01, 0.1, 1.0, 10.0]}

    def __post_init__(self) -> None:
        if isinstance(self.alpha, bool) or not isinstance(self.alpha, (int, float)) or not self.alpha > 0:
            raise ConfigError(f"cross_modal alpha (ridge penalty) must be a number > 0, got {self.alpha!r}")

    def _fit_fill(self, modality, context, graph):
        target = modality.name
        sources = [n for n in context.modalities if n != target]
        view = context.view
        scaler = BlockScaler.fit(view)
        rows = view[target].present
        x_fit = design(scaler, view, sources)[rows]
        centre = x_fit.mean(axis=0)
        weights = ridge(x_fit - centre, scaler.encode(view, [target])[rows].astype(np.float64), self.alpha)
        missing = ~modality.present
        x_new = design(scaler, context.modalities, sources)[missing]
        values = scaler.decode(target, (x_new - centre) @ weights)
        fallback = presence(context.modalities, sources)[missing].sum(axis=1) == 0
        return values, fallback


def design(scaler: BlockScaler, modalities, sources: list[str]) -> np.ndarray:
    """The regression inputs: the sources' encoded blocks and their presence indicators (float64)."""
    return np.hstack([scaler.encode(modalities, sources), presence(modalities, sources)]).astype(np.float64)


def ridge(x: np.ndarray, y: np.ndarray, alpha: float) -> np.ndarray:
    """argmin_W ||x W - y||^2 + lambda ||W||^2 with lambda = alpha * mean squared column norm of x
    (a floor keeps the system definite for constant inputs): primal (p x p) or dual (n x n)
    system, whichever is smaller."""
    n, p = x.shape
    alpha = alpha * max(float(np.square(x).sum()) / max(p, 1), 1e-12)
    if p <= n:
        return scipy.linalg.solve(x.T @ x + alpha * np.eye(p), x.T @ y, assume_a="pos")
    return x.T @ scipy.linalg.solve(x @ x.T + alpha * np.eye(n), y, assume_a="pos")
