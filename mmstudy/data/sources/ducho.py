"""Ducho/Elliot layout: `train.tsv`, `val.tsv` (or `valid.tsv`), `test.tsv` plus per-item feature
vectors `<modality>_features/<extractor...>/<item>.npy`.

- Interaction files hold user, item[, rating][, timestamp] by position. A first line whose first
  field is a user-column name (user, userID, user_id, ...) is a header and then columns are
  matched by name; otherwise the file has no header (Elliot's default).
- The three files give the fixed split. Items are those of the interactions plus those with any
  feature file; ids that are all integers are sorted numerically.
- Every folder below `visual_features/`, `textual_features/` or `audio_features/` (any
  `*_features/`) that directly holds .npy files is one modality; it is named by its kind
  (image/text/audio) when it is the only one of that kind, else `<kind>_<sub_path>` (e.g.
  `image_torch_ResNet50_avgpool`). Items without a file there lack that modality.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ...errors import DataError
from ..dataset import Dataset
from ..feedback import DEFAULT, apply_feedback
from ..modality import Modality
from . import (
    ALIASES,
    assemble,
    canonical_column,
    check_features,
    id_index,
    load_npy,
    missing_file_error,
    modality_kind,
    read_header,
)
from .raw import code_interactions, read_token_interactions

SPLIT_FILES = {0: ("train.tsv",), 1: ("val.tsv", "valid.tsv", "validation.tsv"), 2: ("test.tsv",)}
POSITIONAL = ("user", "item", "rating", "timestamp")
KIND_PREFIXES = {"visual": "image", "image": "image", "textual": "text", "text": "text", "audio": "audio",
                 "acoustic": "audio", "video": "video"}


def _split_file(directory: Path, part: int) -> Path:
    for name in SPLIT_FILES[part]:
        if (directory / name).is_file():
            return directory / name
    raise missing_file_error(directory / SPLIT_FILES[part][0],
                             f"a Ducho/Elliot dataset needs train.tsv, val.tsv and test.tsv in {directory}")


def read_split_file(path: Path) -> pd.DataFrame:
    """One split file, with or without header (see the module docstring)."""
    first = read_header(path)
    has_header = first[0].split(":", 1)[0].strip().lower() in ALIASES["user"]
    names = None if has_header else POSITIONAL[:len(first)]
    return read_token_interactions(path, header=has_header, names=names)


def rating_column(path: Path) -> str | None:
    """How a split file names its rating column: the header name, or "rating" (the 3rd field) without one."""
    first = read_header(path)
    if first[0].split(":", 1)[0].strip().lower() in ALIASES["user"]:
        return next((c for c in first if canonical_column(c) == "rating"), None)
    return "rating" if len(first) > 2 else None


def check_same_columns(paths: list[Path], parts: list[pd.DataFrame]) -> None:
    """Ratings/timestamps must be in every split file or in none (else some rows would lack them)."""
    for col in ("rating", "timestamp"):
        has = [col in part for part in parts]
        if any(has) and not all(has):
            lacking, having = paths[has.index(False)], paths[has.index(True)]
            raise DataError(f"{lacking} has no {col} column but {having.name} has one; "
                            "give every split file the same columns")


def feature_folders(directory: Path) -> dict[str, Path]:
    """Modality name -> folder of per-item .npy files (see the module docstring)."""
    leaves: list[tuple[str, Path]] = []
    for root in sorted(p for p in directory.glob("*_features") if p.is_dir()):
        kind = KIND_PREFIXES.get(root.name[:-len("_features")].lower(), "other")
        folders = sorted({f.parent for f in root.rglob("*.npy")})
        leaves += [(kind, folder) for folder in folders]
    kinds = [k for k, _ in leaves]
    return {(kind if kinds.count(kind) == 1 else
             f"{kind}_{'_'.join(folder.relative_to(directory).parts[1:]) or 'features'}"): folder
            for kind, folder in leaves}


def per_item_modality(name: str, folder: Path, item_ids: pd.Index, kind: str | None = None) -> Modality:
    """Stack `<folder>/<item>.npy` vectors; items without a file are absent (zeros)."""
    files = {p.stem: p for p in folder.glob("*.npy")}
    present = np.array([str(item) in files for item in item_ids], dtype=bool)
    if not present.any():
        raise DataError(f"{folder}: no .npy file matches any item id")
    vectors: list[np.ndarray] = []
    for item in item_ids[present]:
        path = files[str(item)]
        vec = load_npy(path).reshape(-1)
        if vectors and vec.shape != vectors[0].shape:
            raise DataError(f"{path}: {vec.size} values, but other items in {folder} have {vectors[0].size}")
        check_features(vec[None], None, str(path))
        vectors.append(vec)
    features = np.zeros((len(item_ids), vectors[0].size), np.float32)
    features[present] = np.stack(vectors)
    return Modality(name, modality_kind(name, kind), features, present, source=str(folder))


def load_ducho(directory: str | Path, modalities: dict[str, str] | None = None,
               kinds: dict[str, str] | None = None, name: str | None = None, duplicates: str = "error",
               min_rating: float | str | None = DEFAULT) -> Dataset:
    """Load a Ducho/Elliot directory. `modalities` maps names to feature folders relative to
    `directory` (default: discovered, see the module docstring); `kinds` overrides kinds;
    `min_rating` chooses the positives (see `mmstudy.data.feedback`)."""
    directory = Path(directory).expanduser()
    if not directory.is_dir():
        raise DataError(f"dataset directory {directory} does not exist")
    paths = [_split_file(directory, part) for part in SPLIT_FILES]
    parts = [read_split_file(path).assign(x_label=part) for part, path in zip(SPLIT_FILES, paths)]
    check_same_columns(paths, parts)
    table = pd.concat(parts, ignore_index=True)
    folders = feature_folders(directory) if modalities is None else \
        {key: directory / rel for key, rel in modalities.items()}
    for key, folder in folders.items():
        if not folder.is_dir():
            raise DataError(f"modality {key!r}: feature folder {folder} does not exist")
    stems = {p.stem for folder in folders.values() for p in folder.glob("*.npy")}
    item_index = id_index(pd.concat([table["item"], pd.Series(sorted(stems), dtype=str)]))
    table, user_index = code_interactions(table, item_index, duplicates)
    kinds = kinds or {}
    mods = {key: per_item_modality(key, folder, item_index, kinds.get(key) or _folder_kind(folder, directory))
            for key, folder in folders.items()}
    meta = {"source": "ducho", "directory": str(directory), "feature_folders":
            {k: str(f.relative_to(directory)) if f.is_relative_to(directory) else str(f) for k, f in folders.items()}}
    dataset = assemble(name or directory.name, table, user_index.to_numpy(), item_index.to_numpy(), mods, meta,
                       fixed_split="train.tsv/val.tsv/test.tsv")
    where = f"{directory}/{{{','.join(p.name for p in paths)}}}"
    return apply_feedback(dataset, min_rating, where=where, column=rating_column(paths[0]))


def _folder_kind(folder: Path, directory: Path) -> str | None:
    """The kind implied by the `<prefix>_features` folder a feature folder lives in."""
    rel = folder.relative_to(directory).parts if folder.is_relative_to(directory) else folder.parts
    for part in rel:
        if part.endswith("_features"):
            return KIND_PREFIXES.get(part[:-len("_features")].lower(), "other")
    return None
