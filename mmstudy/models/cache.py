"""A content-keyed cache for derived structures (kNN graphs, normalised adjacencies).

Keys are fingerprints of *everything* the structure depends on (feature + mask hashes, training
matrix hash, parameters), never parameter names alone, so a changed feature matrix can never
reuse a stale graph. Entries live in memory and, when a directory is given, on disk as .npz
files of plain arrays (loaded with allow_pickle=False), written atomically.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np
import scipy.sparse as sp

from ..hashing import atomic_path, fingerprint


class DerivedCache:
    def __init__(self, directory: str | Path | None = None):
        self.directory = Path(directory) if directory else None
        self._memory: dict[str, sp.csr_matrix] = {}
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(kind: str, **parts: Any) -> str:
        return f"{kind}-{fingerprint(parts)[:32]}"

    def sparse(self, key: str, compute: Callable[[], sp.spmatrix]) -> sp.csr_matrix:
        """Return the cached sparse matrix under `key`, computing and storing it on a miss."""
        if key in self._memory:
            self.hits += 1
            return self._memory[key]
        path = self.directory / f"{key}.npz" if self.directory else None
        if path is not None and path.exists():
            self.hits += 1
            matrix = sp.load_npz(path).tocsr()  # scipy's npz loader does not unpickle
        else:
            self.misses += 1
            matrix = sp.csr_matrix(compute())
            if path is not None:
                with atomic_path(path) as tmp:
                    with open(tmp, "wb") as f:
                        sp.save_npz(f, matrix)
        self._memory[key] = matrix
        return matrix


def cached_sparse(cache: DerivedCache | None, kind: str, compute: Callable[[], sp.spmatrix],
                  **parts: Any) -> sp.csr_matrix:
    """`cache.sparse(...)` when a cache is given, else just `compute()`."""
    if cache is None:
        return sp.csr_matrix(compute())
    return cache.sparse(DerivedCache.key(kind, **parts), compute)


def matrix_key(matrix: sp.spmatrix | np.ndarray) -> str:
    from ..hashing import array_sha256
    return array_sha256(matrix)
