"""transformers backends on tiny randomly initialised models saved to tmp folders (no hub access)."""
import shutil

import numpy as np
import pytest
import torch

from mmstudy.errors import ConfigError
from mmstudy.features import HFClipExtractor, HFImageExtractor, HFTextExtractor, extract_modality
from mmstudy.features.base import ChecksumError, MissingWeightsError

from .helpers import raw_modality

TEXTS = ["rock, indie", "a man is playing guitar , seen live", "jazz"]


def test_text_mean_pooling_normalised_and_padding_invariant(tiny_bert):
    ex = HFTextExtractor(tiny_bert, normalize=True)
    out = ex.extract(TEXTS, batch_size=3, progress=False)
    assert out.shape == (3, 32) and out.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, rtol=1e-5)
    alone = np.vstack([ex.extract([t], progress=False) for t in TEXTS])  # no padding at all
    np.testing.assert_allclose(out, alone, atol=1e-5)
    np.testing.assert_array_equal(out, HFTextExtractor(tiny_bert, normalize=True).extract(TEXTS, progress=False))


def test_text_matches_manual_mean_pooling(tiny_bert):
    from transformers import AutoModel, AutoTokenizer
    tok, net = AutoTokenizer.from_pretrained(tiny_bert), AutoModel.from_pretrained(tiny_bert).eval()
    enc = tok(["  rock, indie  "], return_tensors="pt")
    with torch.no_grad():
        expected = net(**enc).last_hidden_state.mean(1).numpy()
    np.testing.assert_allclose(HFTextExtractor(tiny_bert).extract(["  rock, indie  "], progress=False), expected,
                               atol=1e-5)


def test_text_truncation_and_pooling_options(tiny_bert):
    long = " ".join(["rock"] * 40)
    short = " ".join(["rock"] * 6)  # max_length 8 = [CLS] + 6 words + [SEP]
    ex = HFTextExtractor(tiny_bert, max_length=8)
    np.testing.assert_allclose(ex.extract([long], progress=False), ex.extract([short], progress=False), atol=1e-6)
    cls = HFTextExtractor(tiny_bert, pooling="cls").extract(TEXTS[:1], progress=False)
    assert not np.allclose(cls, HFTextExtractor(tiny_bert).extract(TEXTS[:1], progress=False))
    with pytest.raises(ConfigError, match="pooling"):
        HFTextExtractor(tiny_bert, pooling="max")


def test_identity_is_location_free_and_hashes_files(tiny_bert, tmp_path):
    copy = shutil.copytree(tiny_bert, tmp_path / "tiny-bert")
    a, b = HFTextExtractor(tiny_bert), HFTextExtractor(str(copy))
    assert a.identity() == b.identity() and a.identity()["model"] == "local folder"
    ident = a.identity()
    assert ident["dim"] == 32 and len(ident["weights_sha256"]) == 64
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= set(ident["files_sha256"])
    assert ident["preprocessing"]["max_length"] == 256
    assert HFTextExtractor(tiny_bert, max_length=16).identity() != ident
    assert HFTextExtractor(tiny_bert, name="tiny").identity()["model"] == "tiny"


def test_checksum_and_missing_models(tiny_bert, tmp_path):
    with pytest.raises(ChecksumError, match="model.safetensors"):
        HFTextExtractor(tiny_bert, sha256="0" * 64).extract(TEXTS, progress=False)
    with pytest.raises(MissingWeightsError, match="hf download mmstudy-tests/not-cached"):
        HFTextExtractor("mmstudy-tests/not-cached").extract(TEXTS, progress=False)
    pickled = shutil.copytree(tiny_bert, tmp_path / "pickled")
    (pickled / "model.safetensors").unlink()
    with pytest.raises(ConfigError, match="only safetensors"):
        HFTextExtractor(str(pickled)).extract(TEXTS, progress=False)


def test_hub_name_resolves_from_cache(tiny_bert, tmp_path, monkeypatch):
    from huggingface_hub import constants
    repo = tmp_path / "models--mmstudy-tests--tiny-bert"
    shutil.copytree(tiny_bert, repo / "snapshots" / "0123abc")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0123abc")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    cached = HFTextExtractor("mmstudy-tests/tiny-bert").extract(TEXTS, progress=False)
    np.testing.assert_array_equal(cached, HFTextExtractor(tiny_bert).extract(TEXTS, progress=False))


def test_image_encoder(tiny_vit, images):
    ex = HFImageExtractor(tiny_vit)
    out = ex.extract(images, batch_size=2, progress=False)
    assert out.shape == (3, 32) and np.isfinite(out).all()
    np.testing.assert_allclose(out, HFImageExtractor(tiny_vit).extract(images, progress=False), atol=1e-6)
    assert HFImageExtractor(tiny_vit, pooling="mean").extract(images[:1], progress=False).shape == (1, 32)
    assert ex.identity()["preprocessing"]["image_processor"]["image_processor_type"] == "ViTImageProcessor"


def test_clip_serves_both_modalities(tiny_clip, images):
    ex = HFClipExtractor(tiny_clip, normalize=True)
    text = ex.extract(TEXTS, kind="text", progress=False)
    image = ex.extract(images, kind="image", progress=False)
    assert text.shape == (3, 16) and image.shape == (3, 16)
    np.testing.assert_allclose(np.linalg.norm(image, axis=1), 1.0, rtol=1e-5)
    with pytest.raises(ConfigError, match="pass kind="):
        ex.extract(TEXTS, progress=False)
    both = [extract_modality(ex, raw_modality(raw, kind), progress=False)
            for raw, kind in [([TEXTS[0], None], "text"), ([images[0], None], "image")]]
    assert [m.dim for m in both] == [16, 16] and [m.present.tolist() for m in both] == [[True, False]] * 2
    np.testing.assert_allclose(both[1].features[0], image[0], atol=1e-6)


def test_clip_rejects_non_joint_models(tiny_vit):
    with pytest.raises(ConfigError, match="ViTModel.* not a joint image-text model"):
        HFClipExtractor(tiny_vit).output_dim
