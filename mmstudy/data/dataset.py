"""The Dataset object: id maps, implicit interactions (CSR) and item modalities."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from ..errors import DataError
from ..hashing import array_sha256, fingerprint
from .modality import Modality

if TYPE_CHECKING:
    from .split import Split


@dataclass(frozen=True, eq=False)
class Dataset:
    """Users x items implicit feedback plus per-item modalities.

    `interactions` is a binary float32 CSR matrix (n_users x n_items); `timestamps`, when the
    source has them, is a CSR matrix with the same sparsity holding the interaction times.
    `fixed_split` carries a split shipped by the source (e.g. MMRec's x_label column);
    `ratings`, when the source has explicit feedback, holds the rating values with the same
    sparsity (so thresholds such as `min_rating` can still be applied after loading).
    """

    name: str
    user_ids: np.ndarray
    item_ids: np.ndarray
    interactions: sp.csr_matrix
    modalities: dict[str, Modality] = field(default_factory=dict)
    timestamps: sp.csr_matrix | None = None
    fixed_split: "Split | None" = None
    meta: dict = field(default_factory=dict)
    ratings: sp.csr_matrix | None = None

    def __post_init__(self) -> None:
        shape = (len(self.user_ids), len(self.item_ids))
        inter = sp.csr_matrix(self.interactions, dtype=np.float32)
        if inter.shape != shape:
            raise DataError(f"dataset {self.name!r}: interaction matrix {inter.shape} does not match "
                            f"{shape[0]} users x {shape[1]} items")
        inter.sum_duplicates()
        inter.sort_indices()
        inter.data[:] = 1.0
        object.__setattr__(self, "interactions", inter)
        for key in ("timestamps", "ratings"):
            object.__setattr__(self, key, _aligned(self.name, key, getattr(self, key), inter))
        for key, mod in self.modalities.items():
            if mod.n_items != shape[1]:
                raise DataError(f"dataset {self.name!r}: modality {key!r} has {mod.n_items} feature rows "
                                f"but the dataset has {shape[1]} items")

    @property
    def n_users(self) -> int:
        return int(self.interactions.shape[0])

    @property
    def n_items(self) -> int:
        return int(self.interactions.shape[1])

    @property
    def n_interactions(self) -> int:
        return int(self.interactions.nnz)

    @property
    def density(self) -> float:
        return self.n_interactions / max(1, self.n_users * self.n_items)

    def fingerprint(self) -> str:
        """Content hash of interactions and every modality (names included)."""
        mods = {k: m.fingerprint() for k, m in sorted(self.modalities.items())}
        return fingerprint({"interactions": array_sha256(self.interactions), "modalities": mods,
                            "items": array_sha256(self.item_ids.astype(str)),
                            "users": array_sha256(self.user_ids.astype(str))})

    def info(self) -> dict:
        """Summary statistics, as printed by `python -m mmstudy data info`."""
        per_user = np.diff(self.interactions.indptr)
        out = {"name": self.name, "users": self.n_users, "items": self.n_items,
               "interactions": self.n_interactions, "density": self.density,
               "min_interactions_per_user": int(per_user.min()) if self.n_users else 0,
               "timestamps": self.timestamps is not None,
               "ratings": self.ratings is not None,
               "feedback": self.meta.get("feedback"),
               "fixed_split": self.fixed_split is not None,
               "modalities": {k: {"kind": m.kind, "dim": m.dim, "coverage": m.coverage,
                                  "missing_items": int((~m.present).sum()), "source": m.source,
                                  "raw": m.raw is not None, **_provenance(m)}
                              for k, m in self.modalities.items()}}
        return out

    def with_modalities(self, modalities: dict[str, Modality]) -> "Dataset":
        return replace(self, modalities=dict(modalities))

    def select_modalities(self, names: list[str] | tuple[str, ...]) -> "Dataset":
        """Keep only the named modalities (in that order); unknown names are an error."""
        missing = [n for n in names if n not in self.modalities]
        if missing:
            raise DataError(f"dataset {self.name!r} has no modality {missing[0]!r}; "
                            f"available: {sorted(self.modalities)}")
        return self.with_modalities({n: self.modalities[n] for n in names})

    def subset(self, users: np.ndarray | None = None, items: np.ndarray | None = None) -> "Dataset":
        """Keep the given users and items (boolean masks or index arrays, order kept).

        Interactions of dropped users/items go; timestamps, ratings, the fixed split and every
        modality (features, presence, raw content) follow the new indexing.
        """
        u = np.arange(self.n_users) if users is None else _indices(users, self.n_users, "users")
        i = np.arange(self.n_items) if items is None else _indices(items, self.n_items, "items")

        def take(m: sp.csr_matrix | None) -> sp.csr_matrix | None:
            return None if m is None else sp.csr_matrix(m[u][:, i])

        split = self.fixed_split
        if split is not None:
            split = replace(split, train=take(split.train), valid=take(split.valid), test=take(split.test))
        return replace(self, user_ids=self.user_ids[u], item_ids=self.item_ids[i],
                       interactions=take(self.interactions), timestamps=take(self.timestamps),
                       ratings=take(self.ratings), fixed_split=split,
                       modalities={k: m.subset(i) for k, m in self.modalities.items()})

    def subset_items(self, keep: np.ndarray) -> "Dataset":
        """Drop items (and their interactions) outside `keep` (boolean mask or index array)."""
        return self.subset(items=keep)


def _provenance(modality: Modality) -> dict:
    """The extractor spec and sidecar of features that came with a provenance sidecar ({} otherwise)."""
    record = modality.info.get("extractor") or {}
    if "provenance" not in record:
        return {}
    return {"extractor": record.get("spec"), "provenance": record["provenance"]["sidecar"]}


def _indices(selection: np.ndarray, n: int, what: str) -> np.ndarray:
    """A boolean mask of length n or an index array, as an index array."""
    sel = np.asarray(selection)
    if sel.dtype == bool:
        if sel.shape != (n,):
            raise DataError(f"{what} mask has shape {sel.shape}, expected ({n},)")
        return np.flatnonzero(sel)
    sel = sel.astype(np.int64, copy=False)
    if sel.size and (sel.min() < 0 or sel.max() >= n):
        raise DataError(f"{what} index out of range 0..{n - 1}")
    return sel


def _aligned(name: str, key: str, values: sp.spmatrix | None, inter: sp.csr_matrix) -> sp.csr_matrix | None:
    """`values` as a CSR matrix with exactly the sparsity pattern of `inter` (else an error)."""
    if values is None:
        return None
    m = sp.csr_matrix(values, dtype=np.float64)
    m.sort_indices()
    if m.shape != inter.shape or not (np.array_equal(m.indptr, inter.indptr)
                                      and np.array_equal(m.indices, inter.indices)):
        raise DataError(f"dataset {name!r}: {key} do not have the same entries as the interactions")
    return m
