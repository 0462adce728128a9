"""Named datasets: the built-in synthetic data and the real datasets under the data root.

The root is `$MMSTUDY_DATA` (default `~/.mmstudy/data`); dataset `<name>` lives in
`<root>/<name>/`. Loaders take `root=` to override it, `modalities=` to choose modalities and
`min_rating=` for the implicit-feedback threshold (see `mmstudy.data.feedback`; recorded in
`meta["feedback"]`).
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from ...errors import DataError
from ...registry import Registry
from ..dataset import Dataset
from ..modality import Modality
from ..feedback import DEFAULT, apply_feedback
from . import assemble, check_finite, drop_duplicates, lookup, raw_modality, read_table, source_column
from .mmrec import load_mmrec
from .named import choose_modalities, data_root, dataset_dir  # noqa: F401  (data_root: re-exported by mmstudy.data)
from .raw import image_paths
from .standard import make_loader
from .standard_catalog import STANDARD_DATASETS
from .synthetic import make_synthetic

DATASETS: Registry[Callable[..., Dataset]] = Registry("dataset")

LASTFM_FEATURES = {"text": ("all-MiniLM-L6-v2.npy", "text"), "audio": ("whisper.npy", "audio"),
                   "vggish": ("vggish.npy", "audio")}
MOVIELENS_MODALITIES = ("text", "image", "genres")
MOVIELENS_MIN_RATING = 4


DATASETS.add("synthetic", make_synthetic, "synth")  # the built-in positive control
for _spec in STANDARD_DATASETS:  # the field's standard datasets (standard_catalog.py)
    DATASETS.add(_spec.name, make_loader(_spec), *_spec.aliases)


@DATASETS.register("lastfm-2k", "lastfm", "lfm2k", "hetrec-lastfm")
def load_lastfm_2k(root: str | Path | None = None, modalities: Sequence[str] = ("text", "audio"),
                   raw_text: bool = True, min_rating: float | str | None = DEFAULT) -> Dataset:
    """Last.fm 2K (MMRec format, fixed split). Modalities: text (all-MiniLM-L6-v2 tag embeddings,
    raw = the artist's tag string), audio (Whisper), vggish (VGGish audio)."""
    chosen = choose_modalities("lastfm-2k", modalities, list(LASTFM_FEATURES))
    files = ["lfm2k.inter", *(LASTFM_FEATURES[m][0] for m in chosen)]
    if raw_text and "text" in chosen:
        files += ["lfm2k_og_ids.inter", "lfm2k_text.tsv"]
    directory = dataset_dir("lastfm-2k", files, root)
    dataset = load_mmrec(directory, inter_file="lfm2k.inter", name="lastfm-2k",
                         features={m: LASTFM_FEATURES[m][0] for m in chosen},
                         kinds={m: LASTFM_FEATURES[m][1] for m in chosen}, min_rating=min_rating)
    if raw_text and "text" in chosen:
        text = dataset.modalities["text"]
        raw = lastfm_item_texts(directory, dataset.n_items)
        text = replace(text, raw=raw, info={**text.info, "raw_source": str(directory / "lfm2k_text.tsv")})
        dataset = dataset.with_modalities({**dataset.modalities, "text": text})
    return dataset


def lastfm_item_texts(directory: Path, n_items: int) -> list[str | None]:
    """Tag strings per itemID: lfm2k_og_ids.inter maps each row's itemID to a HetRec artistID."""
    ours = read_table(directory / "lfm2k.inter", {"item": np.int64}, required=("item",))
    original = read_table(directory / "lfm2k_og_ids.inter", {"item": np.int64}, required=("item",))
    if len(original) != len(ours):
        raise DataError(f"{directory / 'lfm2k_og_ids.inter'} has {len(original)} rows but lfm2k.inter has "
                        f"{len(ours)}; they must be row-aligned")
    pairs = pd.DataFrame({"item": ours["item"].to_numpy(), "artist": original["item"].to_numpy()}).drop_duplicates()
    if pairs["item"].duplicated().any():
        item = int(pairs.loc[pairs["item"].duplicated(), "item"].iloc[0])
        raise DataError(f"{directory / 'lfm2k_og_ids.inter'}: itemID {item} maps to several artistIDs")
    texts = read_table(directory / "lfm2k_text.tsv", {"artistID": np.int64, "text": str}, required=("artistID", "text"))
    by_artist = pd.Series(texts["text"].to_numpy(object), index=texts["artistID"].to_numpy())
    raw = np.full(n_items, None, dtype=object)
    known = pairs["artist"].isin(by_artist.index).to_numpy()
    raw[pairs["item"].to_numpy()[known]] = by_artist.loc[pairs["artist"].to_numpy()[known]].to_numpy()
    return raw.tolist()


@DATASETS.register("movielens-100k", "ml-100k", "ml100k", "movielens")
def load_movielens_100k(root: str | Path | None = None, modalities: Sequence[str] = MOVIELENS_MODALITIES,
                        min_rating: float | str | None = DEFAULT) -> Dataset:
    """MovieLens 100K (RecBole atomic files) with raw content.

    - text: raw "title (year). genres" strings, features empty until a text extractor runs;
    - image: raw poster paths (posters/<item_id>.jpg; 36 items have none -> absent), features
      empty until an image extractor runs;
    - genres: a built-in multi-hot (tabular) genre matrix, usable for training without extractors.
    Interactions are ratings >= `min_rating` (default 4; "all" or None keeps all), timestamps kept.
    """
    chosen = choose_modalities("movielens-100k", modalities, MOVIELENS_MODALITIES)
    directory = dataset_dir("movielens-100k", ["ml-100k.inter", "ml-100k.item", *(["posters"] * ("image" in chosen))],
                            root)
    items = read_table(directory / "ml-100k.item", {"item": np.int64, "movie_title": str, "release_year": str,
                                                     "class": str}, required=("item", "movie_title", "class"))
    items = items.sort_values("item", kind="stable").reset_index(drop=True)
    if items["item"].duplicated().any():
        row = items[items["item"].duplicated()].iloc[0]
        raise DataError(f"{row['file']} line {row['line']}: item_id {row['item']} is listed twice")
    item_index = pd.Index(items["item"].to_numpy())
    table = read_table(directory / "ml-100k.inter", {"user": np.int64, "item": np.int64, "rating": np.float64,
                                                      "timestamp": np.float64},
                       required=("user", "item", "rating", "timestamp"))
    check_finite(table, ("rating", "timestamp"))
    users = pd.Index(np.unique(table["user"].to_numpy()))
    table = table.assign(u=users.get_indexer(table["user"]), i=lookup(table, "item", item_index, "item"))
    mods = {key: _MOVIELENS_BUILDERS[key](directory, items, item_index) for key in chosen}
    meta = {"source": "movielens-100k", "directory": str(directory),
            "note": "text/image hold raw content only (dim 0) until features are extracted; "
                    "genres is a ready multi-hot modality"}
    dataset = assemble("movielens-100k", drop_duplicates(table), users.to_numpy(), item_index.to_numpy(), mods, meta)
    inter = directory / "ml-100k.inter"
    return apply_feedback(dataset, min_rating, where=str(inter), column=source_column(inter, "rating"),
                          default=MOVIELENS_MIN_RATING, default_reason="the movielens-100k loader's documented default")


def _movielens_text(directory: Path, items: pd.DataFrame, index: pd.Index) -> Modality:
    """Raw "Title (year). Genre, Genre" strings."""
    year = items["release_year"].str.strip()
    title = items["movie_title"].str.strip() + np.where(year != "", " (" + year + ")", "")
    genres = items["class"].str.split().str.join(", ")
    return raw_modality("text", "text", (title + ". " + genres).tolist(), source=str(directory / "ml-100k.item"))


def _movielens_image(directory: Path, items: pd.DataFrame, index: pd.Index) -> Modality:
    """Raw poster paths; items without a poster lack the modality."""
    return raw_modality("image", "image", image_paths(directory / "posters", index), source=str(directory / "posters"))


def _movielens_genres(directory: Path, items: pd.DataFrame, index: pd.Index) -> Modality:
    """A multi-hot genre matrix (ready-made tabular features)."""
    multi_hot = items["class"].str.get_dummies(sep=" ")
    return Modality("genres", "tabular", multi_hot.to_numpy(np.float32), np.ones(len(index), bool),
                    source=str(directory / "ml-100k.item"), info={"columns": list(multi_hot.columns)})


_MOVIELENS_BUILDERS = {"text": _movielens_text, "image": _movielens_image, "genres": _movielens_genres}
