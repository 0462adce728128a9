"""A content-addressed on-disk store of extracted features: extract once, load ever after.

An entry's key fingerprints the raw content actually extracted (texts, or the SHA-256 of each image
file, plus the presence mask), the modality kind and the extractor identity (backend, model, layer,
preprocessing, weights SHA-256). Entries are `<key>/features.npy`, `present.npy` and
`manifest.json` (written last; it holds the SHA-256 of both arrays, so a corrupt or partial entry
is detected and re-extracted).
"""
from __future__ import annotations

import importlib.metadata
import json
import os
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from ..data.modality import Modality
from ..hashing import atomic_path, file_sha256, fingerprint, write_json
from .base import Extractor, cached_sha256, extract_modality

_ARRAYS = ("features", "present")
_LIBRARIES = ("torch", "torchvision", "transformers", "timm", "onnxruntime", "numpy")


def content_hash(extractor: Extractor, modality: Modality) -> str:
    """Fingerprint of what would be extracted: per item its text / image-file SHA-256, or None."""
    available, inputs = extractor.inputs_for(modality)
    present = modality.present & available
    is_file = modality.kind == "image" and extractor.backend != "precomputed"
    content = [None if not keep else (cached_sha256(item) if is_file else str(item))
               for keep, item in zip(present, inputs)]
    return fingerprint({"n_items": modality.n_items, "items": content})


def library_versions() -> dict[str, str]:
    versions = {}
    for name in _LIBRARIES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


class FeatureStore:
    """Features keyed by content and extractor identity under `directory` (created on first write)."""

    def __init__(self, directory: str | os.PathLike):
        self.directory = Path(directory).expanduser()

    def key(self, extractor: Extractor, modality: Modality) -> str:
        return fingerprint({"content": content_hash(extractor, modality), "kind": modality.kind,
                            "extractor": extractor.identity()})

    def path(self, key: str) -> Path:
        return self.directory / key

    def get_or_extract(self, extractor: Extractor, modality: Modality, batch_size: int = 32,
                       device: str = "cpu", progress: bool = True) -> Modality:
        """The modality with extracted features, loaded from the store when already extracted."""
        key = self.key(extractor, modality)
        cached = self.load(key, modality)
        if cached is not None:
            return cached
        result = extract_modality(extractor, modality, batch_size=batch_size, device=device, progress=progress)
        manifest = self._save(key, result)
        return result.with_features(result.features, extraction={**result.info["extraction"],
                                                                  "store": self._store_info(key, manifest, False)})

    def load(self, key: str, modality: Modality) -> Modality | None:
        """The stored entry applied to `modality`, or None when absent or corrupt (with a warning)."""
        entry = self.path(key)
        if not (entry / "manifest.json").is_file():
            return None
        try:
            manifest = json.loads((entry / "manifest.json").read_text())
            problem = self._problem(entry, manifest, modality)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            problem = f"{type(exc).__name__}: {exc}"
        if problem:
            warnings.warn(f"feature store entry {entry} is unusable ({problem}); extracting again", stacklevel=3)
            return None
        features, present = (np.load(entry / f"{name}.npy", allow_pickle=False) for name in _ARRAYS)
        info = {**manifest["extraction"], "store": self._store_info(key, manifest, True)}
        return modality.with_features(features, present=present, extraction=info)

    @staticmethod
    def _problem(entry: Path, manifest: dict[str, Any], modality: Modality) -> str | None:
        """Why an entry cannot be used (hash mismatch, other item count), or None."""
        for name in _ARRAYS:
            expected, actual = manifest["files"][f"{name}.npy"], file_sha256(entry / f"{name}.npy")
            if actual != expected:
                return f"{name}.npy has SHA-256 {actual}, manifest says {expected}"
        if manifest["modality"]["n_items"] != modality.n_items:
            return f"stored for {manifest['modality']['n_items']} items, modality has {modality.n_items}"
        return None

    def _save(self, key: str, result: Modality) -> dict[str, Any]:
        entry = self.path(key)
        files = {}
        for name, array in zip(_ARRAYS, (result.features, result.present)):
            with atomic_path(entry / f"{name}.npy") as tmp:
                with open(tmp, "wb") as handle:
                    np.save(handle, array, allow_pickle=False)
                files[f"{name}.npy"] = file_sha256(tmp)
        extraction = result.info["extraction"]
        manifest = {"key": key, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    "mmstudy": __version__, "files": files, "environment": library_versions(),
                    "modality": {"name": result.name, "kind": result.kind, "n_items": result.n_items,
                                 "n_present": int(result.present.sum()), "dim": result.dim},
                    "weights_sha256": extraction["identity"].get("weights_sha256"),
                    "extraction": extraction}
        write_json(entry / "manifest.json", manifest)
        return manifest

    def _store_info(self, key: str, manifest: dict[str, Any], hit: bool) -> dict[str, Any]:
        return {"key": key, "path": str(self.path(key)), "hit": hit, "created": manifest["created"]}
