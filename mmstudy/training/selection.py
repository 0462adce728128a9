"""Model selection on validation only; the test part is scored exactly once, for the chosen model.

`run` trains one configuration; `grid_search` trains every combination of a grid, picks the best
validation score (ties: the first in grid order) and only then evaluates that one model on test.
A `TestBudget` enforces the single test evaluation.
"""
from __future__ import annotations

import dataclasses
import itertools
import time
from dataclasses import dataclass
from typing import Any, Sequence

import pandas as pd
import scipy.sparse as sp
import torch

from ..data.split import Split
from ..errors import ConfigError, DataError
from ..evaluation import DEFAULT_CUTOFFS, EvalResult, evaluate
from ..models.base import MODELS, ModelInput, Recommender, make_model
from .loop import FitResult, TrainConfig, fit


class TestBudget:
    """Counts evaluations on the test part and refuses any beyond `limit`."""

    __test__ = False  # not a pytest test class

    def __init__(self, limit: int = 1):
        self.limit, self.used = limit, 0

    def evaluate(self, model: Recommender, split: Split, cutoffs: Sequence[int],
                 memory_budget_mb: float = 512.0) -> EvalResult:
        if self.used >= self.limit:
            raise RuntimeError(f"the test part was already evaluated {self.used} time(s); "
                               "selection must use validation only")
        self.used += 1
        return evaluate(model, split, "test", cutoffs=cutoffs, memory_budget_mb=memory_budget_mb)


@dataclass
class RunResult:
    """One trained model, its training history and its single test evaluation."""

    model_name: str
    model: Recommender
    params: dict[str, Any]
    train_config: TrainConfig
    fit: FitResult
    test: EvalResult
    test_evaluations: int
    valid_best: float
    seconds: float
    n_parameters: int


@dataclass
class GridResult:
    """Every trial's validation score, the selected trial and its single test evaluation."""

    model_name: str
    trials: list[dict[str, Any]]
    best_index: int
    best: RunResult
    test_evaluations: int

    @property
    def best_params(self) -> dict[str, Any]:
        return self.trials[self.best_index]["params"]

    def table(self) -> pd.DataFrame:
        """One row per trial: the grid values, best validation score, best epoch, seconds."""
        rows = [{**t["params"], **{k: v for k, v in t.items() if k != "params"}} for t in self.trials]
        return pd.DataFrame(rows)


def _check_inputs(data: ModelInput, split: Split) -> None:
    if data.train.shape != split.shape:
        raise DataError(f"model input has shape {data.train.shape} but the split has {split.shape}")
    if (sp.csr_matrix(data.train, dtype=bool) != split.train.astype(bool)).nnz:
        raise DataError("model input training matrix differs from split.train (possible leakage)")


def _train(model_name: str, data: ModelInput, split: Split, params: dict[str, Any],
           config: TrainConfig, progress: bool) -> tuple[Recommender, FitResult]:
    device = torch.device(config.device)
    if data.device != device:
        data = dataclasses.replace(data, device=device)
    model = make_model(model_name, data, **params)
    return model, fit(model, split, progress=progress, **config.as_dict())


def run(model_name: str, data: ModelInput, split: Split, params: dict[str, Any] | None = None,
        train_config: TrainConfig | dict | None = None, cutoffs: Sequence[int] = DEFAULT_CUTOFFS,
        progress: bool = False) -> RunResult:
    """Build, train (early stopping on validation) and test one model configuration."""
    start = time.perf_counter()
    config = _as_config(train_config)
    _check_inputs(data, split)
    model, fitted = _train(model_name, data, split, dict(params or {}), config, progress)
    return _finish(model_name, model, fitted, config, split, cutoffs, start)


def _finish(model_name: str, model: Recommender, fitted: FitResult, config: TrainConfig,
            split: Split, cutoffs: Sequence[int], start: float) -> RunResult:
    budget = TestBudget(limit=1)
    test = budget.evaluate(model, split, cutoffs, config.eval_memory_mb)
    return RunResult(model_name, model, dict(model.params), config, fitted, test, budget.used,
                     fitted.best_valid, time.perf_counter() - start, model.n_parameters())


def _as_config(train_config: TrainConfig | dict | None) -> TrainConfig:
    return train_config if isinstance(train_config, TrainConfig) else TrainConfig.from_dict(train_config)


def grid_trials(model_name: str, grid: dict[str, list], config: TrainConfig
                ) -> list[tuple[dict[str, Any], dict[str, Any], TrainConfig]]:
    """(grid values, model params, train config) for every combination, all validated up front.

    Keys that are TrainConfig fields (e.g. lr, weight_decay) tune training; the others are model
    hyper-parameters.
    """
    cls = MODELS.get(model_name)
    train_keys = {f.name for f in dataclasses.fields(TrainConfig)}
    for key, values in grid.items():
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
            raise ConfigError(f"grid entry {key!r} must be a non-empty list of values, got {values!r}")
        if key == "seed_batch":
            raise ConfigError("grid entry 'seed_batch' cannot be tuned: it says how the seeds of a configuration "
                              "are trained together (a training setting), not how one model is")
        if key in train_keys and key in cls.defaults:
            raise ConfigError(f"grid key {key!r} is both a train config field and a "
                              f"hyper-parameter of {cls.__name__}")
    trials = []
    for combo in itertools.product(*grid.values()):
        values = dict(zip(grid, combo))
        params = {k: v for k, v in values.items() if k not in train_keys}
        cls.resolve_params(params)
        trial_config = config.replace(**{k: v for k, v in values.items() if k in train_keys})
        trials.append((values, params, trial_config))
    return trials


def grid_search(model_name: str, data: ModelInput, split: Split, grid: dict[str, list],
                train_config: TrainConfig | dict | None = None,
                cutoffs: Sequence[int] = DEFAULT_CUTOFFS, progress: bool = False) -> GridResult:
    """Train every grid combination, select on validation, test only the selected model."""
    start = time.perf_counter()
    config = _as_config(train_config)
    _check_inputs(data, split)
    records, best = [], None
    for values, params, trial_config in grid_trials(model_name, grid, config):
        tick = time.perf_counter()
        model, fitted = _train(model_name, data, split, params, trial_config, progress)
        records.append({"params": values, "best_valid": fitted.best_valid,
                        "best_epoch": fitted.best_epoch, "epochs_run": fitted.epochs_run,
                        "seconds": time.perf_counter() - tick})
        if best is None or fitted.best_valid > best[1].best_valid:
            best = (model, fitted, trial_config, len(records) - 1)
        del model  # free a losing model before the next one is built
    model, fitted, trial_config, index = best
    result = _finish(model_name, model, fitted, trial_config, split, cutoffs, start)
    return GridResult(model_name, records, index, result, result.test_evaluations)


__all__ = ["GridResult", "RunResult", "TestBudget", "grid_search", "grid_trials", "run"]
