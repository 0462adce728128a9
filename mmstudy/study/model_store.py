"""Trained models that several cells share, keyed by what determines the training.

The serving phase trains each (model, seed) once on complete content and serves it to every
strategy and rate; this store keeps that training: in memory for the process and, with a cache
folder, on disk (`<cache>/models/<key>.safetensors` with the weights, `<key>.json` with the
selection record), written atomically. A lock file per key makes concurrent workers train a model
once: the second waits, then loads. Weights are read with safetensors (no pickle).
"""
from __future__ import annotations

import fcntl
import json
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import torch
from safetensors.torch import load_file, save_file

from ..hashing import atomic_path, write_json


@dataclass
class TrainedModel:
    """A trained model's weights and its selection record (params, trials, epochs, timings, curve)."""

    state: dict[str, torch.Tensor]
    record: dict


class ModelStore:
    def __init__(self, directory: str | Path | None = None):
        self.directory = Path(directory) if directory else None
        self._memory: dict[str, TrainedModel] = {}
        self.trained = 0  # models trained by this store (not loaded): what a test can count

    def get(self, key: str, train: Callable[[], TrainedModel]) -> tuple[TrainedModel, bool]:
        """(the model under `key`, whether it was reused); `train()` runs only when nobody has it."""
        if key in self._memory:
            return self._memory[key], True
        with self._lock(key):
            model = self._load(key)
            reused = model is not None
            if model is None:
                model = train()
                self.trained += 1
                self._save(key, model)
        self._memory[key] = model
        return model, reused

    @contextmanager
    def _lock(self, key: str) -> Iterator[None]:
        if self.directory is None:
            yield
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / f"{key}.lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _load(self, key: str) -> TrainedModel | None:
        if self.directory is None or not (self.directory / f"{key}.json").is_file():
            return None
        record = json.loads((self.directory / f"{key}.json").read_text())
        return TrainedModel(load_file(self.directory / f"{key}.safetensors"), record)

    def _save(self, key: str, model: TrainedModel) -> None:
        if self.directory is None:
            return
        with atomic_path(self.directory / f"{key}.safetensors") as tmp:
            save_file({k: v.detach().cpu().contiguous() for k, v in model.state.items()}, str(tmp))
        write_json(self.directory / f"{key}.json", model.record)  # written last: its presence means complete
