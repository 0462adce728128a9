"""FeatureStore: content-addressed keys, no re-extraction, corruption detection."""
import json

import numpy as np
import pytest

from mmstudy.features import FeatureStore, HFClipExtractor, HFTextExtractor, TorchvisionExtractor
from mmstudy.features.store import content_hash

from .helpers import CountingExtractor, raw_modality

TEXTS = ["rock", None, "indie pop", "jazz"]


def test_second_call_loads_from_disk(tmp_path, counting):
    store = FeatureStore(tmp_path)
    modality = raw_modality(TEXTS)
    first = store.get_or_extract(counting, modality, progress=False)
    assert counting.encoded == 3 and first.info["extraction"]["store"]["hit"] is False
    again = FeatureStore(tmp_path).get_or_extract(counting, modality, progress=False)  # a new process, same dir
    assert counting.encoded == 3 and again.info["extraction"]["store"]["hit"] is True
    np.testing.assert_array_equal(again.features, first.features)
    np.testing.assert_array_equal(again.present, [True, False, True, True])
    assert again.info["extraction"]["n_extracted"] == 3 and again.raw == TEXTS


def test_manifest_records_dims_timings_identity(tmp_path, counting):
    store = FeatureStore(tmp_path)
    out = store.get_or_extract(counting, raw_modality(TEXTS), progress=False)
    entry = store.path(out.info["extraction"]["store"]["key"])
    manifest = json.loads((entry / "manifest.json").read_text())
    assert manifest["modality"] == {"name": "m", "kind": "text", "n_items": 4, "n_present": 3, "dim": 3}
    assert manifest["extraction"]["identity"]["backend"] == "counting"
    assert manifest["extraction"]["seconds_per_item"] >= 0 and "torch" in manifest["environment"]
    assert set(manifest["files"]) == {"features.npy", "present.npy"}
    assert sorted(p.name for p in entry.iterdir()) == ["features.npy", "manifest.json", "present.npy"]


def test_key_depends_on_content_presence_kind_and_extractor(tmp_path, counting, images):
    store = FeatureStore(tmp_path)
    base = raw_modality(TEXTS)
    key = store.key(counting, base)
    assert store.key(CountingExtractor(), raw_modality(list(TEXTS), name="other")) == key  # content-addressed
    variants = [store.key(counting, raw_modality(["rock", None, "indie pop", "jazz!"])),
                store.key(counting, base.with_features(base.features, present=np.array([1, 1, 1, 0], bool))),
                store.key(CountingExtractor(scale=2.0), base),
                store.key(counting, raw_modality(images + [None], kind="image"))]
    assert len({key, *variants}) == 5


def test_image_key_follows_file_content(tmp_path, counting, images):
    import shutil
    path = tmp_path / "poster.jpg"
    shutil.copyfile(images[0], path)
    modality = raw_modality([str(path)], kind="image")
    before = content_hash(counting, modality)
    shutil.copyfile(images[2], path)
    assert content_hash(counting, modality) != before


def test_key_changes_with_layer_and_preprocessing(tmp_path, images, tiny_bert):
    store = FeatureStore(tmp_path)
    modality = raw_modality(images, kind="image")
    pooled = TorchvisionExtractor("resnet18", pretrained=False)
    layer4 = TorchvisionExtractor("resnet18", layer="layer4.1.relu_1", pretrained=False)
    assert store.key(pooled, modality) != store.key(layer4, modality)
    texts = raw_modality(["rock", "jazz"])
    keys = {store.key(HFTextExtractor(tiny_bert, max_length=m, normalize=n), texts)
            for m, n in [(16, False), (32, False), (16, True)]}
    assert len(keys) == 3


def test_corrupt_entry_is_detected_and_re_extracted(tmp_path, counting):
    store = FeatureStore(tmp_path)
    modality = raw_modality(TEXTS)
    first = store.get_or_extract(counting, modality, progress=False)
    features = store.path(first.info["extraction"]["store"]["key"]) / "features.npy"
    data = bytearray(features.read_bytes())
    data[-1] ^= 0x01
    features.write_bytes(bytes(data))
    with pytest.warns(UserWarning, match="features.npy has SHA-256"):
        repaired = store.get_or_extract(counting, modality, progress=False)
    assert counting.encoded == 6 and repaired.info["extraction"]["store"]["hit"] is False
    np.testing.assert_array_equal(repaired.features, first.features)
    assert store.get_or_extract(counting, modality, progress=False).info["extraction"]["store"]["hit"]
    assert counting.encoded == 6


def test_truncated_manifest_is_re_extracted(tmp_path, counting):
    store = FeatureStore(tmp_path)
    modality = raw_modality(TEXTS)
    key = store.get_or_extract(counting, modality, progress=False).info["extraction"]["store"]["key"]
    (store.path(key) / "manifest.json").write_text("{")
    with pytest.warns(UserWarning, match="unusable"):
        store.get_or_extract(counting, modality, progress=False)
    assert counting.encoded == 6


def test_joint_model_entries_per_kind(tmp_path, tiny_clip, images):
    store = FeatureStore(tmp_path)
    clip = HFClipExtractor(tiny_clip)
    text = store.get_or_extract(clip, raw_modality(["rock", "jazz", None]), progress=False)
    image = store.get_or_extract(clip, raw_modality(images, kind="image"), progress=False)
    assert text.info["extraction"]["store"]["key"] != image.info["extraction"]["store"]["key"]
    assert (text.dim, image.dim) == (16, 16) and text.present.tolist() == [True, True, False]
    again = store.get_or_extract(clip, raw_modality(images, kind="image"), progress=False)
    assert again.info["extraction"]["store"]["hit"]
    np.testing.assert_array_equal(again.features, image.features)
