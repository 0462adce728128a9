"""Raw item content (texts, image paths) read from a file or folder, aligned with a dataset's items.

A content source is written `FILE:COLUMN` (a column of a TSV/CSV table with one row per item) or
`FOLDER` (image files named by item id, `<item>.jpg/.jpeg/.png`). A relative path is taken from
the dataset folder (from the current folder for a dataset without one). The table's item ids are
in `id_column`, else its item column (itemID, item_id, ... as the loaders accept), else its first
column; they are matched to the dataset's ids as strings, rows of other items are ignored (and
counted). For images, a column holds paths relative to the dataset folder, which may not leave it.
"""
from __future__ import annotations

import difflib
import os
from pathlib import Path, PurePath
from typing import Any

import numpy as np
import pandas as pd

from ...errors import ConfigError, DataError
from ...hashing import file_sha256
from . import canonical_column
from .raw import image_paths
from .tables import TextTable


def item_content(source: str, item_ids: np.ndarray, kind: str, directory: str | Path | None = None,
                 id_column: str | None = None) -> tuple[list[str | None], dict[str, Any]]:
    """(one raw entry per item, or None; a record of the source) for a `kind` ('text' or 'image')
    modality of the dataset whose items are `item_ids` and whose folder is `directory`."""
    base = Path(directory).expanduser() if directory is not None else Path.cwd()
    path, column = _locate(source, base)
    if path.is_dir():
        if kind != "image":
            raise ConfigError(f"content source {source!r}: a folder holds image files, but the {kind} modality needs "
                              "a table column: FILE:COLUMN")
        raw = image_paths(path, pd.Index(np.asarray(item_ids)))
        return raw, {"kind": "image folder", "path": str(path), "column": None, "sha256": None}
    table = TextTable.open(path)
    if column is None:
        raise ConfigError(f"content source {source!r}: name the content column as {source}:COLUMN; columns of "
                          f"{path.name}: {', '.join(table.first)}")
    frame = table.frame({i: str for i in range(table.width)})
    id_name = _id_column(table, id_column)
    content, ids = (frame[_column_index(table, name, path)].str.strip() for name in (column, id_name))
    lines = table.row_lines()
    _check_unique(ids, lines, path)
    positions = pd.Index([str(i) for i in item_ids]).get_indexer(ids)
    matched = positions >= 0
    if kind == "image":
        content = _image_paths(content, lines, path, base)
    raw = np.full(len(item_ids), None, dtype=object)
    raw[positions[matched]] = content.to_numpy(object)[matched]
    record = {"kind": "table column", "path": str(path), "column": column, "id_column": id_name,
              "sha256": file_sha256(path), "rows": len(frame), "unmatched_rows": int((~matched).sum())}
    return [r or None for r in raw.tolist()], record


def _locate(source: str, base: Path) -> tuple[Path, str | None]:
    """The source's path (relative to `base`) and column: `FILE:COLUMN`, or a bare file/folder."""
    whole = base / Path(source).expanduser()
    if whole.exists():
        return whole, None
    name, sep, column = source.rpartition(":")
    path = base / Path(name).expanduser()
    if sep and path.is_file():
        return path, column
    raise DataError(f"content source {source!r}: {path if sep else whole} does not exist (give FILE:COLUMN "
                    "or an image FOLDER, relative to the dataset folder)")


def _id_column(table: TextTable, given: str | None) -> str:
    """The item id column: `given`, else the table's item column, else its first column."""
    if given is not None:
        return given
    canon = [canonical_column(c) for c in table.first]
    return table.first[canon.index("item")] if "item" in canon else table.first[0]


def _column_index(table: TextTable, name: str, path: Path) -> int:
    if name in table.first:
        return table.first.index(name)
    close = difflib.get_close_matches(name, table.first, n=1, cutoff=0.5)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise DataError(f"{path}: no column {name!r}.{hint} Columns: {', '.join(table.first)}")


def _check_unique(ids: pd.Series, lines: np.ndarray, path: Path) -> None:
    dup = ids.duplicated().to_numpy()
    if dup.any():
        row = int(np.flatnonzero(dup)[0])
        raise DataError(f"{path} line {lines[row]}: item {ids.iloc[row]!r} is listed twice")


def _image_paths(values: pd.Series, lines: np.ndarray, path: Path, base: Path) -> pd.Series:
    """Image paths of a column, relative to `base`; an absolute path or one that leaves `base`
    (through '..') is an error naming the table line."""
    def escapes(value: str) -> bool:
        return bool(value) and (PurePath(value).is_absolute() or os.path.normpath(value).split(os.sep)[0] == "..")

    bad = values.map(escapes).to_numpy(bool)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(f"{path} line {lines[row]}: image path {values.iloc[row]!r} leaves the dataset folder "
                        f"{base}; paths must be relative to it and stay inside it")
    return values.map(lambda v: str(base / os.path.normpath(v)) if v else "")

