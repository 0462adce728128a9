import numpy as np
import pytest
from PIL import Image

from mmstudy.data import detect_layout, load_dataset, load_raw, make_split
from mmstudy.errors import DataError

from .files import write_tsv


@pytest.fixture
def raw_dir(tmp_path):
    d = tmp_path / "shop"
    write_tsv(d / "interactions.tsv", ["user", "item", "rating", "timestamp"],
              [["u1", 10, 5, 100], ["u1", 2, 3, 50], ["u2", 10, 4, 70], ["u3", 7, 1, 10]])
    write_tsv(d / "items.tsv", ["item", "title", "description"],
              [[10, "Red shoe", "leather"], [2, "Blue hat", ""], [7, "", ""], [99, "Unsold", "never bought"]])
    (d / "images").mkdir()
    for item in (10, 99):
        Image.new("RGB", (4, 4)).save(d / "images" / f"{item}.jpg")
    return d


def test_loads_raw_text_images_and_timestamps(raw_dir):
    ds = load_raw(raw_dir)
    assert list(ds.item_ids) == [2, 7, 10, 99]  # integer ids sort numerically; unsold item kept
    assert list(ds.user_ids) == ["u1", "u2", "u3"]
    assert ds.n_interactions == 4 and ds.interactions[0, 2] == 1
    text, image = ds.modalities["text"], ds.modalities["image"]
    assert text.dim == 0 and image.dim == 0 and text.features.shape == (4, 0)
    assert text.raw == ["Blue hat", None, "Red shoe. leather", "Unsold. never bought"]
    np.testing.assert_array_equal(text.present, [True, False, True, True])
    np.testing.assert_array_equal(image.present, [False, False, True, True])
    assert image.raw[0] is None and image.raw[2].endswith("images/10.jpg")
    assert ds.timestamps[0, 0] == 50 and ds.timestamps[0, 2] == 100
    assert ds.ratings[1, 2] == 4


def test_text_columns_and_min_rating(raw_dir):
    ds = load_raw(raw_dir, text_columns=["description"], min_rating=4)
    assert ds.modalities["text"].raw[2] == "leather"
    assert ds.n_interactions == 2 and ds.meta["min_rating"] == 4


def test_no_images_folder_means_no_image_modality(raw_dir):
    for f in (raw_dir / "images").iterdir():
        f.unlink()
    (raw_dir / "images").rmdir()
    assert set(load_raw(raw_dir).modalities) == {"text"}


def test_unknown_item_names_line(raw_dir):
    write_tsv(raw_dir / "interactions.tsv", ["user", "item"], [["u1", 10], ["u2", 55]])
    with pytest.raises(DataError, match=r"interactions\.tsv line 3: item '55' is not a known item"):
        load_raw(raw_dir)


def test_missing_text_column(raw_dir):
    with pytest.raises(DataError, match=r"items\.tsv: missing text column\(s\) \['summary'\]"):
        load_raw(raw_dir, text_columns=["summary"])


def test_missing_items_file_lists_directory(raw_dir):
    (raw_dir / "items.tsv").unlink()
    with pytest.raises(DataError, match=r"items\.tsv is missing; .* contains: images/, interactions\.tsv"):
        load_raw(raw_dir)


def test_duplicate_item_row(raw_dir):
    write_tsv(raw_dir / "items.tsv", ["item", "title"], [[10, "a"], [2, "b"], [10, "c"], [7, "d"]])
    with pytest.raises(DataError, match=r"items\.tsv line 4: item '10' is listed twice"):
        load_raw(raw_dir)


def test_non_numeric_timestamp(raw_dir):
    write_tsv(raw_dir / "interactions.tsv", ["user", "item", "timestamp"], [["u1", 10, 5], ["u1", 2, "soon"]])
    with pytest.raises(DataError, match=r"line 3: timestamp value 'soon' is not a number"):
        load_raw(raw_dir)


def write_csv_shop(directory, split_values=None):
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "items.csv").write_text('movieId,title,genres\n1,"Heat, the ""classic""",Crime\n'
                                         '2,Plain,"Drama|War"\n3,"Cold, item",\n')
    rows = [("u1", 1, 4.5), ("u1", 2, 3), ("u2", 1, 5), ("u2", 2, 2), ("u3", 2, 4)]
    header = "userId,movieId,rating" + (",split" if split_values else "")
    lines = [f"{u},{i},{r}" + (f",{s}" if split_values else "") for (u, i, r), s in
             zip(rows, split_values or [None] * len(rows))]
    (directory / "interactions.csv").write_text("\n".join([header, *lines]) + "\n")
    return directory


def test_csv_with_quoted_fields_and_movielens_names(tmp_path):
    ds = load_raw(write_csv_shop(tmp_path / "ml"), min_rating="all")
    assert list(ds.item_ids) == [1, 2, 3] and ds.n_interactions == 5
    assert ds.modalities["text"].raw == ['Heat, the "classic". Crime', "Plain. Drama|War", "Cold, item"]
    assert ds.ratings[0, 0] == 4.5 and ds.fixed_split is None
    assert ds.meta["interactions_file"] == "interactions.csv" and ds.meta["items_file"] == "items.csv"


@pytest.mark.parametrize("values", [["train", "Train", "valid", "test", "TEST"], [0, 0, 1, 2, 2],
                                    ["train", "train", "val", "test", "test"], ["0", "train", "validation", "2", "test"]])
def test_split_column_is_the_fixed_split(tmp_path, values):
    ds = load_raw(write_csv_shop(tmp_path / "ml", values), min_rating="all")
    split = ds.fixed_split
    assert (split.train.nnz, split.valid.nnz, split.test.nnz) == (2, 1, 2)
    assert split.valid[1, 0] == 1 and split.test[2, 1] == 1  # u2-item 1 is valid, u3-item 2 is test
    assert split.info["source"] == "split column of interactions.csv"
    assert (make_split(ds, "fixed").test != split.test).nnz == 0


def test_split_follows_the_threshold(tmp_path):
    ds = load_raw(write_csv_shop(tmp_path / "ml", ["train", "train", "valid", "test", "test"]), min_rating=4)
    split = ds.fixed_split
    assert ds.n_interactions == 3 and (split.train.nnz, split.valid.nnz, split.test.nnz) == (1, 1, 1)


def test_csv_directory_is_detected(tmp_path):
    d = write_csv_shop(tmp_path / "ml")
    assert detect_layout(d) == "raw" and load_dataset(d, min_rating=4).n_interactions == 3


def test_file_names_can_be_given(tmp_path):
    d = write_csv_shop(tmp_path / "ml")
    (d / "items.csv").rename(d / "movies.csv")
    (d / "interactions.csv").rename(d / "ratings.csv")
    ds = load_raw(d, interactions="ratings.csv", items="movies.csv", min_rating="all")
    assert ds.n_interactions == 5 and ds.meta["items_file"] == "movies.csv"
