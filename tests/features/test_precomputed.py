"""Precomputed features (shipped .npy files or an existing Modality) as an extractor."""
import numpy as np
import pytest

from mmstudy.data.modality import Modality
from mmstudy.errors import ConfigError, DataError
from mmstudy.features import PrecomputedExtractor, extract_modality

from .helpers import raw_modality


def test_npy_file_rows_and_non_finite_rows_absent(tmp_path):
    matrix = np.arange(12, dtype=np.float64).reshape(4, 3)
    matrix[2] = np.nan
    np.save(tmp_path / "audio.npy", matrix)
    ex = PrecomputedExtractor(path=str(tmp_path / "audio.npy"))
    out = extract_modality(ex, raw_modality([None] * 4, kind="audio"), progress=False)
    np.testing.assert_array_equal(out.present, [True, True, False, True])
    np.testing.assert_array_equal(out.features[[0, 1, 3]], matrix[[0, 1, 3]].astype(np.float32))
    assert not out.features[2].any()
    ident = ex.identity()
    assert ident["dim"] == 3 and ident["params"] == {"path": "local", "name": "audio.npy"}
    assert len(ident["weights_sha256"]) == 64


def test_from_modality_respects_presence():
    source = Modality("v", "image", np.ones((3, 2)), np.array([True, False, True]), source="shipped.npy")
    out = extract_modality(PrecomputedExtractor.from_modality(source), raw_modality([None] * 3, "image"),
                           progress=False)
    np.testing.assert_array_equal(out.present, source.present)
    assert out.info["extraction"]["identity"]["model"] == "shipped.npy"


def test_bad_inputs(tmp_path):
    with pytest.raises(ConfigError, match="exactly one"):
        PrecomputedExtractor()
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object))
    with pytest.raises(DataError, match="objects.npy"):
        PrecomputedExtractor(path=str(tmp_path / "objects.npy")).output_dim
    np.save(tmp_path / "flat.npy", np.zeros(5))
    with pytest.raises(DataError, match="2-D"):
        PrecomputedExtractor(path=str(tmp_path / "flat.npy")).output_dim
    np.save(tmp_path / "short.npy", np.zeros((2, 3)))
    with pytest.raises(DataError, match="2 rows.*3 items"):
        extract_modality(PrecomputedExtractor(path=str(tmp_path / "short.npy")), raw_modality([None] * 3),
                         progress=False)
