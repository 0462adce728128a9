"""Standard datasets: expected files, the what-to-download message, and the published-statistics
check, on tiny fixtures in the MMRec and Ducho layouts (checked against fixture-specific numbers
through the same code path as the real releases)."""
from dataclasses import replace

import numpy as np
import pytest

from mmstudy.data import DATASETS, load_dataset
from mmstudy.data.sources.standard import FeatureSource, Published, StandardDataset, load_standard, make_loader
from mmstudy.data.sources.standard_catalog import STANDARD_DATASETS
from mmstudy.errors import ConfigError, DataError

from .files import MMREC_ROWS, write_tsv

HINT = "If you use a variant deliberately, load it with check_statistics=False (CLI: --set check_statistics=false)"


def _stats(**counts):
    return {k: Published(v, "fixture") for k, v in counts.items()}


# MMREC_ROWS: 3 users, 4 items, 7 interactions; x_label 0,0,1,0,2,0,2
MMREC_SPEC = StandardDataset(
    name="tiny-mmrec", title="Tiny MMRec", layout="mmrec", interactions=("tiny.inter",),
    features={"image": FeatureSource("image_feat.npy", "image", Published(3, "fixture")),
              "text": FeatureSource("text_feat.npy", "text", Published(2, "fixture"))},
    default_modalities=("image", "text"), download="the tiny release (https://example.org/tiny)",
    citation="fixture", statistics=_stats(users=3, items=4, interactions=7, train=4, valid=1, test=2))

# Ducho: 2 users, items 10/11/12, 5 interactions (3 train, 1 valid, 1 test)
DUCHO_SPEC = StandardDataset(
    name="tiny-ducho", title="Tiny Ducho", layout="ducho", interactions=("train.tsv", "val.tsv", "test.tsv"),
    features={"image": FeatureSource("visual_features/resnet50", "image", Published(3, "fixture"))},
    default_modalities=("image",), download="the tiny Ducho release", citation="fixture",
    statistics=_stats(users=2, items=3, interactions=5, train=3, valid=1, test=1))


def write_mmrec(root, name="tiny-mmrec", image_dim=3):
    d = root / name
    write_tsv(d / "tiny.inter", ["userID", "itemID", "rating", "x_label"], MMREC_ROWS)
    np.save(d / "image_feat.npy", np.ones((4, image_dim), np.float32))
    np.save(d / "text_feat.npy", np.arange(8, dtype=np.float64).reshape(4, 2))
    return d


def write_ducho(root):
    d = root / "tiny-ducho"
    write_tsv(d / "train.tsv", None, [[1, 10, 5], [1, 11, 4], [2, 10, 3]])
    write_tsv(d / "val.tsv", None, [[1, 12, 5]])
    write_tsv(d / "test.tsv", None, [[2, 12, 1]])
    folder = d / "visual_features" / "resnet50"
    folder.mkdir(parents=True)
    for item in (10, 11, 12):
        np.save(folder / f"{item}.npy", np.full(3, item, np.float32))
    return d


@pytest.mark.parametrize("spec, write", [(MMREC_SPEC, write_mmrec), (DUCHO_SPEC, write_ducho)])
def test_statistics_check_passes_on_the_published_numbers(tmp_path, spec, write):
    directory = write(tmp_path)
    ds = load_standard(spec, root=tmp_path)
    assert (ds.n_users, ds.n_items, ds.n_interactions) == tuple(spec.statistics[k].value
                                                                for k in ("users", "items", "interactions"))
    assert ds.fixed_split.test.nnz == spec.statistics["test"].value
    assert ds.modalities["image"].dim == 3 and ds.modalities["image"].kind == "image"
    assert ds.meta["statistics_checked"] and ds.meta["directory"] == str(directory)


@pytest.mark.parametrize("spec, write, changed, found", [
    (MMREC_SPEC, write_mmrec, {"users": 4}, "users 3 (published 4, fixture)"),
    (MMREC_SPEC, write_mmrec, {"test": 3, "items": 5},
     "items 4 (published 5, fixture); test 2 (published 3, fixture)"),
    (DUCHO_SPEC, write_ducho, {"interactions": 6}, "interactions 5 (published 6, fixture)"),
])
def test_statistics_mismatch_is_one_line_naming_each_statistic(tmp_path, spec, write, changed, found):
    directory = write(tmp_path)
    variant = replace(spec, statistics={**spec.statistics, **_stats(**changed)})
    with pytest.raises(DataError) as err:
        load_standard(variant, root=tmp_path)
    assert str(err.value) == (f"dataset {spec.name!r} in {directory} does not match its published statistics: "
                              f"{found}. {HINT}")
    ds = load_standard(variant, root=tmp_path, check_statistics=False)  # a deliberate variant loads
    assert not ds.meta["statistics_checked"]


def test_feature_dimension_is_checked_only_for_loaded_modalities(tmp_path):
    directory = write_mmrec(tmp_path, image_dim=5)
    with pytest.raises(DataError) as err:
        load_standard(MMREC_SPEC, root=tmp_path)
    assert str(err.value) == (f"dataset 'tiny-mmrec' in {directory} does not match its published statistics: "
                              f"image feature dimension 5 (published 3, fixture). {HINT}")
    assert list(load_standard(MMREC_SPEC, root=tmp_path, modalities="text").modalities) == ["text"]


def test_unverified_numbers_are_not_checked(tmp_path):
    write_mmrec(tmp_path, image_dim=5)
    unverified = replace(MMREC_SPEC, statistics=_stats(users=3),
                         features={**MMREC_SPEC.features, "image": FeatureSource("image_feat.npy", "image")})
    assert load_standard(unverified, root=tmp_path).modalities["image"].dim == 5


def test_min_rating_applies_after_the_check(tmp_path):
    d = tmp_path / "tiny-mmrec"
    rows = [[u, i, 0 if (u + i) % 2 else 1, x] for u, i, _, x in MMREC_ROWS]
    write_mmrec(tmp_path)
    write_tsv(d / "tiny.inter", ["userID", "itemID", "rating", "x_label"], rows)
    ds = load_standard(MMREC_SPEC, root=tmp_path, min_rating=1)  # the check saw all 7 rows
    assert ds.n_interactions == sum(r[2] for r in rows) < 7 and ds.meta["min_rating"] == 1


def test_absent_dataset_says_what_to_download_and_where_each_file_goes(tmp_path):
    d = tmp_path / "tiny-mmrec"
    with pytest.raises(DataError) as err:
        load_standard(MMREC_SPEC, root=tmp_path)
    assert str(err.value) == (
        "dataset 'tiny-mmrec' (Tiny MMRec) is missing tiny.inter, image_feat.npy, text_feat.npy. "
        f"Download the tiny release (https://example.org/tiny) and put the files at {d / 'tiny.inter'}, "
        f"{d / 'image_feat.npy'}, {d / 'text_feat.npy'}; or set MMSTUDY_DATA (or root=) to the folder "
        "that contains tiny-mmrec/")
    write_mmrec(tmp_path)
    (d / "text_feat.npy").unlink()
    with pytest.raises(DataError, match=r"is missing text_feat\.npy\. Download"):
        load_standard(MMREC_SPEC, root=tmp_path)
    assert load_standard(MMREC_SPEC, root=tmp_path, modalities=["image"]).n_items == 4  # only what is asked


def test_ducho_feature_folders_are_expected_paths(tmp_path):
    with pytest.raises(DataError) as err:
        load_standard(DUCHO_SPEC, root=tmp_path)
    assert f"put the files at {tmp_path / 'tiny-ducho' / 'train.tsv'}," in str(err.value)
    assert str(tmp_path / "tiny-ducho" / "visual_features" / "resnet50") in str(err.value)


@pytest.mark.parametrize("modalities, message", [
    ("sound", "dataset 'tiny-mmrec': unknown modality 'sound'; available: ['image', 'text']"),
    ([], "dataset 'tiny-mmrec': choose at least one modality of ['image', 'text']"),
])
def test_bad_modality_choice(tmp_path, modalities, message):
    with pytest.raises(ConfigError) as err:
        load_standard(MMREC_SPEC, root=tmp_path, modalities=modalities)
    assert str(err.value) == message


@pytest.mark.parametrize("bad", [dict(layout="elliot"), dict(default_modalities=("audio",)),
                                 dict(statistics=_stats(density=3))])
def test_inconsistent_spec_is_rejected(bad):
    with pytest.raises(ValueError, match="tiny-mmrec"):
        replace(MMREC_SPEC, **bad)


def test_every_standard_dataset_is_in_the_catalog_with_sourced_statistics():
    for spec in STANDARD_DATASETS:
        assert DATASETS.canonical(spec.name) == spec.name
        assert all(DATASETS.canonical(alias) == spec.name for alias in spec.aliases)
        assert spec.layout == "mmrec" and spec.download and spec.citation
        assert {"interactions", "train", "valid", "test"} <= set(spec.statistics)
        assert all(p.source and p.value > 0 for p in spec.statistics.values())
        split = sum(spec.statistics[k].value for k in ("train", "valid", "test"))
        assert split == spec.statistics["interactions"].value  # x_label parts add up to the total


def test_catalog_loader_runs_the_check_on_the_real_spec(tmp_path):
    """amazon-baby's own loader on files shaped like the release but far smaller: the check
    stops it with the published numbers, and check_statistics=False is accepted as an option."""
    d = tmp_path / "amazon-baby"
    write_tsv(d / "baby.inter", ["userID", "itemID", "rating", "timestamp", "x_label"],
              [[u, i, r, 0, x] for u, i, r, x in MMREC_ROWS])
    np.save(d / "image_feat.npy", np.ones((4, 4096), np.float32))
    np.save(d / "text_feat.npy", np.ones((4, 384), np.float32))
    with pytest.raises(DataError, match=r"users 3 \(published 19,445, MMRec evaluation/README\.md"):
        load_dataset("amazon-baby", root=tmp_path)
    variant = load_dataset(d, check_statistics=False)  # a folder named like the dataset uses its loader
    assert variant.n_items == 4 and variant.meta["source"] == "amazon-baby"
    with pytest.raises(ConfigError, match="unknown option 'check_stats'.*check_statistics"):
        load_dataset("amazon-baby", root=tmp_path, check_stats=False)


def test_loader_is_named_after_the_dataset():
    assert make_loader(MMREC_SPEC).__name__ == "load_tiny_mmrec"
    assert DATASETS.get("ml-1m").__name__ == "load_movielens_1m"


def test_like_dislike_releases_are_checked_as_shipped_then_ask_which_rows_are_positives(tmp_path):
    """ML-1M and DBbook (Spillo et al.) ship a 0/1 'liked' column: the published counts hold every row,
    so the check sees every row, and the positives are the user's explicit choice."""
    d = tmp_path / "tiny-mmrec"
    rows = [[u, i, like, x] for (u, i, _, x), like in zip(MMREC_ROWS, [1, 0, 1, 1, 0, 1, 1])]
    write_tsv(d / "tiny.inter", ["userID", "itemID", "rating", "x_label"], rows)
    np.save(d / "image_feat.npy", np.ones((4, 3), np.float32))
    np.save(d / "text_feat.npy", np.ones((4, 2), np.float32))
    with pytest.raises(DataError, match=r"tiny.inter: column 'rating' holds explicit feedback \(0: 2, 1: 5\)"):
        load_standard(MMREC_SPEC, root=tmp_path)
    everything = load_standard(MMREC_SPEC, root=tmp_path, min_rating="all")
    liked = load_standard(MMREC_SPEC, root=tmp_path, min_rating=1)
    assert everything.n_interactions == 7 and liked.n_interactions == 5
    assert liked.meta["statistics_checked"] and liked.meta["feedback"]["rule"] == "user"
    assert liked.meta["feedback"]["kept"] == 5 and liked.meta["feedback"]["dropped"] == 2
