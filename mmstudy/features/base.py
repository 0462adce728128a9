"""The `Extractor` interface, device selection, weight checksums and `extract_modality`."""
from __future__ import annotations

import abc
import inspect
import os
import time
from pathlib import Path
from typing import Any, ClassVar, Sequence

import numpy as np
import torch
from tqdm.auto import tqdm

from ..data.modality import Modality
from ..device import resolve_device
from ..errors import ConfigError, DataError, MMStudyError
from ..hashing import file_sha256, fingerprint
from ..registry import Registry
from .preprocess import image_batch

EXTRACTORS: Registry[type["Extractor"]] = Registry("extractor")


class MissingWeightsError(MMStudyError, FileNotFoundError):
    """Model weights are not on this machine; the message says what to install or download."""


class ChecksumError(DataError):
    """A weight file's SHA-256 differs from the pinned one; the message names file and hashes."""


_SHA_CACHE: dict[tuple[str, int, int], str] = {}


def cached_sha256(path: str | os.PathLike) -> str:
    """`file_sha256`, memoised per (path, size, mtime) so large weights are hashed once per process."""
    path = Path(path).resolve()
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _SHA_CACHE:
        _SHA_CACHE[key] = file_sha256(path)
    return _SHA_CACHE[key]


def verify_sha256(path: str | os.PathLike, expected: str | None) -> str:
    """The file's SHA-256; raises `ChecksumError` when `expected` is given and differs."""
    if not Path(path).is_file():
        raise MissingWeightsError(f"weight file not found: {path}")
    actual = cached_sha256(path)
    if expected is not None and actual != expected.lower():
        raise ChecksumError(f"checksum mismatch for {path}: expected SHA-256 {expected}, got {actual}; "
                            "the file is corrupt or a different version: reinstall or re-download it")
    return actual


def raw_available(item: object, kind: str) -> bool:
    """Whether a raw entry holds content: a non-empty text, or an existing image file."""
    if item is None:
        return False
    if kind == "text":
        return isinstance(item, str) and bool(item.strip())
    if kind == "image":
        return isinstance(item, (str, os.PathLike)) and Path(item).is_file()
    return True


class Extractor(abc.ABC):
    """Turns raw items (texts, image paths) into a float32 feature matrix.

    Parameters are set in `__init__` and stored under the same names (scikit-learn style); the
    model is loaded lazily (`load`, the first `extract`, or `output_dim`). Subclasses implement
    `_load(device)` (which sets `self._dim`), `_encode(batch, kind) -> np.ndarray` and `describe()`.
    """

    backend: ClassVar[str] = ""
    modality_kinds: ClassVar[tuple[str, ...]] = ()
    # Parameters that locate files or folders: identities record "local" instead of the path (the
    # contents are hashed in describe()), so the same weights installed elsewhere match.
    location_params: ClassVar[tuple[str, ...]] = ()

    def __init__(self) -> None:
        self._device: torch.device | None = None
        self._dim: int | None = None

    # -- parameters and identity -------------------------------------------------------------
    def get_params(self) -> dict[str, Any]:
        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {name: getattr(self, name) for name in names}

    @abc.abstractmethod
    def describe(self) -> dict[str, Any]:
        """model, layer, preprocessing and weights_sha256 / files_sha256 of this extractor."""

    @property
    def output_dim(self) -> int:
        """Number of feature dimensions produced per item (loads the model on first use)."""
        if self._dim is None:
            self._ensure_loaded(self._device or torch.device("cpu"))
        return int(self._dim)

    def load(self, device: str | torch.device = "cpu") -> "Extractor":
        """Load the model onto `device` now (otherwise the first `extract` does); returns self."""
        self._ensure_loaded(resolve_device(device))
        return self

    def identity(self) -> dict[str, Any]:
        """Everything that determines the output: what feature stores are keyed by."""
        return {"backend": self.backend, "modality_kinds": list(self.modality_kinds),
                **self.describe(), "dim": self.output_dim, "params": self.identity_params()}

    def identity_params(self) -> dict[str, Any]:
        params = self.get_params()
        for key in self.location_params:
            if params.get(key) is not None and Path(params[key]).expanduser().exists():
                params[key] = "local"
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in params.items()}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    # -- extraction ------------------------------------------------------------------------------
    def extract(self, raw_items: Sequence[object], batch_size: int = 32, device: str = "cpu",
                progress: bool = True, kind: str | None = None) -> np.ndarray:
        """Features (len(raw_items) x output_dim, float32) for items that all have content."""
        kind = self._check_kind(kind)
        if batch_size < 1:
            raise ConfigError(f"batch_size must be >= 1, got {batch_size}")
        missing = [i for i, item in enumerate(raw_items) if item is None]
        if missing:
            raise DataError(f"{type(self).__name__}.extract: item {missing[0]} is None ({len(missing)} missing); "
                            "use extract_modality() to skip missing items")
        self.load(device)
        if len(raw_items) == 0:
            return np.zeros((0, self.output_dim), dtype=np.float32)
        order = length_order(raw_items) if kind == "text" else np.arange(len(raw_items))
        out = np.empty((len(raw_items), self.output_dim), dtype=np.float32)
        with tqdm(total=len(order), disable=not progress, desc=f"{self.backend} {kind}", unit="item") as bar:
            for start in range(0, len(order), batch_size):
                rows = order[start:start + batch_size]
                out[rows] = self._encode([raw_items[i] for i in rows], kind)
                bar.update(len(rows))
        return out

    def inputs_for(self, modality: Modality) -> tuple[np.ndarray, Sequence[object]]:
        """(available mask, per-item inputs to `extract`) for a modality's items."""
        if modality.raw is None:
            raise ConfigError(f"modality {modality.name!r} has no raw content to extract features from")
        bad = [i for i, r in enumerate(modality.raw)
               if r is not None and not isinstance(r, (str, os.PathLike))]
        if bad:
            raise DataError(f"modality {modality.name!r}: raw entry of row {bad[0]} is a "
                            f"{type(modality.raw[bad[0]]).__name__}, expected a text or a path (or None)")
        available = np.fromiter((raw_available(r, modality.kind) for r in modality.raw), bool, modality.n_items)
        return available, modality.raw

    def _check_kind(self, kind: str | None) -> str:
        if kind is None:
            if len(self.modality_kinds) != 1:
                raise ConfigError(f"{type(self).__name__} serves {self.modality_kinds}: pass kind=")
            return self.modality_kinds[0]
        if kind not in self.modality_kinds:
            raise ConfigError(f"{type(self).__name__} extracts {self.modality_kinds} features, not {kind!r}")
        return kind

    def _ensure_loaded(self, device: torch.device) -> None:
        if self._device != device:
            self._load(device)
            self._device = device

    @abc.abstractmethod
    def _load(self, device: torch.device) -> None:
        """Load (or move) the model onto `device` and set `self._dim`."""

    @abc.abstractmethod
    def _encode(self, batch: list, kind: str) -> np.ndarray:
        """Features of one batch of raw items (batch x output_dim)."""


def load_state_dict(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Tensors from a .safetensors file or a torch checkpoint (loaded with weights_only=True)."""
    path = Path(path)
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file
        return load_file(str(path), device="cpu")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # pickle errors, truncated zip archives
        raise DataError(f"cannot load weights {path} with torch.load(weights_only=True): {exc}") from exc
    if not isinstance(state, dict):
        raise DataError(f"weights {path} hold a {type(state).__name__}, expected a state dict of tensors")
    return state


def load_into(model: torch.nn.Module, state: dict[str, torch.Tensor], path: str | os.PathLike) -> None:
    """`model.load_state_dict(state, strict=True)`; a key/shape mismatch names the file."""
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise DataError(f"weights {path} do not fit {type(model).__name__}: {str(exc)[:600]}") from exc


def run_image_model(forward, paths: Sequence[object], transform, device: torch.device) -> np.ndarray:
    """Load, transform and stack image files, run `forward` without gradients, flatten to float32."""
    batch = torch.from_numpy(image_batch(paths, transform)).to(device)
    with torch.inference_mode():
        return forward(batch).flatten(1).float().cpu().numpy()


def seeded_init(build, seed: int):
    """Call `build()` (a randomly initialised model) under a fixed seed without touching global RNG state."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build()


def length_order(texts: Sequence[object]) -> np.ndarray:
    """Indices of `texts` from longest to shortest (stable), to batch similar lengths together."""
    return np.argsort([-len(str(t)) for t in texts], kind="stable")


def files_sha256(paths: Sequence[Path]) -> dict[str, str]:
    """{file name: SHA-256} for the given files."""
    return {p.name: cached_sha256(p) for p in sorted(paths)}


def extract_modality(extractor: Extractor, modality: Modality, batch_size: int = 32, device: str = "cpu",
                     progress: bool = True) -> Modality:
    """Extract features for the items of `modality` that are present and have raw content.

    Rows without content (raw None, empty text, missing image file, or already absent) stay zero
    with `present` False. The identity and timings (model loading apart from extraction) go to
    `info["extraction"]`.
    """
    if modality.kind not in extractor.modality_kinds:
        raise ConfigError(f"extractor {type(extractor).__name__} serves {extractor.modality_kinds} modalities; "
                          f"modality {modality.name!r} is {modality.kind!r}")
    available, inputs = extractor.inputs_for(modality)
    present = modality.present & available
    rows = np.flatnonzero(present)
    start = time.perf_counter()
    extractor.load(device)
    loaded = time.perf_counter()
    feats = extractor.extract([inputs[i] for i in rows], batch_size=batch_size, device=device,
                              progress=progress, kind=modality.kind)
    seconds = time.perf_counter() - loaded
    out = np.zeros((modality.n_items, feats.shape[1]), dtype=np.float32)
    out[rows] = feats
    identity = extractor.identity()
    info = {"identity": identity, "extractor_fingerprint": fingerprint(identity),
            "n_extracted": int(rows.size), "n_without_content": int((modality.present & ~available).sum()),
            "load_seconds": loaded - start, "seconds": seconds, "seconds_per_item": seconds / max(rows.size, 1),
            "device": str(resolve_device(device)), "batch_size": batch_size}
    return modality.with_features(out, present=present, extraction=info)
