"""Train/validation/test splits of a dataset's interactions, persisted with a checksum."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from ..errors import DataError
from ..hashing import array_sha256, atomic_path

PARTS = ("train", "valid", "test")


@dataclass(frozen=True, eq=False)
class Split:
    """Three disjoint binary CSR matrices (n_users x n_items) that together hold the interactions."""

    train: sp.csr_matrix
    valid: sp.csr_matrix
    test: sp.csr_matrix
    method: str = "fixed"
    seed: int | None = None
    info: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        shapes = {p: getattr(self, p).shape for p in PARTS}
        if len(set(shapes.values())) != 1:
            raise DataError(f"split parts have different shapes: {shapes}")
        for part in PARTS:
            m = sp.csr_matrix(getattr(self, part), dtype=np.float32)
            m.sum_duplicates()
            m.sort_indices()
            m.data[:] = 1.0
            object.__setattr__(self, part, m)
        overlap = self.train.multiply(self.valid).nnz + self.train.multiply(self.test).nnz \
            + self.valid.multiply(self.test).nnz
        if overlap:
            raise DataError(f"split parts overlap in {overlap} interactions")

    @property
    def shape(self) -> tuple[int, int]:
        return self.train.shape

    @property
    def checksum(self) -> str:
        return array_sha256(self.train, self.valid, self.test)

    def users_with(self, part: str) -> np.ndarray:
        """Indices of users with at least one interaction in `part` (who can be evaluated)."""
        return np.flatnonzero(np.diff(getattr(self, part).indptr) > 0)

    def eval_users(self, part: str) -> np.ndarray:
        """Users evaluated on `part`: they have targets there and at least one training item.

        Users without training interactions cannot be ranked meaningfully (cold users); they are
        excluded explicitly and counted in `summary()["cold_users_<part>"]`.
        """
        has_train = np.diff(self.train.indptr) > 0
        has_part = np.diff(getattr(self, part).indptr) > 0
        return np.flatnonzero(has_train & has_part)

    def summary(self) -> dict:
        has_train = np.diff(self.train.indptr) > 0
        out = {"method": self.method, "seed": self.seed, "checksum": self.checksum, **self.info}
        for part in PARTS:
            m = getattr(self, part)
            out[f"{part}_interactions"] = int(m.nnz)
            out[f"{part}_users"] = int((np.diff(m.indptr) > 0).sum())
        for part in ("valid", "test"):
            out[f"cold_users_{part}"] = int(((np.diff(getattr(self, part).indptr) > 0) & ~has_train).sum())
        return out

    def save(self, path: str | Path) -> None:
        """Write the split atomically as an .npz of plain arrays (no pickle)."""
        arrays = {"shape": np.asarray(self.shape), "method": np.asarray(self.method),
                  "seed": np.asarray(-1 if self.seed is None else self.seed),
                  "checksum": np.asarray(self.checksum)}
        for part in PARTS:
            m = getattr(self, part)
            arrays[f"{part}_indptr"], arrays[f"{part}_indices"] = m.indptr, m.indices
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as f:
                np.savez_compressed(f, **arrays)

    @classmethod
    def load(cls, path: str | Path) -> "Split":
        """Load a split written by `save`; a checksum mismatch is an error."""
        with np.load(path, allow_pickle=False) as z:
            shape = tuple(int(x) for x in z["shape"])
            parts = {p: sp.csr_matrix((np.ones(len(z[f"{p}_indices"]), np.float32), z[f"{p}_indices"],
                                       z[f"{p}_indptr"]), shape=shape) for p in PARTS}
            seed = int(z["seed"])
            split = cls(**parts, method=str(z["method"]), seed=None if seed < 0 else seed)
            if split.checksum != str(z["checksum"]):
                raise DataError(f"{path}: split checksum mismatch (file is corrupted or was edited)")
        return split
