"""MMRec-format datasets: `<name>.inter` (userID, itemID, [rating], x_label) plus per-modality
`.npy` feature matrices whose row i belongs to itemID i.

Conventions (checked, each violation is a DataError naming the file and line):
- ids are non-negative integers; users are 0..max(userID), items 0..n-1 where n is the row
  count shared by all feature files (or max(itemID)+1 without features);
- x_label is 0/1/2 = train/valid/test and becomes `Dataset.fixed_split`;
- a repeated (userID, itemID) pair is an error by default; `duplicates="drop"` keeps the first.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ...errors import DataError
from ..dataset import Dataset
from ..feedback import DEFAULT, apply_feedback
from . import assemble, canonical_column, check_finite, drop_duplicates, feature_modality, read_header, \
    read_table, require_file, source_column

INTER_DTYPES = {"user": np.int64, "item": np.int64, "rating": np.float64, "timestamp": np.float64,
                "x_label": np.int64}
# header names as MMRec writes them (messages use these)
_DISPLAY = {"user": "userID", "item": "itemID"}


def find_inter_file(directory: Path) -> Path:
    """The `.inter` file with an x_label column: `<directory name>.inter` or the only candidate."""
    candidates = sorted(p for p in directory.glob("*.inter")
                        if "x_label" in [canonical_column(c) for c in read_header(p)])
    preferred = [p for p in candidates if p.stem == directory.name]
    if preferred or len(candidates) == 1:
        return (preferred or candidates)[0]
    if not candidates:
        raise DataError(f"{directory}: no MMRec interaction file (*.inter with userID, itemID, x_label) found; "
                        f"contents: {sorted(p.name for p in directory.iterdir())}")
    raise DataError(f"{directory}: several candidate .inter files {[p.name for p in candidates]}; "
                    "pass inter_file= to choose one")


def read_mmrec_interactions(path: Path, duplicates: str = "error") -> pd.DataFrame:
    """The interaction table of an MMRec .inter file, validated (ids, x_label, duplicates)."""
    table = read_table(path, INTER_DTYPES, required=("user", "item", "x_label"))
    check_finite(table, ("rating", "timestamp"))
    for col in ("user", "item"):
        negative = table[col].to_numpy() < 0
        if negative.any():
            row = table.iloc[int(np.flatnonzero(negative)[0])]
            raise DataError(f"{path} line {row['line']}: {_DISPLAY[col]} {row[col]} is negative")
    bad = ~table["x_label"].isin((0, 1, 2)).to_numpy()
    if bad.any():
        row = table.iloc[int(np.flatnonzero(bad)[0])]
        raise DataError(f"{path} line {row['line']}: x_label {row['x_label']} is not 0, 1 or 2 (train/valid/test)")
    table = table.assign(u=table["user"], i=table["item"])
    return drop_duplicates(table, duplicates)


def load_mmrec(directory: str | Path, inter_file: str | None = None, features: dict[str, str] | None = None,
               kinds: dict[str, str] | None = None, name: str | None = None, duplicates: str = "error",
               min_rating: float | str | None = DEFAULT) -> Dataset:
    """Load an MMRec-format directory.

    `features` maps modality names to .npy files in `directory` (default: every .npy file, named
    by its stem); `kinds` maps modality names to kinds (default: the name if it is a kind, else
    'other'). `min_rating`: which rows are positives (a threshold, "all" or "default"; see
    `mmstudy.data.feedback`).
    """
    directory = Path(directory).expanduser()
    if not directory.is_dir():
        raise DataError(f"dataset directory {directory} does not exist")
    path = directory / inter_file if inter_file else find_inter_file(directory)
    table = read_mmrec_interactions(path, duplicates)
    if features is None:
        features = {p.stem: p.name for p in sorted(directory.glob("*.npy"))}
    n_items = _item_count(directory, path, table, features)
    kinds = kinds or {}
    modalities = {key: feature_modality(key, directory / file, n_items, kinds.get(key), item_ids=np.arange(n_items))
                  for key, file in features.items()}  # ids: a provenance sidecar must list items 0..n-1
    n_users = int(table["u"].max()) + 1
    meta = {"source": "mmrec", "directory": str(directory), "interactions_file": path.name,
            "feature_files": dict(features)}
    dataset = assemble(name or directory.name, table, np.arange(n_users), np.arange(n_items),
                       modalities, meta, fixed_split=f"x_label column of {path.name}")
    return apply_feedback(dataset, min_rating, where=str(path), column=source_column(path, "rating"))


def _item_count(directory: Path, inter_path: Path, table: pd.DataFrame, features: dict[str, str]) -> int:
    """Items = the row count shared by all feature files; every itemID must be below it."""
    counts = {file: _row_count(directory / file) for file in features.values()}
    if len(set(counts.values())) > 1:
        raise DataError(f"{directory}: feature files disagree on the number of items: {counts}")
    max_item = int(table["i"].max())
    if not counts:
        return max_item + 1
    file, n_items = next(iter(counts.items()))
    if max_item >= n_items:
        row = table.iloc[int(np.flatnonzero(table["i"].to_numpy() >= n_items)[0])]
        raise DataError(f"{directory / file}: {n_items} feature rows but {inter_path.name} line {row['line']} "
                        f"refers to itemID {row['i']} (items must be 0..{n_items - 1})")
    return n_items


def _row_count(path: Path) -> int:
    """Rows of a .npy matrix, read through a memory map (the data is not loaded)."""
    require_file(path)
    try:
        shape = np.load(path, mmap_mode="r", allow_pickle=False).shape
    except (ValueError, OSError) as exc:
        raise DataError(f"{path}: not a readable .npy file ({exc})") from None
    return int(shape[0]) if shape else 0
