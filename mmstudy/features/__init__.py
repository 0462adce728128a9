"""Feature extraction: extractor backends, an offline model zoo with pinned checksums, a feature store."""
from .base import (EXTRACTORS, ChecksumError, Extractor, MissingWeightsError, extract_modality,
                   verify_sha256)
from .extractors import (EfficientNetLiteExtractor, HFClipExtractor, HFImageExtractor, HFTextExtractor,
                         OnnxImageExtractor, OnnxTextExtractor, PrecomputedExtractor, TorchvisionExtractor)
from .store import FeatureStore
from .zoo import PRESETS, preset_table, resolve_preset


def make_extractor(name: str, **params) -> Extractor:
    """An extractor by backend name (`EXTRACTORS`, did-you-mean on typos) and its parameters."""
    return EXTRACTORS.get(name)(**params)


__all__ = ["EXTRACTORS", "PRESETS", "ChecksumError", "EfficientNetLiteExtractor", "Extractor", "FeatureStore",
           "HFClipExtractor", "HFImageExtractor", "HFTextExtractor", "MissingWeightsError", "OnnxImageExtractor",
           "OnnxTextExtractor", "PrecomputedExtractor", "TorchvisionExtractor", "extract_modality",
           "make_extractor", "preset_table", "resolve_preset", "verify_sha256"]
