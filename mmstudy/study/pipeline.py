"""Run one cell end to end: data -> split -> missing handling -> training with validation-only
selection -> one test evaluation -> per-user metrics + manifest."""
from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd
import torch

from ..data.dataset import Dataset
from ..data.split import Split
from ..errors import ConfigError
from ..hashing import array_sha256
from ..missing.handling import HandledData, handle_missing, restrict_items
from ..models.base import MODELS, ModelInput, make_model
from ..models.cache import DerivedCache
from ..schema.fusion import FusionConfig
from .cell import Cell
from .environment import environment


@dataclass
class CellOutcome:
    per_user: pd.DataFrame
    manifest: dict
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)


class Workspace:
    """Caches shared by the cells of one process: datasets, splits, graphs, derived structures."""

    def __init__(self, cache_dir: str | Path | None = None):
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self.datasets: dict[str, Dataset] = {}
        self.splits: dict[str, Split] = {}
        self.graphs: dict = {}
        self.derived = DerivedCache(self.cache_dir / "derived" if self.cache_dir else None)

    def dataset(self, cfg, device: str = "cpu") -> Dataset:
        """The dataset of a DataConfig: loaded, features extracted per `cfg.features` (through the
        feature store under the cache folder, so nothing is extracted twice), modalities selected.
        meta["source_fingerprint"] identifies the data as loaded, before extraction and selection."""
        from ..data import load_dataset
        from ..hashing import fingerprint

        features = dict(getattr(cfg, "features", None) or {})
        key = fingerprint({"name": cfg.name, "options": dict(cfg.options), "modalities": cfg.modalities,
                           **({"features": features} if features else {})})
        if key not in self.datasets:
            data = load_dataset(cfg.name, **dict(cfg.options))
            source = data.fingerprint() if features or cfg.modalities is not None else None
            if features:  # extractor study (mmstudy.features.apply)
                from ..features.apply import apply_features
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
        from ..data import load_or_make_split, make_split

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
    return ModelInput(train=handled.split.train,
                      features={k: torch.from_numpy(m.features).to(dev) for k, m in mods.items()},
                      present={k: torch.from_numpy(m.present).to(dev) for k, m in mods.items()},
                      feature_keys={k: m.fingerprint() for k, m in mods.items()},
                      device=dev, seed=seed, cache=cache)


def grid_points(grid: Mapping[str, Any]) -> list[dict]:
    """The cartesian product of a {name: values} grid as a list of dicts ([{}] for no grid)."""
    keys = sorted(grid)
    return [dict(zip(keys, values)) for values in itertools.product(*(tuple(grid[k]) for k in keys))]


def run_cell(cell: Cell, workspace: Workspace | None = None, device: str = "cpu",
             progress: bool = False) -> CellOutcome:
    """Train every (imputer params x model params) candidate, select on validation, test once."""
    from ..evaluation import evaluate
    from ..training import TrainConfig, fit

    ws = workspace or Workspace()
    fusion = FusionConfig.parse(cell.fusion, "cell.fusion")  # None: the cell declares no fusion
    if fusion is not None and fusion.point == "late":  # score-level fusion of per-modality models
        from ..schema.late import run_late_cell
        return run_late_cell(cell, fusion, ws, device, progress)
    fusion_params = fusion.model_params() if fusion is not None else {}
    clash = sorted(set(fusion_params) & (set(cell.params) | set(cell.grid)))
    if clash:
        raise ConfigError(f"cell.fusion sets {clash}; do not also set them in the model params or grid")
    started = time.time()
    dataset = ws.dataset(cell.data, device)
    split = ws.split(dataset, cell.data)
    model_cls = MODELS.get(cell.model)
    modalities = dataset.modalities if model_cls.multimodal or cell.missing.strategy == "dropped" else {}
    train_cfg = TrainConfig.from_dict({**dict(cell.train), "seed": cell.seed, "device": device})
    trials, best = [], None
    for imp_params in grid_points(cell.missing.grid):
        handled = handle_missing(modalities, split, cell.missing, {**cell.missing.params, **imp_params},
                                 graph_cache=ws.graphs)
        if fusion is not None:
            handled = fusion.transform(handled)  # early fusion: one "fused" modality; else unchanged
        data = model_input(handled, cell.seed, device, ws.derived)
        for params in grid_points(cell.grid):
            model = make_model(cell.model, data, **{**cell.params, **fusion_params, **params})
            fit_result = fit(model, handled.split, **train_cfg.as_dict(), progress=progress)
            trials.append({"imputer_params": imp_params, "params": params, "valid": fit_result.best_valid,
                           "best_epoch": fit_result.best_epoch})
            if best is None or fit_result.best_valid > best[0]:
                best = (fit_result.best_valid, model, fit_result, handled, imp_params, params)
    _, model, fit_result, handled, imp_params, params = best
    test = evaluate(model, handled.split, "test", cutoffs=cell.cutoffs)  # the one test evaluation
    test_evaluations = 1
    per_user = test.per_user
    tables = {"valid_curve": pd.DataFrame(fit_result.curve)}
    if cell.missing.common_items and handled.kept_items is None:
        tables["per_user_common"] = _common_view(model, handled, split, cell)
    manifest = _manifest(cell, dataset, split, handled, model, fit_result, test, trials,
                         imp_params, params, device, time.time() - started)
    manifest["test"]["evaluations"] = test_evaluations
    return CellOutcome(per_user, manifest, tables)


def _common_view(model, handled: HandledData, split: Split, cell: Cell) -> pd.DataFrame:
    """Per-user test metrics restricted to the items a `dropped` run keeps (same scoring state)."""
    from ..evaluation import evaluate

    keep = handled.complete_items
    if keep is None:  # no modality was read: every item is kept
        keep = np.arange(split.shape[1])
    view = restrict_items(split, keep)
    columns = torch.from_numpy(keep)
    return evaluate(lambda users: model.score(users)[:, columns], view, "test", cutoffs=cell.cutoffs).per_user


def _manifest(cell, dataset, split, handled, model, fit_result, test, trials, imp_params, params,
              device, seconds) -> dict:
    return {
        "cell": cell.to_dict(), "model": MODELS.canonical(cell.model), "labels": dict(cell.labels),
        "cf_counterpart": type(model).cf_counterpart,
        "seeds": {"training": cell.seed, "split": cell.data.split_seed, "mask": cell.missing.mask_seed},
        "dataset": {"name": dataset.name, "meta": dataset.meta,
                    "fingerprint": dataset.meta.get("source_fingerprint") or dataset.fingerprint(),
                    "modalities": {k: m.fingerprint() for k, m in dataset.modalities.items()}},
        "split": {**split.summary(), "train_checksum": array_sha256(split.train)},
        "evaluated_split_checksum": handled.split.checksum,
        "missing": handled.info,
        "features": {k: {"fingerprint": m.fingerprint(), "dim": m.dim, "source": m.source,
                         "extractor": m.info.get("extractor")} for k, m in handled.modalities.items()},
        "selection": {"on": "valid", "metric": fit_result.valid_metric, "trials": trials,
                      "selected_params": {**dict(cell.params), **params}, "selected_imputer_params": imp_params,
                      "best_epoch": fit_result.best_epoch, "best_valid": fit_result.best_valid,
                      "tuning_budget": len(trials)},
        "test": {"users": int(test.n_users), "protocol": "full-ranking",
                 "masked_at_test": ["train", "valid"], "list_metrics": test.list_metrics,
                 "mean": test.mean()},
        "timing": {"total_seconds": seconds, "train_seconds": fit_result.train_seconds,
                   "mean_epoch_seconds": fit_result.mean_epoch_seconds,
                   "mean_valid_seconds": fit_result.mean_valid_seconds, "epochs_run": fit_result.epochs_run},
        "n_parameters": model.n_parameters(),
        "environment": environment(device),
    }
