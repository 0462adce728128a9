"""Shared machinery of the dataset loaders: reading tab-separated tables with precise errors,
feature files, and assembling an interaction table into a `Dataset`.

An interaction table is a DataFrame with integer columns `u` and `i` (user/item indices), a
`line` column (source line, for messages), a `file` column, and optionally `rating`,
`timestamp` and `x_label` (0/1/2 = train/valid/test).
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ...errors import ConfigError, DataError
from ..dataset import Dataset
from ..modality import KINDS, Modality
from ..split import Split
from . import tables
from .provenance import present_rows, provenance_info, read_sidecar, sidecar_rows

ALIASES = {"user": ("user", "userid", "user_id", "uid", "u"),
           "item": ("item", "itemid", "item_id", "iid", "i", "movieid", "movie_id"),
           "rating": ("rating", "ratings", "score"),
           "timestamp": ("timestamp", "time", "ts", "datetime"),
           "x_label": ("x_label", "split")}
_CANONICAL = {alias: key for key, names in ALIASES.items() for alias in names}
DUPLICATE_POLICIES = ("error", "drop")


def canonical_column(name: str) -> str:
    """Map a header name (aliases, RecBole `name:type` form) to user/item/rating/timestamp/x_label."""
    base = str(name).split(":", 1)[0].strip()
    return _CANONICAL.get(base.lower(), base)


def missing_file_error(path: Path, hint: str = "") -> DataError:
    """An error naming a missing file and listing what its directory holds."""
    parent = path.parent
    if parent.is_dir():
        names = sorted(p.name + ("/" if p.is_dir() else "") for p in parent.iterdir())
        shown = ", ".join(names[:25]) + (f", ... ({len(names)} entries)" if len(names) > 25 else "")
        where = f"{parent} contains: {shown or '(nothing)'}"
    else:
        where = f"directory {parent} does not exist"
    return DataError(f"expected file {path} is missing; {where}{'. ' + hint if hint else ''}")


def require_file(path: str | Path, hint: str = "") -> Path:
    path = Path(path)
    if not path.is_file():
        raise missing_file_error(path, hint)
    return path


def read_header(path: Path, sep: str | None = None) -> list[str]:
    """The first non-blank line of a table split into fields (an empty file is an error)."""
    return tables.read_header(require_file(path), sep)


def source_column(path: Path, key: str) -> str | None:
    """The header name (as the file spells it) of canonical column `key`; None if absent."""
    return next((c for c in read_header(path) if canonical_column(c) == key), None)


def read_table(path: str | Path, dtypes: dict[str, object], *, required: Sequence[str] = (),
               header: bool = True, names: Sequence[str] | None = None) -> pd.DataFrame:
    """Read a TSV/CSV (see `tables`) into canonical columns with explicit dtypes; bad values,
    rows with extra or missing fields and undecodable bytes name the file line.

    With `header`, column names are mapped through `canonical_column`; otherwise `names` gives
    the column meaning by position. Only columns listed in `dtypes` are kept; those in
    `required` must exist. Adds `line` (the physical line in the file, blank lines counted) and
    `file` columns.
    """
    table = tables.TextTable.open(require_file(path))
    path = table.path
    fields = [canonical_column(c) for c in table.first] if header else list(names or [])
    missing = [c for c in required if c not in fields]
    if missing:
        raise DataError(f"{path}: missing column(s) {missing}; found {fields}{_separator_hint(table)}")
    keep = {i: c for i, c in enumerate(fields) if c in dtypes and c not in fields[:i]}
    try:
        df = table.frame({i: dtypes[c] for i, c in keep.items()}, header)
    except (ValueError, TypeError, OverflowError) as exc:
        if isinstance(exc, DataError):
            raise
        raw = table.frame({i: str for i in keep}, header)
        raise _bad_value(path, raw.rename(columns=keep), dtypes, table.row_lines(header)) from None
    df = df.rename(columns=keep)
    if df.empty:
        raise DataError(f"{path}: no data rows")
    df["line"] = table.row_lines(header)
    df["file"] = str(path)
    return df


def _separator_hint(table: tables.TextTable) -> str:
    """A hint when a one-column table looks separated by the other delimiter."""
    other = {"\t": ",", ",": "\t"}.get(table.sep)
    if table.width == 1 and other and other in table.first[0]:
        return f" (the file is read as {tables.separator_name(table.sep)}-separated but its header " \
               f"contains {tables.separator_name(other)}s)"
    return ""


def _bad_value(path: Path, raw: pd.DataFrame, dtypes: dict, lines: np.ndarray) -> DataError:
    """The first value that does not parse as its column's dtype, as an error naming the line."""
    for col in raw.columns:
        kind = "U" if dtypes[col] is str else np.dtype(dtypes[col]).kind
        if kind not in "iuf":
            continue
        text = raw[col].astype(str).str.strip()
        ok = text.str.fullmatch(r"[+-]?\d+") if kind in "iu" else pd.to_numeric(text, errors="coerce").notna()
        bad = raw[col].isna() | ~ok.fillna(False).astype(bool)
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            value = raw[col].iloc[row]
            what = "is missing" if pd.isna(value) or value == "" else \
                f"value {value!r} is not {'an integer' if kind in 'iu' else 'a number'}"
            return DataError(f"{path} line {lines[row]}: {col} {what}")
    return DataError(f"{path}: could not parse the table")


def shown(value: object) -> str:
    """A value for messages: numpy scalars as plain Python values, strings quoted."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def check_finite(table: pd.DataFrame, columns: Iterable[str]) -> None:
    """NaN/inf in numeric columns (ratings, timestamps) is an error naming the line."""
    for col in columns:
        if col in table:
            bad = ~np.isfinite(table[col].to_numpy(dtype=np.float64))
            if bad.any():
                row = table.iloc[int(np.flatnonzero(bad)[0])]
                raise DataError(f"{row['file']} line {row['line']}: {col} is not finite ({shown(row[col])})")


def lookup(table: pd.DataFrame, column: str, universe: pd.Index, what: str) -> np.ndarray:
    """Positions of `table[column]` in `universe`; an unknown id is an error naming its line."""
    codes = universe.get_indexer(table[column])
    if (codes < 0).any():
        row = table.iloc[int(np.flatnonzero(codes < 0)[0])]
        raise DataError(f"{row['file']} line {row['line']}: {column} {shown(row[column])} is not a known {what}")
    return codes


def id_index(values: Iterable[object]) -> pd.Index:
    """Sorted unique ids; tokens that are all canonical integers ('7', not '007') become int64."""
    uniq = np.sort(pd.unique(pd.Series(values, dtype=str)).astype(str))
    numeric = pd.to_numeric(pd.Series(uniq), errors="coerce")
    if len(uniq) and numeric.notna().all() and (numeric % 1 == 0).all():
        ints = numeric.to_numpy(np.int64)
        if (ints.astype(str) == uniq).all():
            return pd.Index(np.sort(ints))
    return pd.Index(uniq)


def drop_duplicates(table: pd.DataFrame, policy: str = "error") -> pd.DataFrame:
    """Repeated (user, item) pairs: an error naming the first repeat, or keep the first (`drop`)."""
    if policy not in DUPLICATE_POLICIES:
        raise ConfigError(f"duplicates={policy!r}; expected one of {DUPLICATE_POLICIES}")
    dup = table.duplicated(["u", "i"]).to_numpy()
    if not dup.any():
        return table
    if policy == "drop":
        return table[~dup]
    row = table.iloc[int(np.flatnonzero(dup)[0])]
    raise DataError(f"{row['file']} line {row['line']}: duplicate interaction of user {shown(row.get('user', row['u']))} "
                    f"with item {shown(row.get('item', row['i']))} ({int(dup.sum())} duplicates; "
                    "pass duplicates='drop' to keep the first occurrence)")


def assemble(name: str, table: pd.DataFrame, user_ids: np.ndarray, item_ids: np.ndarray,
             modalities: dict[str, Modality] | None = None, meta: dict | None = None,
             fixed_split: str | None = None) -> Dataset:
    """Build a Dataset from a duplicate-free interaction table with `u`/`i` codes.

    Timestamps and ratings (when present) become CSR matrices aligned with the interactions;
    `fixed_split` (a description of where it comes from) turns the `x_label` column into
    `Dataset.fixed_split`.
    """
    shape = (len(user_ids), len(item_ids))
    order = np.lexsort((table["i"].to_numpy(), table["u"].to_numpy()))
    rows = table["u"].to_numpy(np.int64)[order]
    cols = table["i"].to_numpy(np.int64)[order]
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=shape[0]))])

    def matrix(values: np.ndarray, dtype=np.float32, keep: np.ndarray | None = None) -> sp.csr_matrix:
        if keep is None:
            return sp.csr_matrix((values.astype(dtype), cols, indptr), shape=shape)
        ptr = np.concatenate([[0], np.cumsum(np.bincount(rows[keep], minlength=shape[0]))])
        return sp.csr_matrix((values[keep].astype(dtype), cols[keep], ptr), shape=shape)

    def column(key: str) -> sp.csr_matrix | None:
        return matrix(table[key].to_numpy(np.float64)[order], np.float64) if key in table else None

    split = None
    if fixed_split:
        labels = table["x_label"].to_numpy()[order]
        ones = np.ones(len(rows), np.float32)
        split = Split(*(matrix(ones, keep=labels == k) for k in range(3)), method="fixed",
                      info={"source": fixed_split})
    return Dataset(name=name, user_ids=np.asarray(user_ids), item_ids=np.asarray(item_ids),
                   interactions=matrix(np.ones(len(rows))), modalities=dict(modalities or {}),
                   timestamps=column("timestamp"), ratings=column("rating"), fixed_split=split,
                   meta=dict(meta or {}))


def load_npy(path: str | Path) -> np.ndarray:
    """A numeric .npy array (never pickled objects) as float32; unreadable files name the path."""
    path = require_file(path)
    try:
        arr = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise DataError(f"{path}: not a readable numeric .npy file ({exc})") from None
    if arr.dtype.kind not in "iuf":
        raise DataError(f"{path}: expected a numeric array, got dtype {arr.dtype}")
    return arr.astype(np.float32, copy=False)


def check_features(features: np.ndarray, present: np.ndarray | None, where: str) -> None:
    """NaN/inf in a feature matrix is an error naming `where` and the first bad row."""
    finite = np.isfinite(features).all(axis=1)
    if present is not None:
        finite |= ~present
    if not finite.all():
        raise DataError(f"{where}: non-finite value (NaN/inf) in row {int(np.flatnonzero(~finite)[0])}")


def feature_modality(name: str, path: str | Path, n_items: int, kind: str | None = None,
                     item_ids: np.ndarray | None = None) -> Modality:
    """One modality from an (items x d) .npy matrix: row i = item i.

    With a provenance sidecar (see `provenance`) the file is verified against it, the items it
    lists as missing are absent, the kind defaults to the recorded one and `info["extractor"]`
    holds the extractor's record; with `item_ids` too, rows are matched to those items by id (so
    the file may cover a superset, e.g. the items before k-core filtering).
    """
    path = Path(path)
    arr = load_npy(path)
    if arr.ndim != 2:
        raise DataError(f"{path}: expected a 2-D (items x dims) array, got shape {arr.shape}")
    record = read_sidecar(path, arr.shape)
    rows = None if record is None or item_ids is None else sidecar_rows(record, np.asarray(item_ids), path)
    if rows is None and arr.shape[0] != n_items:
        raise DataError(f"{path}: {arr.shape[0]} feature rows but the dataset has {n_items} items")
    if record is None:
        check_features(arr, None, str(path))
        return Modality(name, modality_kind(name, kind), arr, np.ones(n_items, bool), source=str(path))
    rows = np.arange(n_items) if rows is None else rows
    recorded = record["modality"].get("kind")
    if kind is not None and recorded is not None and kind != recorded:
        raise DataError(f"{path}: its sidecar records {recorded} features, but modality {name!r} is {kind}")
    present = present_rows(record)[rows]
    check_features(arr[rows], present, str(path))
    return Modality(name, modality_kind(name, kind or recorded), arr[rows], present, source=str(path),
                    info={"extractor": provenance_info(record, path)})


def raw_modality(name: str, kind: str, raw: Sequence[object | None], source: str = "") -> Modality:
    """A modality holding raw content only (features n_items x 0 until an extractor fills them);
    items whose raw entry is not a non-empty string (text or path) are marked absent."""
    present = np.array([isinstance(r, str) and r != "" for r in raw], dtype=bool)
    return Modality(name, kind, np.zeros((len(raw), 0), np.float32), present,
                    raw=[r if p else None for r, p in zip(raw, present)], source=source,
                    info={"needs_extraction": True})


def modality_kind(name: str, kind: str | None = None) -> str:
    """`kind` if given, else the name when it is a known kind, else 'other'."""
    kind = kind or (name if name in KINDS else "other")
    if kind not in KINDS:
        raise ConfigError(f"modality {name!r}: unknown kind {kind!r}; expected one of {KINDS}")
    return kind
