"""torchvision backend on a randomly initialised resnet18 (no downloads)."""
import numpy as np
import pytest
import torch
import torchvision

from mmstudy.errors import ConfigError, DataError
from mmstudy.features import TorchvisionExtractor
from mmstudy.features.base import ChecksumError, MissingWeightsError, seeded_init
from mmstudy.registry import UnknownNameError


@pytest.fixture(scope="module")
def resnet18():
    return TorchvisionExtractor("resnet18", pretrained=False, seed=0)


def test_random_resnet18_pooled_features(resnet18, images):
    out = resnet18.extract(images, batch_size=2, progress=False)
    assert out.shape == (3, 512) and out.dtype == np.float32 and np.isfinite(out).all()
    again = TorchvisionExtractor("resnet18", pretrained=False, seed=0).extract(images, progress=False)
    np.testing.assert_allclose(out, again, rtol=1e-5, atol=1e-6)  # same seed -> same model and features
    ident = resnet18.identity()
    assert ident["layer"] == "avgpool" and ident["dim"] == 512 and ident["weights_sha256"] is None
    assert ident["weights"] == "random-init(seed=0)" and ident["preprocessing"]["crop"] == 224


def test_seed_isolated_from_global_rng():
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    TorchvisionExtractor("resnet18", pretrained=False, seed=5).output_dim
    assert torch.rand(1) == before


def test_other_layer_and_bad_layer(images):
    layer4 = TorchvisionExtractor("resnet18", layer="layer4", pretrained=False)
    assert layer4.extract(images[:1], progress=False).shape == (1, 512 * 7 * 7)
    with pytest.raises(ConfigError, match="Did you mean 'layer4'"):
        TorchvisionExtractor("resnet18", layer="layer5", pretrained=False).output_dim


def test_default_layers():
    nodes = ["x", "features.0", "classifier.3", "classifier.6"]
    assert TorchvisionExtractor("vgg11", pretrained=False).default_layer(nodes) == "classifier.3"
    assert TorchvisionExtractor("mobilenet_v2", pretrained=False).default_layer(["x", "flatten", "fc"]) == "flatten"


def test_unknown_model_and_weights_tag():
    with pytest.raises(UnknownNameError, match="Did you mean 'resnet50'"):
        TorchvisionExtractor("resnet5O")
    with pytest.raises(ConfigError, match="IMAGENET1K_V1"):
        TorchvisionExtractor("resnet18", weights="IMAGENET22K")


def test_missing_cached_weights_say_what_to_download(monkeypatch, tmp_path):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(MissingWeightsError) as err:
        TorchvisionExtractor("resnet18", weights="IMAGENET1K_V1").weights_file()
    message = str(err.value)
    assert "https://download.pytorch.org/models/resnet18-f37072fd.pth" in message
    assert str(tmp_path / "hub" / "checkpoints" / "resnet18-f37072fd.pth") in message


def test_cached_weights_checked_against_file_name_hash(monkeypatch, tmp_path):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    target = tmp_path / "hub" / "checkpoints" / "resnet18-f37072fd.pth"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"not the real weights")
    with pytest.raises(ChecksumError, match="starting f37072fd"):
        TorchvisionExtractor("resnet18", weights="IMAGENET1K_V1").identity()


@pytest.mark.parametrize("suffix", [".pth", ".safetensors"])
def test_local_weights_file(tmp_path, images, resnet18, suffix):
    net = seeded_init(lambda: torchvision.models.resnet18(weights=None), 0)  # the fixture's random weights
    path = tmp_path / f"r18{suffix}"
    if suffix == ".pth":
        torch.save(net.state_dict(), path)
    else:
        from safetensors.torch import save_file
        save_file(net.state_dict(), str(path))
    local = TorchvisionExtractor("resnet18", weights_path=str(path))
    np.testing.assert_allclose(local.extract(images, progress=False), resnet18.extract(images, progress=False),
                               rtol=1e-5, atol=1e-6)
    assert local.identity()["params"]["weights_path"] == "local"  # location-free identity
    with pytest.raises(ChecksumError, match=path.name):
        TorchvisionExtractor("resnet18", weights_path=str(path), sha256="0" * 64).extract(images, progress=False)


def test_weights_of_another_model_are_rejected(tmp_path):
    path = tmp_path / "r34.pth"
    torch.save(torchvision.models.resnet34(weights=None).state_dict(), path)
    with pytest.raises(DataError, match="r34.pth"):
        TorchvisionExtractor("resnet18", weights_path=str(path)).output_dim
    with pytest.raises(MissingWeightsError, match="nowhere.pth"):
        TorchvisionExtractor("resnet18", weights_path=str(tmp_path / "nowhere.pth")).output_dim
