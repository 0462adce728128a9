"""Trainers: what a cell trains on one handled-data variant, and the candidate it hands back.

The executor (`study.executor`) calls a trainer once per imputer setting and keeps the candidate
with the best validation score. `ModelTrainer` trains the cell's model over its hyper-parameter
grid; `late_fusion.LateFusionTrainer` trains per-modality components and fuses their scores.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

import pandas as pd

from ..data.dataset import Dataset
from ..data.modality import Modality
from ..data.split import Split
from ..missing.handling import HandledData
from ..models.base import MODELS, Recommender, make_model
from ..training import TrainConfig, fit
from ..training.loop import FitResult
from .cell import Cell
from .manifest import LateFusionRecord, Trial
from .workspace import Workspace, grid_points, model_input


@dataclass
class Candidate:
    """A trainer's best run on one handled-data variant, with what the manifest records of it."""

    fit: FitResult  # its validation score and training summary (late fusion: components summed)
    params: dict  # model hyper-parameters chosen on validation (beyond the cell's fixed params)
    n_parameters: int
    test_scorer: Callable[[], Any]  # the model or score function the one test pass ranks with
    curve: pd.DataFrame
    cf_counterpart: str | None = None
    best_epoch: Any = None  # default: fit.best_epoch; late fusion: {component: epoch}
    fusion_weights: dict | None = None
    fusion: LateFusionRecord | None = None
    serving: dict | None = None  # the serving phase: which stored training served the cell

    @property
    def valid(self) -> float:
        return self.fit.best_valid


class Trainer(Protocol):
    """Trains a cell's candidates on one handled-data variant."""

    def prepare(self, dataset: Dataset, split: Split) -> dict[str, Modality]:
        """Whatever the trainer needs once per cell; the modalities the cell's model reads
        (masking and imputation apply to them)."""

    def train(self, handled: HandledData, imputer_params: dict) -> tuple[list[Trial], Candidate]:
        """Every trial on validation and the best candidate (first best in grid order)."""


@dataclass
class ModelTrainer:
    """The cell's model over its hyper-parameter grid (intermediate-fusion settings included)."""

    cell: Cell
    config: TrainConfig
    workspace: Workspace
    fusion_params: dict = field(default_factory=dict)
    progress: bool = False

    def prepare(self, dataset: Dataset, split: Split) -> dict[str, Modality]:
        reads = MODELS.get(self.cell.model).multimodal or self.cell.missing.strategy == "dropped"
        return dataset.modalities if reads else {}

    def train(self, handled: HandledData, imputer_params: dict) -> tuple[list[Trial], Candidate]:
        cell = self.cell
        data = model_input(handled, cell.seed, self.config.device, self.workspace.derived)
        runs = GridRuns(imputer_params)
        for params in grid_points(cell.grid):
            model = make_model(cell.model, data, **{**cell.params, **self.fusion_params, **params})
            runs.add(params, fit(model, handled.split, **self.config.as_dict(), progress=self.progress), model)
        return runs.outcome()


@dataclass
class GridRuns:
    """One run's trials over a hyper-parameter grid and its best model (the first best in grid order)."""

    imputer_params: dict
    trials: list[Trial] = field(default_factory=list)
    best: tuple[FitResult, Recommender, dict] | None = None

    def add(self, params: dict, result: FitResult, model: Recommender) -> None:
        self.trials.append(Trial(params=params, imputer_params=self.imputer_params, valid=result.best_valid,
                                 best_epoch=result.best_epoch))
        if self.best is None or result.best_valid > self.best[0].best_valid:
            self.best = (result, model, params)

    def outcome(self) -> tuple[list[Trial], Candidate]:
        """The trials and the best model's candidate: its fit, the grid values chosen, the model to test."""
        result, model, params = self.best
        return self.trials, Candidate(result, params, model.n_parameters(), lambda: model,
                                      pd.DataFrame(result.curve), type(model).cf_counterpart)
