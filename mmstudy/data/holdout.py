"""Hold-out splits (train/validation/test): per-user random or temporal hold-out, or the source's
fixed split; `load_or_make_split` persists a split keyed by dataset fingerprint and parameters.

Per-user hold-out sizes: a user with n interactions gets round(n * r_test) test and
round(n * r_valid) validation interactions (halves round up), then validation and, if needed,
test are shrunk so that at least one interaction stays in training. With the default ratios
(0.8, 0.1, 0.1) users with fewer than 5 interactions therefore keep everything in training
(they are trained on but never evaluated); a user with a single interaction always trains.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import scipy.sparse as sp

from ..errors import ConfigError, DataError
from ..hashing import array_sha256, fingerprint, write_json
from ..registry import Registry
from .dataset import Dataset
from .split import Split

SPLIT_METHODS: Registry[Callable[..., Split]] = Registry("split method")
DEFAULT_RATIOS = (0.8, 0.1, 0.1)


def check_ratios(ratios: Sequence[float]) -> tuple[float, float, float]:
    """Three non-negative shares summing to 1 with a positive training share."""
    r = tuple(float(x) for x in ratios)
    if len(r) != 3 or min(r) < 0 or r[0] <= 0 or abs(sum(r) - 1.0) > 1e-6:
        raise ConfigError(f"split ratios must be three non-negative numbers (train, valid, test) summing to 1 "
                          f"with train > 0, got {list(ratios)}")
    return r


def holdout_labels(rows: np.ndarray, order: np.ndarray, n_users: int, ratios: Sequence[float]) -> np.ndarray:
    """Part (0 train, 1 valid, 2 test) of every interaction, given its user (`rows`) and an
    ordering `order` that groups interactions by user, earliest/first-to-train first."""
    _, r_valid, r_test = check_ratios(ratios)
    counts = np.bincount(rows, minlength=n_users)
    n_test = np.floor(counts * r_test + 0.5).astype(np.int64)
    n_valid = np.floor(counts * r_valid + 0.5).astype(np.int64)
    room = np.maximum(counts - 1, 0)  # keep one training interaction
    n_valid = np.minimum(n_valid, np.maximum(room - n_test, 0))
    n_test = np.minimum(n_test, room)
    sorted_rows = rows[order]
    starts = np.concatenate([[0], np.cumsum(counts)])[:-1]
    rank_from_end = counts[sorted_rows] - 1 - (np.arange(len(order)) - starts[sorted_rows])
    labels_sorted = np.where(rank_from_end < n_test[sorted_rows], 2,
                             np.where(rank_from_end < (n_test + n_valid)[sorted_rows], 1, 0))
    labels = np.empty(len(order), np.int8)
    labels[order] = labels_sorted
    return labels


def split_from_labels(interactions: sp.csr_matrix, labels: np.ndarray, method: str, seed: int | None,
                      info: dict) -> Split:
    """A Split from per-interaction part labels (aligned with the CSR order of `interactions`)."""
    m = sp.csr_matrix(interactions)
    rows = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))

    def part(k: int) -> sp.csr_matrix:
        keep = labels == k
        return sp.csr_matrix((np.ones(keep.sum(), np.float32), (rows[keep], m.indices[keep])), shape=m.shape)

    split = Split(*(part(k) for k in range(3)), method=method, seed=seed, info=dict(info))
    return with_cold_counts(split)


def with_cold_counts(split: Split) -> Split:
    """The split with `info["cold_users_valid/test"]`: users with targets but no training data."""
    summary = split.summary()
    info = {**split.info, **{k: summary[k] for k in ("cold_users_valid", "cold_users_test")}}
    return Split(split.train, split.valid, split.test, method=split.method, seed=split.seed, info=info)


@SPLIT_METHODS.register("random", "random_holdout")
def random_holdout(interactions: sp.spmatrix, ratios: Sequence[float] = DEFAULT_RATIOS, seed: int = 0) -> Split:
    """Per-user random hold-out: each user's interactions are shuffled and divided by `ratios`."""
    m = sp.csr_matrix(interactions)
    rows = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
    keys = np.random.default_rng(seed).random(len(rows))
    order = np.lexsort((keys, rows))
    labels = holdout_labels(rows, order, m.shape[0], ratios)
    return split_from_labels(m, labels, "random", seed, {"ratios": list(check_ratios(ratios))})


@SPLIT_METHODS.register("temporal", "temporal_holdout", "time")
def temporal_holdout(interactions: sp.spmatrix, timestamps: sp.spmatrix | None,
                     ratios: Sequence[float] = DEFAULT_RATIOS) -> Split:
    """Per-user temporal hold-out: each user's latest interactions are tested, the ones before
    validated, the rest trained on (ties broken by item index)."""
    if timestamps is None:
        raise DataError("a temporal split needs timestamps, and this dataset has none; use method='random'")
    m = sp.csr_matrix(interactions)
    m.sort_indices()
    ts = sp.csr_matrix(timestamps, dtype=np.float64)
    ts.sort_indices()
    if ts.shape != m.shape or not (np.array_equal(ts.indptr, m.indptr) and np.array_equal(ts.indices, m.indices)):
        raise DataError("timestamps do not have the same entries as the interactions")
    rows = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
    order = np.lexsort((m.indices, ts.data, rows))
    labels = holdout_labels(rows, order, m.shape[0], ratios)
    return split_from_labels(m, labels, "temporal", None, {"ratios": list(check_ratios(ratios))})


@SPLIT_METHODS.register("fixed", "source")
def fixed_split(dataset: Dataset) -> Split:
    """The split shipped with the dataset (e.g. MMRec's x_label)."""
    if dataset.fixed_split is None:
        raise DataError(f"dataset {dataset.name!r} has no fixed split; use method='random' or 'temporal'")
    return with_cold_counts(dataset.fixed_split)


def make_split(dataset: Dataset, method: str = "random", ratios: Sequence[float] = DEFAULT_RATIOS,
               seed: int = 0) -> Split:
    """Split a dataset by `method` ('random', 'temporal' or 'fixed'; ratios/seed as they apply)."""
    method = SPLIT_METHODS.canonical(method)
    if method == "random":
        return random_holdout(dataset.interactions, ratios, seed)
    if method == "temporal":
        return temporal_holdout(dataset.interactions, dataset.timestamps, ratios)
    return fixed_split(dataset)


def split_key(dataset: Dataset, method: str, ratios: Sequence[float], seed: int) -> dict:
    """Everything a split depends on (what `load_or_make_split` keys the stored file by)."""
    method = SPLIT_METHODS.canonical(method)
    key = {"dataset": dataset.fingerprint(), "method": method}
    if method == "random":
        key.update(ratios=list(check_ratios(ratios)), seed=int(seed))
    elif method == "temporal":
        key.update(ratios=list(check_ratios(ratios)), timestamps=array_sha256(dataset.timestamps))
    else:
        key.update(fixed=fixed_split(dataset).checksum)
    return key


def load_or_make_split(dataset: Dataset, directory: str | Path, method: str = "random",
                       ratios: Sequence[float] = DEFAULT_RATIOS, seed: int = 0) -> Split:
    """Reuse the split stored in `directory` for this dataset and parameters, else make and store it.

    Files: `split-<key>.npz` (the split, checksummed) and `split-<key>.json` (parameters, summary).
    A stored split whose checksum no longer matches its record is an error, never silently redone.
    """
    key = split_key(dataset, method, ratios, seed)
    stem = Path(directory).expanduser() / f"split-{fingerprint(key)[:20]}"
    npz, record = stem.with_suffix(".npz"), stem.with_suffix(".json")
    if npz.is_file() and record.is_file():
        saved = json.loads(record.read_text())
        split = Split.load(npz)
        if split.checksum != saved.get("checksum") or split.shape != dataset.interactions.shape:
            raise DataError(f"{npz}: stored split does not match its record {record.name} (checksum/shape); "
                            "delete both files to make it again")
        return Split(split.train, split.valid, split.test, method=split.method, seed=split.seed,
                     info={**saved.get("info", {}), "reused_from": str(npz)})
    split = make_split(dataset, method, ratios, seed)
    split.save(npz)
    write_json(record, {"key": key, "checksum": split.checksum, "info": split.info, "summary": split.summary()})
    return split

