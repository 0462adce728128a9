"""Extractor interface, checksums and extract_modality."""
import numpy as np
import pytest

from mmstudy.errors import ConfigError, DataError
from mmstudy.features import EXTRACTORS, make_extractor
from mmstudy.features.base import ChecksumError, MissingWeightsError, extract_modality, verify_sha256
from mmstudy.hashing import file_sha256
from mmstudy.registry import UnknownNameError

from .helpers import CountingExtractor, raw_modality


def test_verify_sha256_names_file_and_both_hashes(tmp_path):
    path = tmp_path / "w.bin"
    path.write_bytes(b"weights")
    actual = file_sha256(path)
    assert verify_sha256(path, actual.upper()) == actual
    with pytest.raises(ChecksumError) as err:
        verify_sha256(path, "0" * 64)
    assert str(path) in str(err.value) and "0" * 64 in str(err.value) and actual in str(err.value)
    with pytest.raises(MissingWeightsError, match="nope.bin"):
        verify_sha256(tmp_path / "nope.bin", None)


def test_extract_restores_order_and_batches(counting):
    texts = ["a", "ccc", "bb", "dddd", "e"]
    out = counting.extract(texts, batch_size=2, progress=False, kind="text")
    assert out.dtype == np.float32 and out.shape == (5, 3)
    np.testing.assert_array_equal(out[:, 0], [1, 3, 2, 4, 1])
    assert counting.encoded == 5
    assert counting.extract([], progress=False, kind="text").shape == (0, 3)


def test_extract_rejects_bad_input(counting):
    with pytest.raises(DataError, match="item 1 is None"):
        counting.extract(["a", None], progress=False, kind="text")
    with pytest.raises(ConfigError, match="batch_size"):
        counting.extract(["a"], batch_size=0, progress=False, kind="text")
    with pytest.raises(ConfigError, match="pass kind="):  # it serves text and image
        counting.extract(["a"], progress=False)
    with pytest.raises(ConfigError, match="not 'audio'"):
        counting.extract(["a"], progress=False, kind="audio")


def test_extract_modality_skips_items_without_content(counting, images):
    m = raw_modality(["rock", None, "", "   ", "pop"])
    out = extract_modality(counting, m, progress=False)
    np.testing.assert_array_equal(out.present, [True, False, False, False, True])
    assert counting.encoded == 2
    assert not out.features[~out.present].any()
    np.testing.assert_array_equal(out.features[[0, 4], 0], [4, 3])
    info = out.info["extraction"]
    assert info["n_extracted"] == 2 and info["n_without_content"] == 3
    assert info["seconds"] >= 0 and info["seconds_per_item"] == pytest.approx(info["seconds"] / 2)
    assert info["identity"]["backend"] == "counting" and info["identity"]["dim"] == 3


def test_extract_modality_images_missing_files_and_absent_rows(counting, images, tmp_path):
    raw = [images[0], str(tmp_path / "gone.jpg"), None, images[1]]
    m = raw_modality(raw, kind="image")
    m = m.with_features(m.features, present=np.array([True, True, True, False]))
    out = extract_modality(counting, m, progress=False)
    np.testing.assert_array_equal(out.present, [True, False, False, False])  # row 3 was already absent
    assert counting.encoded == 1


def test_extract_modality_checks_kind_and_raw(counting):
    audio = raw_modality(["x"], kind="audio")
    with pytest.raises(ConfigError, match="'audio'"):
        extract_modality(counting, audio, progress=False)
    no_raw = raw_modality(["x"]).with_features(np.zeros((1, 0)))
    from dataclasses import replace
    with pytest.raises(ConfigError, match="no raw content"):
        extract_modality(counting, replace(no_raw, raw=None), progress=False)
    with pytest.raises(DataError, match="row 1 is a int"):
        extract_modality(counting, raw_modality(["x", 3]), progress=False)


def test_extract_modality_with_nothing_present(counting):
    out = extract_modality(counting, raw_modality([None, ""]), progress=False)
    assert out.features.shape == (2, 3) and not out.present.any()


def test_registry_did_you_mean_and_params():
    assert {"torchvision", "hf-text", "hf-image", "hf-clip", "efficientnet-lite", "onnx-text", "onnx-image",
            "precomputed"} <= set(EXTRACTORS.names())
    with pytest.raises(UnknownNameError, match="Did you mean 'torchvision'"):
        make_extractor("torchvison")
    assert CountingExtractor(scale=2.0).get_params() == {"scale": 2.0}
    assert "scale=2.0" in repr(CountingExtractor(scale=2.0))
