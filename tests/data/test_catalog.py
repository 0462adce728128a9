"""Real datasets (skipped unless MMSTUDY_DATA holds them)."""
import time

import numpy as np
import pytest

from mmstudy.data import load_dataset, make_split
from mmstudy.data.sources.catalog import data_root

pytestmark = pytest.mark.realdata


def test_lastfm_2k():
    start = time.perf_counter()
    ds = load_dataset("lastfm-2k")
    assert time.perf_counter() - start < 1.0
    assert (ds.n_users, ds.n_items, ds.n_interactions) == (1858, 1425, 56345)
    split = make_split(ds, "fixed")
    assert (split.train.nnz, split.valid.nnz, split.test.nnz) == (44327, 4799, 7219)
    assert list(ds.modalities) == ["text", "audio"]
    assert ds.modalities["text"].dim == 384 and ds.modalities["audio"].dim == 512
    assert ds.modalities["audio"].kind == "audio"
    raw = ds.modalities["text"].raw
    assert all(isinstance(t, str) and t for t in raw)


def test_lastfm_raw_text_matches_artist():
    """itemID 0 is the artist of the first row of lfm2k_og_ids.inter; its tags come from lfm2k_text.tsv."""
    root = data_root() / "lastfm-2k"
    artist = int((root / "lfm2k_og_ids.inter").read_text().split("\n")[1].split("\t")[1])
    texts = dict(line.split("\t", 1) for line in (root / "lfm2k_text.tsv").read_text().splitlines()[1:])
    ds = load_dataset("lastfm-2k", modalities="text,vggish")
    assert ds.modalities["text"].raw[0] == texts[str(artist)]
    assert ds.modalities["vggish"].dim == 128 and ds.modalities["vggish"].features.dtype == np.float32


def test_movielens_100k():
    start = time.perf_counter()
    ds = load_dataset("movielens-100k")
    assert time.perf_counter() - start < 2.0
    assert (ds.n_users, ds.n_items) == (943, 1682)
    assert ds.meta["min_rating"] == 4 and ds.n_interactions == int((ds.ratings.data >= 4).sum())
    image, text, genres = ds.modalities["image"], ds.modalities["text"], ds.modalities["genres"]
    assert int((~image.present).sum()) == 36 and image.dim == 0
    assert text.raw[0] == "Toy Story (1995). Animation, Children's, Comedy"
    assert genres.kind == "tabular" and genres.dim == 19 and genres.features[0].sum() == 3
    assert ds.timestamps is not None
    assert load_dataset("movielens-100k", min_rating=None, modalities=["genres"]).n_interactions == 100000
