"""Helpers shared by the feature-extraction tests."""
from __future__ import annotations

import importlib.metadata

import numpy as np
import pytest

from mmstudy.data.modality import Modality
from mmstudy.features.base import Extractor


def installed(dist: str) -> bool:
    try:
        importlib.metadata.distribution(dist)
        return True
    except importlib.metadata.PackageNotFoundError:
        return False


def needs(*dists: str):
    missing = [d for d in dists if not installed(d)]
    return pytest.mark.skipif(bool(missing), reason=f"weight packages not installed: {missing}")


class CountingExtractor(Extractor):
    """A deterministic fake: features (length, scale, item checksum); counts encoded items."""

    backend = "counting"
    modality_kinds = ("text", "image")

    def __init__(self, scale: float = 1.0):
        super().__init__()
        self.scale = scale
        self.encoded = 0
        self.loads = 0

    def describe(self):
        return {"model": "counting", "layer": "none", "preprocessing": {"scale": self.scale},
                "weights_sha256": None}

    def _load(self, device):
        self.loads += 1
        self._dim = 3

    def _encode(self, batch, kind):
        self.encoded += len(batch)
        return np.array([[len(str(x)), self.scale, sum(map(ord, str(x))) % 97] for x in batch], np.float32)


def raw_modality(raw: list, kind: str = "text", name: str = "m") -> Modality:
    """A modality awaiting extraction: raw content, zero-width features, every item present."""
    return Modality(name, kind, np.zeros((len(raw), 0), np.float32), np.ones(len(raw), bool), raw=raw)
