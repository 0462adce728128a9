"""What learned imputers may fit on, the record that proves it, and their shared feature scaling.

Every learned imputer (`cross_modal`, `autoencoder`, `graph_autoencoder`) is fitted on the
*training-observed rows* only: per modality, the rows present after masking (never the masked
truth; `Modality` zeroes absent rows) of items with at least one training interaction.
`LearnedImputer` builds exactly that view (`fit_view`), fits on it alone and records, for the
modality it imputes, how many rows it fitted on and the SHA-256 of their item indices (`row_set`).
`handle_missing` records the expected set independently, from the mask and the train part
(`expected_fit_rows`), and the audit compares the two. At imputation time a model reads the item's
own observed content and that of its neighbours (content is available whenever an item is
served), never a masked row.

The learned imputers follow the learned baselines of Malitesta et al., "Training-free Graph-based
Imputation of Missing Modalities in Multimodal Recommendation" (IEEE TKDE 2026, the extension of
"Do We Really Need to Drop Items with Missing Modalities in Multimodal Recommendation?", CIKM
2024): a cross-modal autoencoder that maps one modality to another, trained on the items that
have both, and a graph autoencoder (GCN encoder over the top-k co-interaction graph of the
training interactions) that does the same through the item's neighbourhood.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import ClassVar, Mapping

import numpy as np
import scipy.sparse as sp

from ..data.modality import Modality
from ..errors import ConfigError, DataError
from ..hashing import array_sha256
from .imputers import Imputer


def training_items(train: sp.spmatrix) -> np.ndarray:
    """Boolean per item: True when the item has at least one (non-zero) training interaction."""
    if not sp.issparse(train) or train.ndim != 2:
        raise DataError(f"training_items expects a sparse (users x items) train matrix, got {type(train).__name__}")
    return np.asarray(abs(sp.csr_matrix(train)).sum(axis=0)).ravel() > 0


def row_set(rows: np.ndarray) -> dict:
    """{"rows": count, "sha256": SHA-256 of the sorted int64 item indices} of a boolean row mask."""
    index = np.flatnonzero(np.asarray(rows, dtype=bool)).astype(np.int64)
    return {"rows": int(len(index)), "sha256": array_sha256(index)}


def fit_view(modalities: Mapping[str, Modality], items: np.ndarray) -> dict[str, Modality]:
    """The modalities with only the rows of `items` present (others zeroed): what a learner fits on."""
    return {name: m.with_features(m.features, present=m.present & items) for name, m in modalities.items()}


def expected_fit_rows(truth: Mapping[str, Modality], missing: Mapping[str, np.ndarray] | None,
                      train: sp.spmatrix) -> dict[str, dict]:
    """Per modality, the `row_set` a learned imputer must fit on, from the modalities before masking,
    the mask's `missing` arrays (None: nothing masked) and the train part alone (its own count of
    training interactions per item, independent of what the imputers use)."""
    csc = sp.csc_matrix(train)
    csc.eliminate_zeros()
    items = np.diff(csc.indptr) > 0
    out = {}
    for name, modality in truth.items():
        masked = missing.get(name) if missing is not None else None
        observed = modality.present & ~masked if masked is not None else modality.present
        out[name] = row_set(observed & items)
    return out


@dataclass(frozen=True, eq=False)
class ImputationContext:
    """What a learned imputer sees besides the modality it fills.

    `modalities`: every modality after masking (the inputs of cross-modal predictions); `train`:
    the split's training interactions (they define the fit rows); `seed`: seeds initialisation and
    corruption; `fitted`: models fitted during one `handle_missing` call, shared across the
    modalities it imputes (a joint autoencoder is fitted once, not once per modality).
    """

    modalities: Mapping[str, Modality]
    train: sp.spmatrix
    seed: int = 0
    fitted: dict = field(default_factory=dict)
    items: np.ndarray = field(init=False, repr=False)  # items with training interactions
    view: dict[str, Modality] = field(init=False, repr=False)  # `fit_view` of the modalities

    def __post_init__(self) -> None:
        sizes = {m.n_items for m in self.modalities.values()}
        if len(sizes) > 1 or (sizes and sizes != {self.train.shape[1]}):
            raise DataError(f"imputation context: the modalities have {'/'.join(map(str, sorted(sizes)))} items but "
                            f"the train part has {self.train.shape[1]}")
        object.__setattr__(self, "items", training_items(self.train))
        object.__setattr__(self, "view", fit_view(self.modalities, self.items))


class LearnedImputer(Imputer):
    """An imputer fitted on the training-observed rows (`ImputationContext.view`) only.

    Subclasses implement `_fit_fill(modality, context, graph)` -> (values of the missing rows,
    fallback flags); the base class checks the inputs and records the fitted row set.
    """

    needs_context: ClassVar[bool] = True
    min_modalities: ClassVar[int] = 1

    def _check_context(self, modality: Modality, context: ImputationContext | None) -> None:
        if not isinstance(context, ImputationContext):
            raise ConfigError(f"imputer {self.name!r} is learned: it needs an ImputationContext "
                              f"(the masked modalities and the train part), got {type(context).__name__}")
        if modality.name not in context.modalities:
            raise DataError(f"imputer {self.name!r}: modality {modality.name!r} is not in its context "
                            f"{sorted(context.modalities)}")
        if len(context.modalities) < self.min_modalities:
            raise ConfigError(f"imputer {self.name!r} predicts a modality from the item's other modalities, but "
                              f"the data has only {sorted(context.modalities)}; use one that needs no other "
                              "modality (e.g. 'mean', 'propagation' or 'graph_autoencoder')")
        if not context.view[modality.name].present.any():
            raise DataError(f"imputer {self.name!r}: modality {modality.name!r} has no observed row among the "
                            "items with training interactions; there is nothing to fit on")

    def _run(self, modality, graph, rng, context):
        self._check_context(modality, context)
        started = time.perf_counter()
        values, fallback = self._fit_fill(modality, context, graph)
        rows = row_set(context.view[modality.name].present)
        return values, fallback, {"fitted_rows": rows["rows"], "fitted_rows_sha256": rows["sha256"],
                                  "fit_seconds": round(time.perf_counter() - started, 4)}

    def _fit_fill(self, modality: Modality, context: ImputationContext, graph) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError


@dataclass(frozen=True)
class BlockScaler:
    """Per-modality centring and scaling fitted on the training-observed rows.

    Each modality block is centred by its observed mean and divided by the root mean squared norm
    of its centred rows, so every block's rows have unit RMS norm whatever its width or units and
    one regularisation strength fits all. Absent rows encode to 0 (the observed mean).
    """

    means: dict[str, np.ndarray]
    scales: dict[str, float]

    @classmethod
    def fit(cls, view: Mapping[str, Modality]) -> "BlockScaler":
        means, scales = {}, {}
        for name, m in view.items():
            rows = m.features[m.present].astype(np.float64)
            means[name] = rows.mean(axis=0) if len(rows) else np.zeros(m.dim)
            rms = float(np.sqrt(((rows - means[name]) ** 2).sum(axis=1).mean())) if len(rows) else 0.0
            scales[name] = rms if rms > 1e-12 else 1.0
        return cls(means, scales)

    def encode(self, modalities: Mapping[str, Modality], names: list[str]) -> np.ndarray:
        """The named blocks side by side (items x sum of widths), absent rows 0, float32."""
        blocks = [np.where(modalities[n].present[:, None], (modalities[n].features - self.means[n]) / self.scales[n], 0.0)
                  for n in names]
        return np.hstack(blocks).astype(np.float32) if blocks else np.zeros((0, 0), np.float32)

    def decode(self, name: str, block: np.ndarray) -> np.ndarray:
        return (np.asarray(block, dtype=np.float64) * self.scales[name] + self.means[name]).astype(np.float32)


def presence(modalities: Mapping[str, Modality], names: list[str]) -> np.ndarray:
    """(items x len(names)) float32 presence indicators."""
    return np.stack([modalities[n].present for n in names], axis=1).astype(np.float32)
