import numpy as np
import pytest

from mmstudy.data import load_ducho
from mmstudy.errors import DataError

from .files import write_tsv


@pytest.fixture
def ducho_dir(tmp_path):
    d = tmp_path / "elliot"
    write_tsv(d / "train.tsv", None, [[1, 10, 5, 100], [1, 11, 4, 101], [2, 10, 3, 102]])
    write_tsv(d / "val.tsv", None, [[1, 12, 5, 103]])
    write_tsv(d / "test.tsv", None, [[2, 12, 1, 104]])
    vis = d / "visual_features" / "torch" / "resnet50" / "avgpool"
    vis.mkdir(parents=True)
    for item in (10, 11, 13):
        np.save(vis / f"{item}.npy", np.full((1, 3), item, np.float32))
    txt = d / "textual_features" / "sentence_transformers" / "minilm"
    txt.mkdir(parents=True)
    for item in (10, 11, 12):
        np.save(txt / f"{item}.npy", np.full(2, item, np.float64))
    return d


def test_loads_split_and_per_item_features(ducho_dir):
    ds = load_ducho(ducho_dir)
    assert list(ds.item_ids) == [10, 11, 12, 13]  # item 13 only has features: a cold item
    assert (ds.n_users, ds.n_interactions) == (2, 5)
    split = ds.fixed_split
    assert (split.train.nnz, split.valid.nnz, split.test.nnz) == (3, 1, 1)
    assert split.valid[0, 2] == 1 and split.test[1, 2] == 1
    image, text = ds.modalities["image"], ds.modalities["text"]
    assert image.kind == "image" and text.kind == "text"
    np.testing.assert_array_equal(image.present, [True, True, False, True])
    np.testing.assert_array_equal(image.features[:, 0], [10, 11, 0, 13])
    np.testing.assert_array_equal(text.present, [True, True, True, False])
    assert ds.timestamps[1, 2] == 104


def test_header_is_detected(ducho_dir):
    write_tsv(ducho_dir / "train.tsv", ["user_id", "item_id", "rating", "timestamp"],
              [[1, 10, 5, 100], [1, 11, 4, 101], [2, 10, 3, 102]])
    assert load_ducho(ducho_dir).fixed_split.train.nnz == 3


def test_explicit_modality_folders(ducho_dir):
    ds = load_ducho(ducho_dir, modalities={"resnet": "visual_features/torch/resnet50/avgpool"})
    assert list(ds.modalities) == ["resnet"] and ds.modalities["resnet"].kind == "image"


def test_several_extractors_get_distinct_names(ducho_dir):
    other = ducho_dir / "visual_features" / "torch" / "vgg19"
    other.mkdir(parents=True)
    np.save(other / "10.npy", np.zeros(4, np.float32))
    assert set(load_ducho(ducho_dir).modalities) == {"image_torch_resnet50_avgpool", "image_torch_vgg19", "text"}


def test_missing_split_file(ducho_dir):
    (ducho_dir / "val.tsv").unlink()
    with pytest.raises(DataError, match=r"val\.tsv is missing.*train\.tsv, val\.tsv and test\.tsv"):
        load_ducho(ducho_dir)


def test_inconsistent_vector_size_names_file(ducho_dir):
    np.save(ducho_dir / "textual_features" / "sentence_transformers" / "minilm" / "12.npy", np.ones(5))
    with pytest.raises(DataError, match=r"12\.npy: 5 values, but other items"):
        load_ducho(ducho_dir)


def test_nan_vector_names_file(ducho_dir):
    np.save(ducho_dir / "textual_features" / "sentence_transformers" / "minilm" / "11.npy", np.array([1, np.nan]))
    with pytest.raises(DataError, match=r"11\.npy: non-finite"):
        load_ducho(ducho_dir)


def test_duplicate_across_files(ducho_dir):
    write_tsv(ducho_dir / "test.tsv", None, [[1, 10, 1, 104]])
    with pytest.raises(DataError, match=r"test\.tsv line 1: duplicate interaction"):
        load_ducho(ducho_dir)
