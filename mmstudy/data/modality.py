"""One item modality: a feature matrix, a presence mask and optional raw content."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Sequence

import numpy as np

from ..errors import DataError
from ..hashing import array_sha256

KINDS = ("text", "image", "audio", "video", "tabular", "other")


@dataclass(frozen=True, eq=False)
class Modality:
    """Features of one modality for every item (row i = item index i).

    `present[i]` is False when item i lacks this modality; such rows hold zeros until an imputer
    fills them, and consumers must never read them as real content. `raw` optionally holds the
    raw content per item (a text string or an image path; None where absent).
    """

    name: str
    kind: str
    features: np.ndarray
    present: np.ndarray
    raw: Sequence[object] | None = None
    source: str = ""
    info: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        feats = np.asarray(self.features)
        if feats.ndim != 2:
            raise DataError(f"modality {self.name!r}: features must be 2-D (items x dims), got shape {feats.shape}")
        if feats.dtype != np.float32:
            feats = feats.astype(np.float32)
        present = np.asarray(self.present, dtype=bool)
        if present.shape != (feats.shape[0],):
            raise DataError(
                f"modality {self.name!r}: presence mask has shape {present.shape}, expected ({feats.shape[0]},)")
        bad = ~np.isfinite(feats[present]).all(axis=1)
        if bad.any():
            row = int(np.flatnonzero(present)[np.flatnonzero(bad)[0]])
            raise DataError(f"modality {self.name!r} ({self.source or 'features'}): non-finite value (NaN/inf) "
                            f"in row {row} ({int(bad.sum())} rows affected)")
        if self.raw is not None and len(self.raw) != feats.shape[0]:
            raise DataError(f"modality {self.name!r}: {len(self.raw)} raw entries for {feats.shape[0]} items")
        if self.kind not in KINDS:
            raise DataError(f"modality {self.name!r}: unknown kind {self.kind!r}; expected one of {KINDS}")
        feats = np.where(present[:, None], feats, np.float32(0.0)) if not present.all() else feats
        object.__setattr__(self, "features", np.ascontiguousarray(feats, dtype=np.float32))
        object.__setattr__(self, "present", present)

    @property
    def n_items(self) -> int:
        return int(self.features.shape[0])

    @property
    def dim(self) -> int:
        return int(self.features.shape[1])

    @property
    def coverage(self) -> float:
        return float(self.present.mean()) if self.n_items else 0.0

    def fingerprint(self) -> str:
        """Content hash of features and presence (what every derived cache is keyed by)."""
        return array_sha256(self.features, self.present)

    def with_features(self, features: np.ndarray, present: np.ndarray | None = None, **info) -> "Modality":
        """A copy with new features (e.g. imputed) and optionally a new presence mask."""
        return replace(self, features=features, present=self.present if present is None else present,
                       info={**self.info, **info})

    def subset(self, items: np.ndarray) -> "Modality":
        """The modality restricted to the given item indices (in that order)."""
        raw = None if self.raw is None else [self.raw[i] for i in items]
        return replace(self, features=self.features[items], present=self.present[items], raw=raw)
