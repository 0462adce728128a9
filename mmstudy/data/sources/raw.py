"""Raw-content datasets: an interaction table, an item table with text columns and a folder of
item images. Modalities hold raw content (text strings, image paths) and empty features
(n_items x 0) until a feature extractor fills them.

Layout (all tab-separated with a header):
- `interactions.tsv`: user, item[, rating][, timestamp] (aliases such as user_id/itemID accepted);
- `items.tsv`: an `item` column (else the first column) plus text columns; every item of the
  interactions must be listed here, and items without interactions are kept (cold items);
- `images/<item>.jpg` (or .jpeg/.png): an item without an image file lacks the image modality.
  Without an images folder the dataset has no image modality.
"""
from __future__ import annotations

import csv
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from ...errors import DataError
from ..dataset import Dataset
from ..modality import Modality
from ..preprocess import preprocess
from . import assemble, canonical_column, check_finite, drop_duplicates, id_index, lookup, raw_modality, \
    read_table, require_file

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
TOKEN_DTYPES = {"user": str, "item": str, "rating": np.float64, "timestamp": np.float64}


def read_token_interactions(path: Path, header: bool = True, names: Sequence[str] | None = None) -> pd.DataFrame:
    """An interaction table with string user/item tokens (not yet coded)."""
    table = read_table(path, TOKEN_DTYPES, required=("user", "item"), header=header, names=names)
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
    try:
        items = pd.read_csv(require_file(path), sep="\t", dtype=str, keep_default_na=False,
                            quoting=csv.QUOTE_NONE, engine="c")
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"{path}: malformed or empty item table ({exc})") from None
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
        raise DataError(f"{path} line {row + 2}: item {items[id_col].iloc[row]!r} is listed twice")
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


def load_raw(directory: str | Path, interactions: str = "interactions.tsv", items: str = "items.tsv",
             text_columns: Sequence[str] | None = None, images: str | None = "images",
             image_suffixes: Sequence[str] = IMAGE_SUFFIXES, name: str | None = None,
             duplicates: str = "error", min_rating: float | None = None) -> Dataset:
    """Load a raw-content directory (see the module docstring); timestamps/ratings are kept."""
    directory = Path(directory).expanduser()
    if not directory.is_dir():
        raise DataError(f"dataset directory {directory} does not exist")
    item_index, texts = read_items(directory / items, text_columns)
    table = read_token_interactions(directory / interactions)
    table, user_index = code_interactions(table, item_index, duplicates)
    modalities: dict[str, Modality] = {"text": raw_modality("text", "text", texts, source=str(directory / items))}
    if images is not None and (directory / images).is_dir():
        paths = image_paths(directory / images, item_index, image_suffixes)
        modalities["image"] = raw_modality("image", "image", paths, source=str(directory / images))
    meta = {"source": "raw", "directory": str(directory), "interactions_file": interactions,
            "items_file": items, "text_columns": text_columns, "min_rating": min_rating}
    dataset = assemble(name or directory.name, table, user_index.to_numpy(), item_index.to_numpy(),
                       modalities, meta)
    return preprocess(dataset, min_rating=min_rating)
