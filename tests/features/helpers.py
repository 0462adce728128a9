"""Helpers shared by the feature-extraction tests."""
from __future__ import annotations

import importlib.metadata
from pathlib import Path

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


TITLE_WORDS = ["rock", "indie", "pop", "jazz", "live", "guitar", "electronic", "ambient", "piano", "drums"]


def tiny_mmrec(folder, n_users: int = 40, n_items: int = 16, untitled=(5,), unlisted=(7,)):
    """An MMRec folder `<folder>/<folder name>.inter` (6 items per user: 4 train, 1 valid, 1 test),
    image_feat.npy, and items.tsv with a title per item, rows shuffled; items in `untitled` have a
    blank title and those in `unlisted` no row (so both lack text); returns {item: title}."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    lines = ["userID\titemID\trating\tx_label"]
    for user in range(n_users):
        items = rng.choice(n_items, size=6, replace=False)
        lines += [f"{user}\t{item}\t1\t{label}" for item, label in zip(items, [0, 0, 0, 0, 1, 2])]
    (folder / f"{folder.name}.inter").write_text("\n".join(lines) + "\n")
    np.save(folder / "image_feat.npy", rng.normal(size=(n_items, 8)).astype(np.float32))
    titles = {i: " ".join(rng.choice(TITLE_WORDS, size=2 + i % 3)) for i in range(n_items) if i not in unlisted}
    rows = [f"{i}\t{'' if i in untitled else titles[i]}" for i in rng.permutation(list(titles))]
    (folder / "items.tsv").write_text("itemID\ttitle\n" + "\n".join(rows) + "\n")
    return {i: t for i, t in titles.items() if i not in untitled}
