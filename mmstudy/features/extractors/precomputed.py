"""Features shipped with a dataset (an .npy file or an existing Modality), served as an extractor."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from ...data.modality import KINDS, Modality
from ...errors import ConfigError, DataError
from ...hashing import array_sha256
from ..base import EXTRACTORS, Extractor, cached_sha256


@EXTRACTORS.register("precomputed", "npy")
class PrecomputedExtractor(Extractor):
    """Row i of a shipped matrix is the feature of item i; non-finite rows (or `present` False) are absent.

    Build it from an .npy file (`path`) or from in-memory `features` (`from_modality`). Inputs to
    `extract` are item indices, which `extract_modality` supplies.
    """

    backend = "precomputed"
    modality_kinds = KINDS
    location_params = ("path",)

    def __init__(self, path: str | None = None, features: np.ndarray | None = None,
                 present: np.ndarray | None = None, name: str = ""):
        super().__init__()
        if (path is None) == (features is None):
            raise ConfigError("PrecomputedExtractor needs exactly one of path= or features=")
        self.path = None if path is None else str(path)
        self.features = features
        self.present = present
        self.name = name or (Path(path).name if path else "in-memory")
        self._matrix: np.ndarray | None = None

    @classmethod
    def from_modality(cls, modality: Modality) -> "PrecomputedExtractor":
        return cls(features=modality.features, present=modality.present, name=modality.source or modality.name)

    def identity_params(self) -> dict[str, Any]:
        return {"path": None if self.path is None else "local", "name": self.name}

    def describe(self) -> dict[str, Any]:
        digest = cached_sha256(self.path) if self.path else array_sha256(self.features, self.present)
        return {"model": self.name, "layer": "as shipped", "preprocessing": "none", "weights_sha256": digest}

    def matrix(self) -> np.ndarray:
        if self._matrix is None:
            self._matrix = self._read()
            self._dim = self._matrix.shape[1]
        return self._matrix

    def _read(self) -> np.ndarray:
        if self.path is None:
            matrix = np.asarray(self.features)
        else:
            try:
                matrix = np.load(self.path, allow_pickle=False)
            except (OSError, ValueError) as exc:
                raise DataError(f"cannot read precomputed features {self.path}: {exc}") from exc
        if matrix.ndim != 2 or not np.issubdtype(matrix.dtype, np.number):
            raise DataError(f"precomputed features {self.name}: expected a 2-D numeric array, "
                            f"got {matrix.dtype} {matrix.shape}")
        return matrix.astype(np.float32, copy=False)

    def inputs_for(self, modality: Modality) -> tuple[np.ndarray, Sequence[object]]:
        matrix = self.matrix()
        if matrix.shape[0] != modality.n_items:
            raise DataError(f"precomputed features {self.name} have {matrix.shape[0]} rows; "
                            f"modality {modality.name!r} has {modality.n_items} items")
        available = np.isfinite(matrix).all(axis=1)
        if self.present is not None:
            available &= np.asarray(self.present, dtype=bool)
        return available, np.arange(modality.n_items)

    def _load(self, device: torch.device) -> None:
        self.matrix()

    def _encode(self, batch: list, kind: str) -> np.ndarray:
        return self.matrix()[np.asarray(batch, dtype=np.int64)]
