"""Seed batching in a study: which cells train together, and the trainer that trains them.

A cell whose training settings say `seed_batch: true` is trained together with the cells of its
configuration's other seeds (cells that differ only in `seed`) as one batched model
(`models.seed_batch`, `training.seed_batch`). `seed_batches` makes the runner's jobs: one per
configuration, holding only its unfinished seeds. `SeedBatchTrainer` trains a job's cells over
their grid, every seed with its own initialisation, sampling, early stopping and best state, and
its own choice of hyper-parameters on validation. `separate_reason` says why a cell asking for it
is trained separately instead (the mode is recorded in its manifest).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from ..data.dataset import Dataset
from ..data.modality import Modality
from ..data.split import Split
from ..missing.handling import HandledData
from ..missing.imputers import resolve_strategy
from ..models.base import MODELS, make_model
from ..models.seed_batch import batch_class
from ..schema.fusion import FusionConfig
from ..training import TrainConfig
from ..training.seed_batch import fit_seeds
from .cell import Cell
from .manifest import Trial
from .trainers import Candidate, GridRuns, ModelTrainer
from .workspace import Workspace, grid_points, model_input


def asks_seed_batch(cell: Cell) -> bool:
    """Whether the cell's training settings ask for seed batching (`train.seed_batch`)."""
    return bool(cell.train.get("seed_batch", False))


def batch_key(cell: Cell) -> str:
    """What the seeds of one configuration share: the cell's fingerprint with its seed left out."""
    return cell.with_(seed=0).fingerprint


def seed_batches(cells: list[Cell]) -> list[list[Cell]]:
    """The runner's jobs, in the cells' order: the cells asking for seed batching grouped by
    configuration (`batch_key`), every other cell alone."""
    jobs: list[list[Cell]] = []
    index: dict[str, int] = {}
    for cell in cells:
        key = batch_key(cell) if asks_seed_batch(cell) else None
        if key in index:
            jobs[index[key]].append(cell)
            continue
        if key is not None:
            index[key] = len(jobs)
        jobs.append([cell])
    return jobs


def separate_reason(cell: Cell) -> str | None:
    """Why `cell` cannot be trained in a seed batch (None: it can)."""
    model = MODELS.canonical(cell.model)
    if batch_class(model) is None:
        return f"model {model} has no seed-batched implementation (models.seed_batch)"
    fusion = FusionConfig.parse(cell.fusion, "cell.fusion")
    if fusion is not None and fusion.point == "late":
        return "late fusion trains and stores per-modality components"
    if cell.missing.phase == "serving":
        return "the serving phase serves one stored training"
    if cell.control == "noise":
        return "the noise control gives every seed its own noise features"
    if MODELS.get(model).multimodal and resolve_strategy(cell.missing.strategy) == "modality_dropout":
        return "modality_dropout gives every seed its own content-dropout draws"
    return None


def check_batch(cells: list[Cell]) -> None:
    """Refuse a batch whose cells differ in more than their seed, or repeat a seed."""
    keys = {batch_key(c) for c in cells}
    seeds = [c.seed for c in cells]
    if len(keys) != 1 or len(set(seeds)) != len(seeds):
        raise ValueError(f"a seed batch holds the cells of one configuration, one per seed; got seeds {seeds} "
                         f"of {len(keys)} configuration(s)")


@dataclass
class SeedBatchTrainer:
    """The cells of one configuration's seeds over their hyper-parameter grid, trained together:
    `train` returns, per cell, its trials and best candidate, or the exception that ended its run
    (a cell whose run diverged is not trained further; the others go on)."""

    cells: list[Cell]
    config: TrainConfig
    workspace: Workspace
    fusion_params: dict = field(default_factory=dict)
    progress: bool = False
    failed: dict[int, Exception] = field(default_factory=dict)

    def prepare(self, dataset: Dataset, split: Split) -> dict[str, Modality]:
        return ModelTrainer(self.cells[0], self.config, self.workspace).prepare(dataset, split)

    def train(self, handled: HandledData, imputer_params: dict) -> list[tuple[list[Trial], Candidate] | Exception]:
        cell = self.cells[0]
        data = model_input(handled, cell.seed, self.config.device, self.workspace.derived)
        runs = {i: GridRuns(imputer_params) for i in range(len(self.cells)) if i not in self.failed}
        for params in grid_points(cell.grid):
            todo = [i for i in runs if i not in self.failed]
            if not todo:
                break
            members = [make_model(cell.model, dataclasses.replace(data, seed=self.cells[i].seed),
                                  **{**cell.params, **self.fusion_params, **params}) for i in todo]
            batch = batch_class(cell.model)(members)
            results = fit_seeds(batch, handled.split, self.config, [self.cells[i].seed for i in todo], self.progress)
            for i, member, result in zip(todo, members, results):
                if isinstance(result, Exception):
                    self.failed[i] = result
                else:
                    runs[i].add(params, result, member)
        return [self.failed[i] if i in self.failed else runs[i].outcome() for i in range(len(self.cells))]
