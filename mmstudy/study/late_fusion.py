"""Late-fusion cells: one recommender per modality plus an ID-only one, their scores fused.

The executor (`study.executor`) runs a late-fusion cell like any other; only its trainer differs:
`LateFusionTrainer` trains the components (each selected on validation over the grid keys its model
knows), then chooses the fusion weights on VALIDATION over `schema.late.simplex_grid`; the test
part is scored once, by the executor, with the fused scorer of the chosen weights. The fusion maths
(normalisation, reciprocal ranks, weight selection) is `mmstudy.schema.late`.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np
import pandas as pd
import torch

from ..data.dataset import Dataset
from ..data.modality import Modality
from ..data.split import Split
from ..errors import ConfigError
from ..hashing import fingerprint
from ..missing.handling import HandledData
from ..models import MODELS, make_model
from ..schema.fusion import FusionConfig
from ..schema.late import LateFusion, select_weights, simplex_grid
from ..training import TrainConfig, fit
from ..training.loop import FitResult
from .cell import Cell
from .manifest import LateFusionRecord, Trial
from .trainers import Candidate
from .workspace import Workspace, grid_points, model_input

NOTE = ("components selected on validation (early stopping, grid); fusion weights chosen on validation over "
        "selection.trials; test scored once, fused")


@dataclass(frozen=True)
class Component:
    """One late-fusion member: `label` ('id' or a modality), its model, params and modalities."""

    label: str
    model: str
    params: dict
    modalities: tuple[str, ...]


def component_plan(model: str, params: dict, content_only: bool, modalities: Sequence[str]) -> list[Component]:
    """The ID-only counterpart of `model` plus `model` on each modality alone."""
    cls = MODELS.get(model)
    if not cls.multimodal or cls.cf_counterpart is None:
        raise ConfigError(f"late fusion needs a multimodal model with an ID-only counterpart; {model!r} has none")
    if not modalities:
        raise ConfigError("late fusion needs a dataset with at least one modality")
    cf = MODELS.get(cls.cf_counterpart)
    own = dict(params)
    if content_only:
        if "id_embedding" not in cls.defaults:
            raise ConfigError(f"fusion.content_only: model {model!r} has no 'id_embedding' switch; use a fusion "
                              "backbone (MF-Fusion, LightGCN-Fusion) or content_only: false")
        own["id_embedding"] = False
    id_params = {k: v for k, v in params.items() if k in cf.defaults}
    ids = Component("id", MODELS.canonical(cls.cf_counterpart), id_params, ())
    return [ids] + [Component(m, MODELS.canonical(model), own, (m,)) for m in modalities]


@dataclass
class TrainedComponent:
    component: Component
    model: torch.nn.Module
    summary: dict
    curve: pd.DataFrame

    def score(self, users: torch.Tensor) -> torch.Tensor:
        device = next(self.model.parameters()).device
        return self.model.score(users.to(device))


_TRAINED: OrderedDict[str, tuple] = OrderedDict()  # per process: trained components by content key
_TRAINED_MAX = 24


def train_component(comp: Component, handled: HandledData, cell: Cell, train: TrainConfig, ws: Workspace,
                    progress: bool = False) -> TrainedComponent:
    """Train `comp` on its modalities (grid of `cell.grid` keys it knows, chosen on validation).

    Training is deterministic in the seed, so a component already trained in this process on the
    same content (model, params, grid, budget, seed, split, features) is restored, not retrained.
    """
    known = MODELS.get(comp.model).defaults
    grid = {k: v for k, v in dict(cell.grid).items() if k in known}
    data = model_input(replace(handled, modalities={m: handled.modalities[m] for m in comp.modalities}),
                       cell.seed, train.device, ws.derived)
    key = fingerprint({"model": comp.model, "params": comp.params, "grid": grid, "train": train.as_dict(),
                       "split": handled.split.checksum, "features": sorted(data.feature_keys.items()),
                       "content_dropout": data.content_dropout})
    if key in _TRAINED:
        _TRAINED.move_to_end(key)
        state, summary, curve = _TRAINED[key]
        model = make_model(comp.model, data, **summary["selected_params"])
        model.load_state_dict(state)
        return TrainedComponent(comp, model.eval(), {**summary, "reused": True}, curve)
    best = None
    trials = []
    for params in grid_points(grid):
        model = make_model(comp.model, data, **{**comp.params, **params})
        result = fit(model, handled.split, **train.as_dict(), progress=progress)
        trials.append({"params": params, "valid": result.best_valid, "best_epoch": result.best_epoch})
        if best is None or result.best_valid > best[1].best_valid:
            best = (model, result, {**comp.params, **params})
    model, result, selected = best
    summary = {"label": comp.label, "model": comp.model, "modalities": list(comp.modalities),
               "selected_params": selected, "trials": trials, "best_valid": result.best_valid,
               "best_epoch": result.best_epoch, "epochs_run": result.epochs_run,
               "train_seconds": result.train_seconds, "mean_epoch_seconds": result.mean_epoch_seconds,
               "mean_valid_seconds": result.mean_valid_seconds, "n_parameters": model.n_parameters()}
    curve = pd.DataFrame(result.curve).assign(component=comp.label)
    _TRAINED[key] = ({k: v.detach().cpu().clone() for k, v in model.state_dict().items()}, summary, curve)
    while len(_TRAINED) > _TRAINED_MAX:
        _TRAINED.popitem(last=False)
    return TrainedComponent(comp, model.eval(), {**summary, "reused": False}, curve)


class LateFusionTrainer:
    """Components trained per handled-data variant; fusion weights chosen on validation."""

    def __init__(self, cell: Cell, fusion: FusionConfig, train: TrainConfig, workspace: Workspace,
                 progress: bool = False):
        self.cell, self.fusion, self.train_cfg, self.workspace, self.progress = cell, fusion, train, workspace, progress
        self.plan: list[Component] = []

    def prepare(self, dataset: Dataset, split: Split) -> dict[str, Modality]:
        self.plan = component_plan(self.cell.model, dict(self.cell.params), self.fusion.content_only,
                                   list(dataset.modalities))
        return dataset.modalities

    def train(self, handled: HandledData, imputer_params: dict) -> tuple[list[Trial], Candidate]:
        labels = [c.label for c in self.plan]
        trained = [train_component(c, handled, self.cell, self.train_cfg, self.workspace, self.progress)
                   for c in self.plan]
        scores = [t.score for t in trained]
        valid_fusion = LateFusion.for_part(scores, handled.split, "valid", self.fusion)
        grid = simplex_grid(len(self.plan), self.fusion.grid_step)
        weights, valid, scored = select_weights(valid_fusion, handled.split, self.train_cfg.valid_metric, grid,
                                               self.train_cfg.eval_memory_mb)
        trials = [Trial(params={}, imputer_params=imputer_params, fusion_weights=dict(zip(labels, w)), valid=v)
                  for w, v in scored]
        summaries = [t.summary for t in trained]

        def test_scorer():
            return LateFusion.for_part(scores, handled.split, "test", self.fusion).scorer(weights)

        return trials, Candidate(
            fit=summed_fit(summaries, valid, self.train_cfg.valid_metric), params={},
            n_parameters=int(sum(s["n_parameters"] for s in summaries)), test_scorer=test_scorer,
            curve=pd.concat([t.curve for t in trained], ignore_index=True),
            best_epoch={s["label"]: s["best_epoch"] for s in summaries}, fusion_weights=dict(zip(labels, weights)),
            fusion=LateFusionRecord(point="late", components=summaries, note=NOTE))


def summed_fit(summaries: list[dict], valid: float, metric: str) -> FitResult:
    """The components' training as one fit: epochs and seconds summed, validation passes averaged."""
    epochs = sum(s["epochs_run"] for s in summaries)
    epoch_seconds = sum(s["mean_epoch_seconds"] * s["epochs_run"] for s in summaries)
    return FitResult(best_epoch=0, best_valid=valid, valid_metric=metric, epochs_run=epochs,
                     train_seconds=sum(s["train_seconds"] for s in summaries),
                     mean_epoch_seconds=epoch_seconds / max(1, epochs),
                     mean_valid_seconds=float(np.mean([s["mean_valid_seconds"] for s in summaries])))
