"""Provenance sidecars: written atomically with their .npy, verified by the loaders, carried onto
the modality (missing items absent, kind and extractor record); files without one load as before."""
import json

import numpy as np
import pytest

from mmstudy.data import load_mmrec
from mmstudy.data.sources import feature_modality
from mmstudy.data.sources import provenance
from mmstudy.data.sources.provenance import FORMAT, sidecar_path, write_features
from mmstudy.errors import DataError
from mmstudy.hashing import file_sha256

EXTRACTOR = {"spec": {"preset": "minilm-l3-onnx"}, "backend": "onnx-text", "model": "m.onnx", "layer": "461",
             "weights_sha256": "ab" * 32, "dim": 2}


def record(ids, missing=(), kind="text"):
    return {"modality": {"name": "text", "kind": kind}, "extractor": EXTRACTOR,
            "items": {"count": len(ids), "ids": list(ids), "present": len(ids) - len(missing),
                      "missing": list(missing)},
            "dataset": {"name": "toy"}, "source": {"kind": "table column", "path": "items.tsv", "column": "title",
                                                  "sha256": "cd" * 32, "content_sha256": "ef" * 32},
            "command": "python -m mmstudy data extract toy", "created": "2025-01-01T00:00:00Z"}


@pytest.fixture
def extracted(mmrec_dir):
    """toy/text_feat.npy (4 items x 2; item 2 without content) with its sidecar; toy/text.npy is removed."""
    (mmrec_dir / "text.npy").unlink()
    feats = np.arange(8, dtype=np.float32).reshape(4, 2)
    feats[2] = 0
    write_features(mmrec_dir / "text_feat.npy", feats, record([0, 1, 2, 3], missing=[2]))
    return mmrec_dir


def test_write_features_records_the_files_checksum_and_shape(extracted):
    side = json.loads(sidecar_path(extracted / "text_feat.npy").read_text())
    assert side["format"] == FORMAT
    assert side["features"] == {"file": "text_feat.npy", "sha256": file_sha256(extracted / "text_feat.npy"),
                                "shape": [4, 2], "dtype": "float32"}
    assert side["items"]["missing"] == [2] and side["extractor"] == EXTRACTOR


def test_loader_carries_the_provenance_onto_the_modality(extracted):
    mod = load_mmrec(extracted).modalities["text_feat"]
    assert mod.kind == "text"  # from the sidecar: the name alone would make it 'other'
    np.testing.assert_array_equal(mod.present, [True, True, False, True])
    record_ = mod.info["extractor"]
    assert record_["spec"] == {"preset": "minilm-l3-onnx"} and record_["weights_sha256"] == "ab" * 32
    prov = record_["provenance"]
    assert prov["sidecar"] == str(extracted / "text_feat.npy.provenance.json")
    assert prov["features_sha256"] == file_sha256(extracted / "text_feat.npy") and prov["missing_items"] == 1
    assert prov["source"]["column"] == "title" and prov["command"] == "python -m mmstudy data extract toy"


def test_a_file_without_sidecar_loads_as_before(mmrec_dir):
    mod = load_mmrec(mmrec_dir).modalities["text"]
    assert mod.present.all() and "extractor" not in mod.info and mod.kind == "text"


def test_rows_are_matched_by_id_when_item_ids_are_given(extracted):
    mod = feature_modality("text", extracted / "text_feat.npy", 2, item_ids=np.array([3, 2]))
    np.testing.assert_array_equal(mod.features, [[6, 7], [0, 0]])
    np.testing.assert_array_equal(mod.present, [True, False])


def test_an_interrupted_write_leaves_no_file(tmp_path, monkeypatch):
    def interrupted(path, obj):
        raise KeyboardInterrupt

    monkeypatch.setattr(provenance, "write_json", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_features(tmp_path / "text_feat.npy", np.ones((3, 2)), record([0, 1, 2]))
    assert list(tmp_path.iterdir()) == []  # neither the .npy, its sidecar nor a temporary file


def _tamper(folder):
    np.save(folder / "text_feat.npy", np.ones((4, 2), np.float32))


def _other_items(folder):
    side = sidecar_path(folder / "text_feat.npy")
    data = json.loads(side.read_text())
    data["items"]["ids"] = [0, 1, 2, 3, 4]
    side.write_text(json.dumps(data))


def _bad_json(folder):
    sidecar_path(folder / "text_feat.npy").write_text("{not json")


def _kind(folder):
    write_features(folder / "text_feat.npy", np.ones((4, 2)), record([0, 1, 2, 3], kind="image"))


@pytest.mark.parametrize("damage, load, message", [
    (_tamper, lambda d: load_mmrec(d),
     r"text_feat\.npy has SHA-256 [0-9a-f]{64}, but its provenance sidecar text_feat\.npy\.provenance\.json records "
     r"[0-9a-f]{64}: the features changed after extraction"),
    (_other_items, lambda d: load_mmrec(d),
     r"text_feat\.npy\.provenance\.json describes 5 items \(features \[4, 2\]\), but text_feat\.npy holds \[4, 2\]"),
    (lambda d: None, lambda d: feature_modality("text", d / "text_feat.npy", 3, item_ids=np.array([0, 1, 7])),
     r"provenance\.json records features of 4 items, but the dataset has 3 and item 7 is not among them"),
    (_bad_json, lambda d: load_mmrec(d), r"text_feat\.npy\.provenance\.json: not valid JSON \(line 1"),
    (_kind, lambda d: load_mmrec(d, kinds={"text_feat": "text"}),
     r"text_feat\.npy: its sidecar records image features, but modality 'text_feat' is text"),
])
def test_bad_sidecars_are_one_line(extracted, damage, load, message):
    damage(extracted)
    with pytest.raises(DataError, match=message) as info:
        load(extracted)
    assert "\n" not in str(info.value)


def test_an_mmrec_folder_checks_the_sidecars_item_ids(extracted):
    side = sidecar_path(extracted / "text_feat.npy")
    data = json.loads(side.read_text())
    data["items"]["ids"] = ["a", "b", "c", "d"]  # extracted for a dataset with other ids
    side.write_text(json.dumps(data))
    with pytest.raises(DataError, match=r"records features of 4 items, but the dataset has 4 and item 0 is not"):
        load_mmrec(extracted)
