"""Raw-content datasets: an interaction table, an item table with text columns and a folder of
item images. Modalities hold raw content (text strings, image paths) and empty features
(n_items x 0) until a feature extractor fills them.

Layout (tab- or comma-separated with a header; `.csv` files follow CSV quoting, see `tables`):
- `interactions.tsv` or `interactions.csv`: user, item[, rating][, timestamp][, split] (aliases
  such as user_id/userId/itemID/movieId accepted). A `split` (or `x_label`) column with
  train/valid/test (also val/validation) or 0/1/2 becomes the dataset's fixed split;
- `items.tsv` or `items.csv`: an `item` column (else the first column) plus text columns; every
  item of the interactions must be listed here, and items without interactions are kept (cold
  items);
- `images/<item>.jpg` (or .jpeg/.png): an item without an image file lacks the image modality.
  Without an images folder the dataset has no image modality.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from ...errors import DataError
from ..dataset import Dataset
from ..feedback import DEFAULT, apply_feedback
from ..modality import Modality
from . import (
    assemble,
    canonical_column,
    check_finite,
    drop_duplicates,
    id_index,
    lookup,
    missing_file_error,
    raw_modality,
    read_table,
    require_file,
    source_column,
)
from .tables import TextTable

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
TOKEN_DTYPES = {"user": str, "item": str, "rating": np.float64, "timestamp": np.float64}
SPLIT_LABELS = {"0": 0, "train": 0, "1": 1, "valid": 1, "val": 1, "validation": 1, "2": 2, "test": 2}
INTERACTION_FILES = ("interactions.tsv", "interactions.csv")
ITEM_FILES = ("items.tsv", "items.csv")


def read_token_interactions(path: Path, header: bool = True, names: Sequence[str] | None = None,
                            dtypes: dict[str, object] = TOKEN_DTYPES) -> pd.DataFrame:
    """An interaction table with string user/item tokens (not yet coded)."""
    table = read_table(path, dtypes, required=("user", "item"), header=header, names=names)
    check_finite(table, ("rating", "timestamp"))
    return table


def code_interactions(table: pd.DataFrame, items: pd.Index, duplicates: str) -> tuple[pd.DataFrame, pd.Index]:
    """Add `u`/`i` codes (users: every user in the table; items: `items`) and check duplicates."""
    users = id_index(table["user"])
    table = table.assign(u=tokens(users).get_indexer(table["user"]),
                         i=lookup(table, "item", tokens(items), "item"))
    return drop_duplicates(table, duplicates), users


def tokens(index: pd.Index) -> pd.Index:
    """An id index as the string tokens it was read from (ids are matched as strings)."""
    return pd.Index(index.astype(str))


def read_items(path: Path, text_columns: Sequence[str] | None) -> tuple[pd.Index, list[str | None]]:
    """Item ids and one text per item (non-empty text columns joined by '. ')."""
    table = TextTable.open(require_file(path))
    repeated = [c for i, c in enumerate(table.first) if c in table.first[:i]]
    if repeated:
        raise DataError(f"{path}: column {repeated[0]!r} appears twice in the header")
    items = table.frame({i: str for i in range(table.width)}).set_axis(table.first, axis=1)
    if items.empty:
        raise DataError(f"{path}: no data rows")
    canon = [canonical_column(c) for c in items.columns]
    id_col = items.columns[canon.index("item")] if "item" in canon else items.columns[0]
    columns = [c for c in items.columns if c != id_col] if text_columns is None else list(text_columns)
    unknown = [c for c in columns if c not in items.columns]
    if unknown:
        raise DataError(f"{path}: missing text column(s) {unknown}; found {list(items.columns)}")
    dup = items[id_col].duplicated().to_numpy()
    if dup.any():
        row = int(np.flatnonzero(dup)[0])
        raise DataError(f"{path} line {table.row_lines()[row]}: item {items[id_col].iloc[row]!r} is listed twice")
    index = id_index(items[id_col])
    text = pd.Series("", index=items.index)
    for col in columns:  # join the non-empty values of the text columns with ". "
        value = items[col].str.strip()
        text = text + np.where((text != "") & (value != ""), ". ", "") + value
    texts = np.full(len(index), None, dtype=object)
    texts[tokens(index).get_indexer(items[id_col])] = text.to_numpy(object)
    return index, [t or None for t in texts.tolist()]


def image_paths(folder: Path, item_ids: pd.Index, suffixes: Sequence[str] = IMAGE_SUFFIXES) -> list[str | None]:
    """`folder/<item><suffix>` for every item that has such a file (one directory listing)."""
    found: dict[str, str] = {}
    for entry in sorted(folder.iterdir(), reverse=True):  # so .jpeg/.jpg win over .png when both exist
        if entry.suffix.lower() in suffixes and entry.is_file():
            found[entry.stem] = str(entry)
    return [found.get(str(item)) for item in item_ids]


def find_file(directory: Path, given: str | None, candidates: Sequence[str], option: str) -> Path:
    """`directory/given`, else the one existing candidate (none or several: an error naming the
    loader `option` that chooses)."""
    if given is not None:
        return require_file(directory / given)
    found = [directory / name for name in candidates if (directory / name).is_file()]
    if len(found) > 1:
        raise DataError(f"{directory}: both {' and '.join(p.name for p in found)} exist; pass {option}= to choose one")
    if not found:
        raise missing_file_error(directory / candidates[0], f"(or {', '.join(candidates[1:])})")
    return found[0]


def split_labels(table: pd.DataFrame, column: str) -> pd.DataFrame:
    """The split column (train/valid/test or 0/1/2, any case) as x_label 0/1/2; others name the line."""
    codes = table["x_label"].str.strip().str.lower().map(SPLIT_LABELS)
    bad = codes.isna().to_numpy()
    if bad.any():
        row = table.iloc[int(np.flatnonzero(bad)[0])]
        raise DataError(f"{row['file']} line {row['line']}: {column} value {row['x_label']!r} is not "
                        "train/valid/test (also val/validation) or 0/1/2")
    return table.assign(x_label=codes.astype(np.int64))


def load_raw(directory: str | Path, interactions: str | None = None, items: str | None = None,
             text_columns: Sequence[str] | None = None, images: str | None = "images",
             image_suffixes: Sequence[str] = IMAGE_SUFFIXES, name: str | None = None,
             duplicates: str = "error", min_rating: float | str | None = DEFAULT) -> Dataset:
    """Load a raw-content directory (see the module docstring); timestamps/ratings are kept.

    `interactions`/`items` name the files (default: the .tsv or .csv of the module docstring);
    `min_rating` chooses the positives (see `mmstudy.data.feedback`).
    """
    directory = Path(directory).expanduser()
    if not directory.is_dir():
        raise DataError(f"dataset directory {directory} does not exist")
    items_path = find_file(directory, items, ITEM_FILES, "items")
    inter_path = find_file(directory, interactions, INTERACTION_FILES, "interactions")
    item_index, texts = read_items(items_path, text_columns)
    table = read_token_interactions(inter_path, dtypes={**TOKEN_DTYPES, "x_label": str})
    split_column = source_column(inter_path, "x_label")
    if split_column is not None:
        table = split_labels(table, split_column)
    table, user_index = code_interactions(table, item_index, duplicates)
    modalities: dict[str, Modality] = {"text": raw_modality("text", "text", texts, source=str(items_path))}
    if images is not None and (directory / images).is_dir():
        paths = image_paths(directory / images, item_index, image_suffixes)
        modalities["image"] = raw_modality("image", "image", paths, source=str(directory / images))
    meta = {"source": "raw", "directory": str(directory), "interactions_file": inter_path.name,
            "items_file": items_path.name, "text_columns": text_columns}
    dataset = assemble(name or directory.name, table, user_index.to_numpy(), item_index.to_numpy(), modalities,
                       meta, fixed_split=split_column and f"{split_column} column of {inter_path.name}")
    return apply_feedback(dataset, min_rating, where=str(inter_path), column=source_column(inter_path, "rating"))
