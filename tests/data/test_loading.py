import pytest

from mmstudy.data import detect_layout, load_dataset
from mmstudy.errors import ConfigError, DataError
from mmstudy.registry import UnknownNameError

from .files import write_tsv


def test_synthetic_by_name_with_options():
    ds = load_dataset("synthetic", n_users=40, n_items=30, n_interactions=400, seed=2)
    assert (ds.n_users, ds.n_items, ds.n_interactions) == (40, 30, 400)


def test_k_core_options_apply_after_loading():
    ds = load_dataset("synthetic", n_users=40, n_items=30, n_interactions=400, user_core=6, item_core=6)
    assert ds.interactions.getnnz(axis=1).min() >= 6 and ds.interactions.getnnz(axis=0).min() >= 6
    assert ds.meta["preprocessing"][-1]["user_core"] == 6


def test_unknown_name_suggests():
    with pytest.raises(UnknownNameError, match="Did you mean 'lastfm-2k'"):
        load_dataset("lastfm-2")


def test_unknown_option_lists_accepted():
    with pytest.raises(ConfigError, match="unknown option 'n_user'; accepted: n_users"):
        load_dataset("synthetic", n_user=5)


def test_directory_layout_detection(mmrec_dir, tmp_path):
    assert detect_layout(mmrec_dir) == "mmrec"
    assert load_dataset(mmrec_dir).fixed_split is not None
    ducho = tmp_path / "d"
    for f in ("train.tsv", "val.tsv", "test.tsv"):
        write_tsv(ducho / f, None, [[1, 2]] if f == "train.tsv" else [[1, 3 if f == "val.tsv" else 4]])
    assert detect_layout(ducho) == "ducho" and load_dataset(ducho).n_interactions == 3
    raw = tmp_path / "r"
    write_tsv(raw / "items.tsv", ["item", "title"], [["a", "A"], ["b", "B"]])
    write_tsv(raw / "interactions.tsv", ["user", "item"], [["x", "a"]])
    assert detect_layout(raw) == "raw" and load_dataset(str(raw)).modalities["text"].raw == ["A", "B"]
    write_tsv(mmrec_dir / "items.tsv", ["itemID", "title"], [[0, "A"]])  # titles to extract features from
    assert detect_layout(mmrec_dir) == "mmrec"
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="cannot tell the dataset layout"):
        load_dataset(tmp_path / "empty")
    with pytest.raises(DataError, match="does not exist"):
        load_dataset(tmp_path / "nowhere")


def test_missing_catalog_files_are_listed(tmp_path):
    with pytest.raises(DataError, match=r"expects lfm2k\.inter, all-MiniLM-L6-v2\.npy, whisper\.npy.*"
                                        r"missing: lfm2k\.inter.*MMSTUDY_DATA"):
        load_dataset("lastfm-2k", root=tmp_path, raw_text=False)


def test_data_root_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("MMSTUDY_DATA", str(tmp_path))
    with pytest.raises(DataError, match=str(tmp_path / "movielens-100k")):
        load_dataset("ml-100k")


def test_unknown_modality_choice(tmp_path):
    with pytest.raises(ConfigError, match="unknown modality 'video'"):
        load_dataset("movielens-100k", root=tmp_path, modalities=["video"])
    with pytest.raises(ConfigError, match="unknown modality 'video'"):
        load_dataset("lastfm-2k", root=tmp_path, modalities="text,video")
