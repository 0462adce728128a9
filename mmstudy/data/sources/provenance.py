"""Provenance sidecars of feature files: `<name>.npy.provenance.json` next to `<name>.npy`.

`python -m mmstudy data extract` writes a feature matrix together with a sidecar that says how it
was made (extractor, weights, source content, item order, the command). A loader that reads a
.npy with a sidecar verifies it (the file's SHA-256 and row count, the item ids) and carries the
extractor record onto the modality, so cell manifests name the extractor instead of an anonymous
file; items the sidecar lists as missing (no raw content) are absent. A .npy without a sidecar
loads as before. Sidecar keys (format 1): `format`, `features` {file, sha256, shape, dtype},
`modality` {name, kind}, `items` {count, ids, present, missing}, `dataset`, `source`,
`extractor` (the record cell manifests keep), `environment`, `command`, `created`.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ...errors import DataError, decode_utf8
from ...hashing import atomic_path, file_sha256, write_json

SUFFIX = ".provenance.json"
FORMAT = "mmstudy-feature-provenance/1"
_REQUIRED = ("format", "features", "modality", "items", "extractor")


def sidecar_path(features: str | os.PathLike) -> Path:
    """The sidecar of a feature file: `<file>.provenance.json` beside it."""
    features = Path(features)
    return features.with_name(features.name + SUFFIX)


def read_sidecar(features: Path, shape: tuple[int, ...]) -> dict[str, Any] | None:
    """The sidecar of `features` (a loaded array of `shape`), verified; None when there is none.

    The file's SHA-256 and shape must be those the sidecar records, and its item list must have
    one id per row; any difference is one DataError naming both files.
    """
    side = sidecar_path(features)
    if not side.is_file():
        return None
    try:
        record = json.loads(decode_utf8(side.read_bytes(), side))
    except json.JSONDecodeError as exc:
        raise DataError(f"{side}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    missing = [k for k in _REQUIRED if not isinstance(record, dict) or k not in record]
    if missing:
        raise DataError(f"{side}: not a feature provenance sidecar (missing key {missing[0]!r})")
    if record["format"] != FORMAT:
        raise DataError(f"{side}: unknown sidecar format {record['format']!r} (this version reads {FORMAT!r})")
    expected, actual = record["features"].get("sha256"), file_sha256(features)
    if actual != expected:
        raise DataError(f"{features} has SHA-256 {actual}, but its provenance sidecar {side.name} records "
                        f"{expected}: the features changed after extraction; extract them again (or delete "
                        "the sidecar to use them as anonymous features)")
    items = record["items"]
    if list(record["features"].get("shape", ())) != list(shape) or len(items.get("ids", ())) != shape[0]:
        raise DataError(f"{side} describes {len(items.get('ids', ()))} items "
                        f"(features {record['features'].get('shape')}), but {features.name} holds {list(shape)}: "
                        "the sidecar belongs to another feature file")
    return record


def sidecar_rows(record: Mapping[str, Any], item_ids: np.ndarray, features: Path) -> np.ndarray:
    """The feature-file row of each of `item_ids` (ids are matched as strings); an item the
    sidecar does not list is a DataError (the features were extracted for other items)."""
    ids = pd.Index([str(i) for i in record["items"]["ids"]])
    rows = ids.get_indexer([str(i) for i in item_ids])
    if (rows < 0).any():
        first = np.asarray(item_ids)[int(np.flatnonzero(rows < 0)[0])]
        first = first.item() if isinstance(first, np.generic) else first
        raise DataError(f"{sidecar_path(features)} records features of {len(ids)} items, but the dataset has "
                        f"{len(item_ids)} and item {first!r} is not among them ({int((rows < 0).sum())} unmatched)"
                        ": the features were extracted for another dataset or item set")
    return rows


def present_rows(record: Mapping[str, Any]) -> np.ndarray:
    """Per feature-file row: False where the sidecar lists the item as missing (no raw content)."""
    ids = pd.Index([str(i) for i in record["items"]["ids"]])
    return ~ids.isin([str(i) for i in record["items"].get("missing", ())])


def provenance_info(record: Mapping[str, Any], features: Path) -> dict[str, Any]:
    """The extractor record a loaded modality carries (cell manifests copy it): the extractor's
    own record plus where the features came from."""
    source = record.get("source") or {}
    return {**record["extractor"], "provenance": {
        "sidecar": str(sidecar_path(features)), "features_sha256": record["features"]["sha256"],
        "created": record.get("created"), "command": record.get("command"),
        "dataset": (record.get("dataset") or {}).get("name"),
        "source": {k: source.get(k) for k in ("kind", "path", "column", "sha256", "content_sha256")},
        "missing_items": len(record["items"].get("missing", ()))}}


def write_features(path: Path, features: np.ndarray, record: Mapping[str, Any]) -> dict[str, Any]:
    """Write `features` (float32) to `path` and its sidecar (`record` plus the file's SHA-256, shape
    and format), atomically: the sidecar is written before the .npy is renamed into place, so an
    interruption leaves either nothing new or both files; returns the sidecar written."""
    features = np.ascontiguousarray(features, dtype=np.float32)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            np.save(handle, features, allow_pickle=False)
        full = {"format": FORMAT, **record, "features": {
            "file": path.name, "sha256": file_sha256(tmp), "shape": list(features.shape), "dtype": "float32"}}
        write_json(sidecar_path(path), full)
    return full
