"""The implicit-feedback rule: which rows become positives, and the record of that decision."""
import json
import warnings
from dataclasses import replace

import numpy as np
import pytest

from mmstudy.data import load_dataset, load_ducho, load_mmrec, load_raw, make_synthetic
from mmstudy.data.feedback import MAX_RECORDED, apply_feedback, check_min_rating, describe, distribution
from mmstudy.errors import ConfigError, DataError

from .files import MMREC_ROWS, write_tsv

HEADER = ["userID", "itemID", "rating", "x_label"]
RECORD_KEYS = {"rating_column", "file", "requested", "min_rating", "rule", "kept", "dropped", "distribution",
               "distinct", "range", "summary"}


def with_ratings(directory, ratings):
    rows = [r[:2] + [v] + r[3:] for r, v in zip(MMREC_ROWS, ratings)]
    write_tsv(directory / "toy.inter", HEADER, rows)
    return directory


def quiet(load, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the implicit/user rules never warn
        return load(*args, **kwargs)


@pytest.mark.parametrize("value, expected", [(4, 4.0), (3.5, 3.5), ("all", "all"), (None, "all"),
                                             ("default", "default")])
def test_min_rating_values(value, expected):
    assert check_min_rating(value) == expected


@pytest.mark.parametrize("value", ["4", "none", True, float("nan"), float("inf"), [4]])
def test_min_rating_rejects(value):
    with pytest.raises(ConfigError, match="min_rating="):
        check_min_rating(value)


def test_all_ones_is_implicit(mmrec_dir):
    ds = quiet(load_mmrec, mmrec_dir)
    fb = ds.meta["feedback"]
    assert fb["rule"] == "implicit" and fb["rating_column"] == "rating" and fb["distribution"] == {"1": 7}
    assert (fb["kept"], fb["dropped"], fb["min_rating"]) == (7, 0, None) and ds.n_interactions == 7
    assert fb["summary"] == "every rating is 1: implicit feedback, every row is a positive"


def test_no_rating_column_is_implicit(mmrec_dir):
    write_tsv(mmrec_dir / "toy.inter", ["userID", "itemID", "x_label"], [r[:2] + r[3:] for r in MMREC_ROWS])
    fb = quiet(load_mmrec, mmrec_dir).meta["feedback"]
    assert fb["rating_column"] is None and fb["rule"] == "implicit" and fb["distribution"] is None
    assert fb["kept"] == 7


def test_like_dislike_needs_a_choice_and_threshold_drops_dislikes(mmrec_dir):
    with_ratings(mmrec_dir, [1, 0, 1, 0, 1, 1, 0])
    with pytest.raises(DataError, match=r"\(0: 3, 1: 4\).*min_rating=1 keeps the 4 rows"):
        load_mmrec(mmrec_dir)
    ds = quiet(load_mmrec, mmrec_dir, min_rating=1)
    assert ds.n_interactions == 4 and (ds.ratings.data == 1).all()
    fb = ds.meta["feedback"]
    assert (fb["rule"], fb["min_rating"], fb["kept"], fb["dropped"]) == ("user", 1.0, 4, 3)
    assert fb["distribution"] == {"0": 3, "1": 4} and ds.meta["min_rating"] == 1
    # the fixed split loses exactly the dropped rows
    split = ds.fixed_split
    assert (split.train + split.valid + split.test != ds.interactions).nnz == 0
    everything = quiet(load_mmrec, mmrec_dir, min_rating="all")
    assert everything.n_interactions == 7 and everything.meta["feedback"]["rule"] == "user"
    assert everything.meta["feedback"]["summary"] == "every row is a positive, as requested (min_rating='all')"


def test_graded_ratings_keep_every_row_with_a_warning(mmrec_dir):
    with_ratings(mmrec_dir, [5, 4, 3, 1, 2, 5, 4])
    with pytest.warns(UserWarning, match=r"toy\.inter: column 'rating' holds graded ratings "
                                         r"\(1: 1, 2: 1, 3: 1, 4: 2, 5: 2\); every row counts as a positive"):
        ds = load_mmrec(mmrec_dir)
    fb = ds.meta["feedback"]
    assert ds.n_interactions == 7 and (fb["rule"], fb["min_rating"], fb["requested"]) == ("default", None, "default")
    thresholded = quiet(load_mmrec, mmrec_dir, min_rating=4)
    assert thresholded.n_interactions == 4 and thresholded.meta["feedback"]["summary"] == \
        "rows with rating >= 4 are positives, as requested; 4 kept, 3 dropped"


def test_record_is_plain_json(mmrec_dir):
    with_ratings(mmrec_dir, [5, 4.5, 3, 1, 2, 5, 4])
    fb = quiet(load_mmrec, mmrec_dir, min_rating=4.5).meta["feedback"]
    assert set(fb) == RECORD_KEYS
    assert json.loads(json.dumps(fb)) == fb  # keys are strings, values plain Python
    assert fb["distribution"] == {"1": 1, "2": 1, "3": 1, "4": 1, "4.5": 1, "5": 2}
    assert fb["range"] == [1.0, 5.0] and fb["distinct"] == 6


def test_many_distinct_values_record_only_the_range():
    assert len(distribution(np.linspace(0.5, 9.5, 200))) == 200
    ds = make_synthetic(n_users=40, n_items=30, n_interactions=400)
    ratings = ds.interactions.copy()
    ratings.data = np.linspace(0.5, 9.5, ratings.nnz)
    fb = apply_feedback(replace(ds, ratings=ratings), 5, where="x").meta["feedback"]
    assert fb["distribution"] is None and fb["distinct"] == 400 > MAX_RECORDED and fb["range"] == [0.5, 9.5]
    assert "400 distinct values in [0.5, 9.5]" in describe(fb)[0]


def test_raw_and_ducho_record_their_files(tmp_path):
    d = tmp_path / "shop"
    write_tsv(d / "items.tsv", ["item", "title"], [[1, "a"], [2, "b"]])
    write_tsv(d / "interactions.tsv", ["user", "item", "score"], [["u", 1, 0], ["v", 2, 1], ["v", 1, 1]])
    ds = quiet(load_raw, d, min_rating=1)
    assert ds.n_interactions == 2 and ds.meta["feedback"]["rating_column"] == "score"
    assert ds.meta["feedback"]["file"].endswith("interactions.tsv")
    e = tmp_path / "elliot"
    for name, rows in {"train.tsv": [[1, 2, 1], [2, 2, 0]], "val.tsv": [[1, 3, 1]], "test.tsv": [[1, 4, 0]]}.items():
        write_tsv(e / name, None, rows)
    ds = quiet(load_ducho, e, min_rating=1)
    assert ds.n_interactions == 2 and ds.fixed_split.test.nnz == 0
    assert ds.meta["feedback"]["file"].endswith("{train.tsv,val.tsv,test.tsv}")


def write_movielens(root):
    d = root / "movielens-100k"
    write_tsv(d / "ml-100k.item", ["item_id:token", "movie_title:token_seq", "release_year:token", "class:token_seq"],
              [[1, "A", 1995, "Drama"], [2, "B", 1996, "Comedy"]])
    write_tsv(d / "ml-100k.inter", ["user_id:token", "item_id:token", "rating:float", "timestamp:float"],
              [[1, 1, 5, 10], [1, 2, 3, 11], [2, 1, 4, 12], [2, 2, 1, 13]])


def test_movielens_default_threshold_is_four(tmp_path):
    write_movielens(tmp_path)
    ds = quiet(load_dataset, "movielens-100k", root=tmp_path, modalities=["genres"])
    fb = ds.meta["feedback"]
    assert ds.n_interactions == 2 and ds.meta["min_rating"] == 4
    assert (fb["rule"], fb["min_rating"], fb["kept"], fb["dropped"]) == ("default", 4.0, 2, 2)
    assert fb["rating_column"] == "rating:float" and fb["distribution"] == {"1": 1, "3": 1, "4": 1, "5": 1}
    assert "by default (the movielens-100k loader's documented default)" in fb["summary"]
    assert quiet(load_dataset, "movielens-100k", root=tmp_path, modalities=["genres"],
                 min_rating=None).n_interactions == 4
    assert quiet(load_dataset, "movielens-100k", root=tmp_path, modalities=["genres"],
                 min_rating=3).meta["feedback"]["rule"] == "user"


def test_lastfm_is_implicit(tmp_path):
    d = tmp_path / "lastfm-2k"
    write_tsv(d / "lfm2k.inter", HEADER, MMREC_ROWS)
    np.save(d / "all-MiniLM-L6-v2.npy", np.ones((4, 3), np.float32))
    ds = quiet(load_dataset, "lastfm-2k", root=tmp_path, modalities=["text"], raw_text=False)
    assert ds.meta["feedback"]["rule"] == "implicit" and ds.n_interactions == 7


def test_synthetic_and_info_carry_the_record():
    ds = make_synthetic(n_users=40, n_items=30, n_interactions=400)
    info = ds.info()
    assert info["ratings"] is False and info["feedback"]["rule"] == "implicit"
    assert describe(info["feedback"]) == ["ratings: none",
                                          "positives: no rating column: implicit feedback, every row is a positive"]
    assert describe(None) == ["ratings: not recorded (dataset not built by a loader)"]
