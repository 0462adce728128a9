"""What the cells of one process share and the small pieces every cell executor uses: the
workspace (loaded datasets, splits, graphs, derived structures), the model input of handled data,
the points of a settings grid, and a cell's outcome."""
from __future__ import annotations

import itertools
import warnings
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

import pandas as pd
import torch

from ..data import load_dataset, load_or_make_split, make_split
from ..data.feedback import FeedbackWarning
from ..data.dataset import Dataset
from ..data.split import Split
from ..errors import ConfigError
from ..hashing import fingerprint
from ..missing.handling import HandledData
from ..models.base import ModelInput
from ..models.cache import DerivedCache
from .manifest import CellManifest
from .model_store import ModelStore


@dataclass
class CellOutcome:
    """What a finished cell leaves: per-user test metrics, its manifest, and extra tables
    (validation curve; the common-items view of a masked cell)."""

    per_user: pd.DataFrame
    manifest: CellManifest
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)


class Workspace:
    """Caches shared by the cells of one process (and, with a cache folder, by every worker):
    datasets, splits, graphs, derived structures and trained models that cells share."""

    def __init__(self, cache_dir: str | Path | None = None):
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self.datasets: dict[str, Dataset] = {}
        self.splits: dict[str, Split] = {}
        self.graphs: dict = {}
        self.derived = DerivedCache(self.cache_dir / "derived" if self.cache_dir else None)
        self.models = ModelStore(self.cache_dir / "models" if self.cache_dir else None)

    def dataset(self, cfg, device: str = "cpu", meter=None) -> Dataset:
        """The dataset of a DataConfig: loaded, features extracted per `cfg.features` (through the
        feature store under the cache folder, so nothing is extracted twice), modalities selected.
        meta["source_fingerprint"] identifies the data as loaded, before extraction and selection.
        `meter` (study.energy): the extraction is measured as its phase `feature_extraction`."""
        features = dict(getattr(cfg, "features", None) or {})
        key = fingerprint({"name": cfg.name, "options": dict(cfg.options), "modalities": cfg.modalities,
                           **({"features": features} if features else {})})
        if key not in self.datasets:
            with warnings.catch_warnings():  # said once by run_study; the manifest records the choice
                warnings.simplefilter("ignore", FeedbackWarning)
                data = load_dataset(cfg.name, **dict(cfg.options))
            source = data.fingerprint() if features or cfg.modalities is not None else None
            if features:  # extractor study (mmstudy.features.apply)
                from ..features.apply import apply_features
                with meter.phase("feature_extraction") if meter is not None else nullcontext():
                    data = apply_features(data, features, self.feature_store, device=device,
                                          image_dir=self.cache_dir / "images" if self.cache_dir else None)
            if cfg.modalities is not None:
                data = data.select_modalities(list(cfg.modalities))
            if source is not None:
                data = replace(data, meta={**data.meta, "source_fingerprint": source})
            self.datasets[key] = data
        return self.datasets[key]

    @property
    def feature_store(self):
        """The feature store under the cache folder (None without one: features are not persisted)."""
        from ..features.store import FeatureStore
        return FeatureStore(self.cache_dir / "features") if self.cache_dir else None

    def split(self, dataset: Dataset, cfg) -> Split:
        """The dataset's split for `cfg` ('auto' = the source's fixed split if any), persisted."""
        method = cfg.split if cfg.split != "auto" else ("fixed" if dataset.fixed_split is not None else "random")
        key = f"{dataset.fingerprint()}-{method}-{tuple(cfg.ratios)}-{cfg.split_seed}"
        if key not in self.splits:
            args = dict(method=method, ratios=tuple(cfg.ratios), seed=cfg.split_seed)
            self.splits[key] = (load_or_make_split(dataset, self.cache_dir / "splits", **args)
                                if self.cache_dir else make_split(dataset, **args))
        return self.splits[key]


def model_input(handled: HandledData, seed: int, device: str, cache: DerivedCache | None) -> ModelInput:
    dev = torch.device(device)
    mods = handled.modalities
    for name, mod in mods.items():  # raw content only: a model would silently learn from nothing
        if mod.dim == 0:
            raise ConfigError(f"modality {name!r} has no features, only raw content: extract them with data.features "
                              f"(e.g. features: {{{name}: <extractor>}}; `python -m mmstudy list` names the "
                              "extractors) or leave the modality out with data.modalities")
    return ModelInput(train=handled.split.train,
                      features={k: torch.from_numpy(m.features).to(dev) for k, m in mods.items()},
                      present={k: torch.from_numpy(m.present).to(dev) for k, m in mods.items()},
                      feature_keys={k: m.fingerprint() for k, m in mods.items()},
                      device=dev, seed=seed, cache=cache, content_dropout=handled.content_dropout)


def grid_points(grid: Mapping[str, Any]) -> list[dict]:
    """The cartesian product of a {name: values} grid as a list of dicts ([{}] for no grid)."""
    keys = sorted(grid)
    return [dict(zip(keys, values)) for values in itertools.product(*(tuple(grid[k]) for k in keys))]
