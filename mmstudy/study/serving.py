"""The serving phase: content goes missing after training.

The model is trained and selected on complete content (the data's own gaps filled with zeros),
once per (model, params, grid, budget, seed, split, content): the `ModelStore` serves that training
to every strategy and rate of the phase. Each cell then replaces the masked items' content with
its strategy's imputation — built from what serving has: the training graph and the observed
features — rebuilds the model's content-derived structures from it, loads the trained weights,
chooses the imputer setting on validation, and the executor scores the test part once. Content
fine-tuned during training keeps its trained rows for intact items; the changed items get the
imputed rows. `dropped` removes the masked items from the catalogue the trained model ranks.
`modality_dropout` is the one strategy that changes the training: its model is trained (and stored)
with content dropout at its rate, then serves zeros for the masked items.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import torch

from ..data.dataset import Dataset
from ..data.modality import Modality
from ..data.split import Split
from ..errors import ConfigError
from ..evaluation import evaluate_metric
from ..hashing import fingerprint
from ..missing.handling import HandledData, handle_missing
from ..models.base import MODELS, make_model
from ..schema.projection import FeatureProjection
from ..training.loop import FitResult
from .cell import MissingConfig
from .manifest import Trial
from .model_store import TrainedModel
from .trainers import Candidate, ModelTrainer
from .views import restricted
from .workspace import model_input

TRAINING_GAPS = MissingConfig(strategy="zeros")  # how the serving training fills the data's own gaps


class ServingTrainer(ModelTrainer):
    """Serves one stored training (a `ModelTrainer` run on complete content) to each handled-data
    variant (see the module docstring)."""

    def prepare(self, dataset: Dataset, split: Split) -> dict[str, Modality]:
        if not MODELS.get(self.cell.model).multimodal:
            raise ConfigError(f"phase 'serving': {self.cell.model} reads no content, nothing goes missing at serving")
        self.complete = handle_missing(dataset.modalities, split, TRAINING_GAPS, {}, graph_cache=self.workspace.graphs)
        return dataset.modalities

    def _key(self, dropout: float) -> str:
        """The stored training's key; `modality_dropout` trains with its rate of content dropout."""
        features = {k: m.fingerprint() for k, m in self.complete.modalities.items()}
        return "serving-" + fingerprint({"model": self.cell.model, "params": dict(self.cell.params),
                                         "fusion": self.fusion_params, "grid": dict(self.cell.grid),
                                         "train": self.config.as_dict(), "split": self.complete.split.checksum,
                                         "features": features, **({"content_dropout": dropout} if dropout else {})})[:40]

    def _trained(self, dropout: float) -> tuple[TrainedModel, bool]:
        """(the training on complete content with `dropout`, whether it was stored already)."""
        return self.workspace.models.get(self._key(dropout), lambda: self._train(dropout))

    def _train(self, dropout: float) -> TrainedModel:
        """Train and select on complete content, like any cell (`ModelTrainer`)."""
        trials, best = super().train(replace(self.complete, content_dropout=dropout), {})
        fit = best.fit
        record = {"selected_params": best.params, "trials": [t.to_dict() for t in trials],
                  "n_parameters": best.n_parameters, "cf_counterpart": best.cf_counterpart,
                  "curve": best.curve.to_dict(orient="records"),
                  **{k: getattr(fit, k) for k in ("best_epoch", "best_valid", "valid_metric", "epochs_run",
                                                  "train_seconds", "mean_epoch_seconds", "mean_valid_seconds")}}
        return TrainedModel(best.test_scorer().state_dict(), record)

    def train(self, handled: HandledData, imputer_params: dict) -> tuple[list[Trial], Candidate]:
        """The trained model on this variant's content, scored on validation (no training here)."""
        trained, reused = self._trained(handled.content_dropout)
        record, dropped = trained.record, handled.kept_items is not None
        model = self._model(trained, self.complete, restore=False) if dropped else self._model(trained, handled)
        scorer = restricted(model, handled.kept_items) if dropped else model
        valid = evaluate_metric(scorer, handled.split, record["valid_metric"], "valid",
                                memory_budget_mb=self.config.eval_memory_mb)
        fit = FitResult(**{k: record[k] for k in ("best_epoch", "valid_metric", "epochs_run", "train_seconds",
                                                  "mean_epoch_seconds", "mean_valid_seconds")}, best_valid=valid)
        trial = Trial(params=record["selected_params"], imputer_params=imputer_params, valid=valid,
                      best_epoch=record["best_epoch"])
        serving = {"training": self._key(handled.content_dropout), "reused": reused, "complete_valid": record["best_valid"],
                   "training_trials": record["trials"]}
        return [trial], Candidate(fit, record["selected_params"], record["n_parameters"], lambda: scorer,
                                  pd.DataFrame(record["curve"]), record["cf_counterpart"], serving=serving)

    def _model(self, trained: TrainedModel, handled: HandledData, restore: bool = True) -> torch.nn.Module:
        """The cell's model built on `handled` content with the trained parameters. Buffers stay as
        built from this content (graphs, signals); fine-tuned content keeps its trained rows except,
        with `restore`, for the items whose content changed (they get this content's rows)."""
        params = {**self.cell.params, **self.fusion_params, **trained.record["selected_params"]}
        model = make_model(self.cell.model, model_input(handled, self.cell.seed, self.config.device,
                                                        self.workspace.derived), **params)
        own = {name: module.features.detach().clone() for name, module in model.named_modules()
               if restore and isinstance(module, FeatureProjection) and isinstance(module.features, torch.nn.Parameter)}
        names = dict(model.named_parameters())
        missing = sorted(set(names) - set(trained.state))
        if missing:
            raise ConfigError(f"phase 'serving': the stored training of {self.cell.model} lacks parameters {missing[:3]}")
        model.load_state_dict({k: v for k, v in trained.state.items() if k in names}, strict=False)
        changed = torch.from_numpy(np.setdiff1d(np.arange(handled.split.shape[1]), _complete(handled)))
        with torch.no_grad():
            for name, module in model.named_modules():
                if name in own:
                    module.features[changed] = own[name][changed].to(module.features.device)
        return model.eval()


def _complete(handled: HandledData) -> np.ndarray:
    return handled.complete_items if handled.complete_items is not None else np.arange(handled.split.shape[1])
