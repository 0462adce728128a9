import numpy as np
import pytest

from mmstudy.data import load_mmrec
from mmstudy.errors import ConfigError, DataError

from .files import MMREC_ROWS, write_tsv


def test_loads_interactions_features_and_fixed_split(mmrec_dir):
    ds = load_mmrec(mmrec_dir, features={"text": "text.npy", "image": "image.npy"})
    assert (ds.n_users, ds.n_items, ds.n_interactions) == (3, 4, 7)
    assert ds.interactions[1, 3] == 1 and ds.interactions[1, 0] == 0
    text = ds.modalities["text"]
    assert text.kind == "text" and text.features.dtype == np.float32 and text.dim == 2
    np.testing.assert_array_equal(text.features[3], [6, 7])
    split = ds.fixed_split
    assert (split.train.nnz, split.valid.nnz, split.test.nnz) == (4, 1, 2)
    assert split.valid[0, 2] == 1 and split.test[2, 3] == 1
    assert ds.ratings is not None and ds.meta["source"] == "mmrec"


def test_default_features_are_every_npy_and_kinds_default_to_name(mmrec_dir):
    ds = load_mmrec(mmrec_dir, kinds={"image": "other"})
    assert set(ds.modalities) == {"text", "image"}
    assert ds.modalities["image"].kind == "other" and ds.modalities["text"].kind == "text"


def test_min_rating_drops_interactions(mmrec_dir):
    rows = [r[:2] + [5 if i % 2 else 1] + r[3:] for i, r in enumerate(MMREC_ROWS)]
    write_tsv(mmrec_dir / "toy.inter", ["userID", "itemID", "rating", "x_label"], rows)
    ds = load_mmrec(mmrec_dir, min_rating=4)
    assert ds.n_interactions == 3 and ds.n_users == 3
    assert sum(getattr(ds.fixed_split, p).nnz for p in ("train", "valid", "test")) == 3


def test_missing_interaction_file_lists_directory(mmrec_dir):
    with pytest.raises(DataError, match=r"nope\.inter is missing.*toy\.inter"):
        load_mmrec(mmrec_dir, inter_file="nope.inter")


def test_missing_feature_file_is_named(mmrec_dir):
    with pytest.raises(DataError, match=r"audio\.npy is missing"):
        load_mmrec(mmrec_dir, features={"audio": "audio.npy"})


def test_missing_columns(mmrec_dir):
    write_tsv(mmrec_dir / "toy.inter", ["userID", "itemID", "rating"], [[0, 0, 1]])
    with pytest.raises(DataError, match=r"toy\.inter: missing column\(s\) \['x_label'\]"):
        load_mmrec(mmrec_dir, inter_file="toy.inter")


def test_non_integer_id_names_line(mmrec_dir):
    rows = [r[:] for r in MMREC_ROWS]
    rows[2][1] = "x7"
    write_tsv(mmrec_dir / "toy.inter", ["userID", "itemID", "rating", "x_label"], rows)
    with pytest.raises(DataError, match=r"toy\.inter line 4: item value 'x7' is not an integer"):
        load_mmrec(mmrec_dir)


def test_empty_id_names_line(mmrec_dir):
    rows = [r[:] for r in MMREC_ROWS]
    rows[0][0] = ""
    write_tsv(mmrec_dir / "toy.inter", ["userID", "itemID", "rating", "x_label"], rows)
    with pytest.raises(DataError, match=r"line 2: user"):
        load_mmrec(mmrec_dir)


def test_bad_x_label_names_line(mmrec_dir):
    rows = [r[:] for r in MMREC_ROWS]
    rows[4][3] = 3
    write_tsv(mmrec_dir / "toy.inter", ["userID", "itemID", "rating", "x_label"], rows)
    with pytest.raises(DataError, match=r"line 6: x_label 3 is not 0, 1 or 2"):
        load_mmrec(mmrec_dir)


def test_negative_id(mmrec_dir):
    rows = [r[:] for r in MMREC_ROWS]
    rows[1][0] = -1
    write_tsv(mmrec_dir / "toy.inter", ["userID", "itemID", "rating", "x_label"], rows)
    with pytest.raises(DataError, match=r"line 3: userID -1 is negative"):
        load_mmrec(mmrec_dir)


def test_feature_row_count_mismatch_names_file(mmrec_dir):
    np.save(mmrec_dir / "image.npy", np.ones((3, 3), np.float32))
    with pytest.raises(DataError, match=r"disagree on the number of items.*image\.npy"):
        load_mmrec(mmrec_dir)
    with pytest.raises(DataError, match=r"image\.npy: 3 feature rows but toy\.inter line 6 refers to itemID 3"):
        load_mmrec(mmrec_dir, features={"image": "image.npy"})


def test_nan_feature_names_file_and_row(mmrec_dir):
    feats = np.ones((4, 3), np.float32)
    feats[2, 1] = np.nan
    np.save(mmrec_dir / "image.npy", feats)
    with pytest.raises(DataError, match=r"image\.npy: non-finite value \(NaN/inf\) in row 2"):
        load_mmrec(mmrec_dir)


def test_pickled_npy_is_rejected(mmrec_dir):
    np.save(mmrec_dir / "image.npy", np.array([{"a": 1}] * 4, dtype=object), allow_pickle=True)
    with pytest.raises(DataError, match=r"image\.npy"):
        load_mmrec(mmrec_dir)


def test_duplicates_error_or_drop(mmrec_dir):
    write_tsv(mmrec_dir / "toy.inter", ["userID", "itemID", "rating", "x_label"], MMREC_ROWS + [[0, 1, 1, 2]])
    with pytest.raises(DataError, match=r"toy\.inter line 9: duplicate interaction"):
        load_mmrec(mmrec_dir)
    ds = load_mmrec(mmrec_dir, duplicates="drop")
    assert ds.n_interactions == 7 and ds.fixed_split.train[0, 1] == 1
    with pytest.raises(ConfigError, match="duplicates"):
        load_mmrec(mmrec_dir, duplicates="sum")


@pytest.mark.parametrize("content", ["", "userID\titemID\tx_label\n"])
def test_empty_file(mmrec_dir, content):
    (mmrec_dir / "toy.inter").write_text(content)
    with pytest.raises(DataError, match=r"toy\.inter: (file is empty|no data rows)"):
        load_mmrec(mmrec_dir, inter_file="toy.inter")


def test_ambiguous_inter_files(mmrec_dir):
    (mmrec_dir / "toy.inter").rename(mmrec_dir / "a.inter")
    write_tsv(mmrec_dir / "b.inter", ["userID", "itemID", "x_label"], [[0, 0, 0]])
    with pytest.raises(DataError, match="several candidate .inter files"):
        load_mmrec(mmrec_dir)
