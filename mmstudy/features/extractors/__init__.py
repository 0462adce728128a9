"""Extractor backends; importing this package registers them in `EXTRACTORS`.

Heavy optional libraries (transformers, timm, onnxruntime) are imported only when a model loads.
"""
from .efficientnet_lite import EfficientNetLiteExtractor
from .hf_transformers import HFClipExtractor, HFImageExtractor, HFTextExtractor
from .onnx_models import OnnxImageExtractor, OnnxTextExtractor
from .precomputed import PrecomputedExtractor
from .torchvision_models import TorchvisionExtractor

__all__ = ["EfficientNetLiteExtractor", "HFClipExtractor", "HFImageExtractor", "HFTextExtractor",
           "OnnxImageExtractor", "OnnxTextExtractor", "PrecomputedExtractor", "TorchvisionExtractor"]
