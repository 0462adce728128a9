"""The one cell executor: a cell's configuration in, per-user test metrics and a manifest out.

    data -> split -> (noise control: content replaced by noise) -> for each imputer setting:
        missing-modality masking and handling (+ early fusion)
        -> the cell's trainer: candidates trained and compared on validation
    -> the best candidate -> ONE test evaluation -> (common-items view) -> manifest

with the energy of each phase (data, feature extraction, training, test) measured when asked
(`study.energy`).

A trainer (`study.trainers`) turns one handled-data variant into trials and its best candidate:
`ModelTrainer` trains the cell's model over its hyper-parameter grid; a late-fusion cell uses
`late_fusion.LateFusionTrainer` (per-modality components, fusion weights chosen on validation).
Everything else — data, masking, selection across imputer settings, the single test pass, the
manifest — is the same code for every cell.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any


from ..data.dataset import Dataset
from ..data.split import Split
from ..errors import ConfigError
from ..evaluation import evaluate
from ..hashing import array_sha256
from ..missing.cold import cold_start_split
from ..missing.handling import HandledData, handle_missing
from ..missing.selection import choose_by_reconstruction
from ..models.base import MODELS
from ..schema.fusion import FusionConfig
from ..training import TrainConfig
from .cell import Cell
from .controls import noise_modalities
from .energy import EnergyConfig, energy_meter
from .environment import environment
from .late_fusion import LateFusionTrainer
from .manifest import (CellManifest, DatasetRecord, EnergyRecord, Environment, Evaluation, FeatureRecord,
                       MissingRecord, Seeds, Selection, SplitRecord, Timing, Trial)
from .serving import ServingTrainer
from .trainers import Candidate, ModelTrainer, Trainer
from .views import cell_views
from .workspace import CellOutcome, Workspace, grid_points


def make_trainer(cell: Cell, fusion: FusionConfig | None, train: TrainConfig, workspace: Workspace,
                 progress: bool) -> Trainer:
    """The trainer a cell's fusion point calls for."""
    if fusion is not None and fusion.point == "late":  # score-level fusion of per-modality models
        return LateFusionTrainer(cell, fusion, train, workspace, progress)
    fusion_params = fusion.model_params() if fusion is not None else {}
    clash = sorted(set(fusion_params) & (set(cell.params) | set(cell.grid)))
    if clash:
        raise ConfigError(f"cell.fusion sets {clash}; do not also set them in the model params or grid")
    if cell.missing.phase == "serving":  # trained once on complete content, served to every strategy
        return ServingTrainer(cell, train, workspace, fusion_params, progress)
    return ModelTrainer(cell, train, workspace, fusion_params, progress)


@dataclass
class CellRun:
    """What the executor assembled for the manifest."""

    cell: Cell
    dataset: Dataset
    split: Split
    handled: HandledData
    best: Candidate
    imputer_params: dict
    trials: list[Trial]
    test: Any  # evaluation.EvaluationResult of the one test pass
    device: str
    seconds: float
    energy: EnergyRecord | None = None


def run_cell(cell: Cell, workspace: Workspace | None = None, device: str = "cpu",
             progress: bool = False, energy: EnergyConfig | None = None) -> CellOutcome:
    """Train every (imputer setting x candidate) of `cell`, select on validation, test once.
    `energy`: measure the phases' energy and carbon (None: not measured, no `energy` block)."""
    meter = energy_meter(energy)  # before the clock: a process's first meter detects the hardware
    started = time.time()
    ws = workspace or Workspace()
    fusion = FusionConfig.parse(cell.fusion, "cell.fusion")  # None: the cell declares no fusion
    train = TrainConfig.from_dict({**dict(cell.train), "seed": cell.seed, "device": device})
    trainer = make_trainer(cell, fusion, train, ws, progress)
    with meter.phase("data"):
        dataset = ws.dataset(cell.data, device, meter=meter)
        split, cold = ws.split(dataset, cell.data), None
        if cell.missing.phase == "new_items":  # a share of items never seen in training
            split, cold = cold_start_split(split, cell.missing.cold_share, cell.missing.mask_seed)
    with meter.phase("training"):
        modalities = trainer.prepare(dataset, split)
        if cell.control == "noise":  # the noise control: content replaced by noise of its own moments
            modalities = noise_modalities(modalities, cell.seed)
        trials, (best, handled, imputer_params) = select_variant(cell, fusion, trainer, modalities, split, ws)
    with meter.phase("test"):
        scorer = best.test_scorer()
        test = evaluate(scorer, handled.split, "test", cutoffs=cell.cutoffs,  # the one test evaluation
                        memory_budget_mb=train.eval_memory_mb)
        tables = {"valid_curve": best.curve, **cell_views(scorer, handled, split, cell, train.eval_memory_mb, cold)}
    run = CellRun(cell, dataset, split, handled, best, imputer_params, trials, test, device, time.time() - started,
                  meter.record())
    return CellOutcome(test.per_user, cell_manifest(run), tables)


def select_variant(cell: Cell, fusion: FusionConfig | None, trainer: Trainer, modalities: dict, split: Split,
                   ws: Workspace) -> tuple[list[Trial], tuple[Candidate, HandledData, dict]]:
    """Every trial over the imputer settings, and the (candidate, handled data, imputer settings)
    with the best validation score (the first best in grid order)."""
    points, selection = imputer_points(cell, modalities, split, ws)
    trials, chosen = [], None
    for imputer_params in points:
        handled = handle_missing(modalities, split, cell.missing, imputer_params,
                                 graph_cache=ws.graphs)
        if selection:
            handled.info["imputer_selection"] = selection
        if fusion is not None:
            handled = fusion.transform(handled)  # early fusion: one "fused" modality; else unchanged
        variant_trials, candidate = trainer.train(handled, imputer_params)
        trials += variant_trials
        if chosen is None or candidate.valid > chosen[0].valid:
            chosen = (candidate, handled, imputer_params)
    return trials, chosen


def imputer_points(cell: Cell, modalities: dict, split: Split, ws: Workspace) -> tuple[list[dict], dict | None]:
    """The imputer settings to train with: the whole grid (each chosen on validation), or with
    `select: reconstruction` the one setting that reconstructs hidden observed rows best."""
    points = grid_points(cell.missing.grid)
    if cell.missing.select != "reconstruction" or len(points) < 2 or not modalities:
        return points, None
    chosen, scores = choose_by_reconstruction(modalities, split, cell.missing, points, ws.graphs)
    return [chosen], {"by": "reconstruction of hidden observed training rows (mean cosine)", "scores": scores,
                      "chosen": chosen}


def cell_manifest(run: CellRun) -> CellManifest:
    """The typed manifest of a finished cell (written as result.json by the results store)."""
    cell, best, fit_result = run.cell, run.best, run.best.fit
    return CellManifest(
        schema_version=2, cell=cell, model=MODELS.canonical(cell.model), labels=dict(cell.labels),
        cf_counterpart=best.cf_counterpart,
        seeds=Seeds(training=cell.seed, split=cell.data.split_seed, mask=cell.missing.mask_seed),
        dataset=DatasetRecord(name=run.dataset.name, meta=run.dataset.meta, items=run.dataset.n_items,
                              fingerprint=run.dataset.meta.get("source_fingerprint") or run.dataset.fingerprint(),
                              modalities={k: m.fingerprint() for k, m in run.dataset.modalities.items()}),
        split=SplitRecord.from_dict({**run.split.summary(), "train_checksum": array_sha256(run.split.train)}),
        evaluated_split_checksum=run.handled.split.checksum,
        missing=MissingRecord.from_dict(run.handled.info),
        features={k: FeatureRecord(fingerprint=m.fingerprint(), dim=m.dim, source=m.source,
                                   extractor=m.info.get("extractor")) for k, m in run.handled.modalities.items()},
        selection=Selection(on="valid", metric=fit_result.valid_metric, trials=run.trials,
                            selected_params={**dict(cell.params), **best.params},
                            selected_imputer_params=run.imputer_params,
                            best_epoch=fit_result.best_epoch if best.best_epoch is None else best.best_epoch,
                            best_valid=fit_result.best_valid, tuning_budget=len(run.trials),
                            selected_fusion_weights=best.fusion_weights),
        test=Evaluation(users=int(run.test.n_users), protocol="full-ranking", masked_at_test=["train", "valid"],
                        list_metrics=run.test.list_metrics, mean=run.test.mean(), evaluations=1),
        timing=Timing(total_seconds=run.seconds, train_seconds=fit_result.train_seconds,
                      mean_epoch_seconds=fit_result.mean_epoch_seconds,
                      mean_valid_seconds=fit_result.mean_valid_seconds, epochs_run=fit_result.epochs_run),
        n_parameters=best.n_parameters, environment=Environment.from_dict(environment(run.device)),
        fusion=best.fusion, serving=best.serving, energy=run.energy)
