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

`run_cells` runs the cells of one configuration's seeds that ask for seed batching
(`train.seed_batch`): data, masking and training once for all of them (`seed_batch.SeedBatchTrainer`:
one batched model per grid point), then each cell's own selection, test pass and manifest, whose
`training` block records the mode.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable


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
from .energy import EnergyConfig, energy_meter, member_energy
from .environment import environment
from .late_fusion import LateFusionTrainer
from .manifest import (CellManifest, DatasetRecord, EnergyRecord, Environment, Evaluation, FeatureRecord,
                       MissingRecord, Seeds, Selection, SplitRecord, Timing, TrainingRecord, Trial)
from .seed_batch import SeedBatchTrainer, asks_seed_batch, check_batch, separate_reason
from .serving import ServingTrainer
from .trainers import Candidate, ModelTrainer, Trainer
from .views import cell_views
from .workspace import CellOutcome, Workspace, grid_points


def make_trainer(cell: Cell, fusion: FusionConfig | None, train: TrainConfig, workspace: Workspace,
                 progress: bool) -> Trainer:
    """The trainer a cell's fusion point calls for."""
    if fusion is not None and fusion.point == "late":  # score-level fusion of per-modality models
        return LateFusionTrainer(cell, fusion, train, workspace, progress)
    params = fusion_params(cell, fusion)
    if cell.missing.phase == "serving":  # trained once on complete content, served to every strategy
        return ServingTrainer(cell, train, workspace, params, progress)
    return ModelTrainer(cell, train, workspace, params, progress)


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
    training: TrainingRecord | None = None  # how a cell asking for seed batching was trained


Chosen = tuple[Candidate, HandledData, dict]  # the best candidate, its handled data and imputer settings


def run_cell(cell: Cell, workspace: Workspace | None = None, device: str = "cpu",
             progress: bool = False, energy: EnergyConfig | None = None) -> CellOutcome:
    """Train every (imputer setting x candidate) of `cell`, select on validation, test once.
    `energy`: measure the phases' energy and carbon (None: not measured, no `energy` block).
    A cell asking for seed batching is trained as a seed batch of one (`run_cells`)."""
    if asks_seed_batch(cell):
        outcome = run_cells([cell], workspace, device, progress, energy)[0]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome
    return run_alone(cell, workspace or Workspace(), device, progress, energy)


def run_alone(cell: Cell, ws: Workspace, device: str, progress: bool, energy: EnergyConfig | None,
              training: TrainingRecord | None = None) -> CellOutcome:
    """`run_cell`'s separate training of one cell (`training`: its record, when it asked for seed batching)."""
    meter = energy_meter(energy)  # before the clock: a process's first meter detects the hardware
    started = time.time()
    fusion = FusionConfig.parse(cell.fusion, "cell.fusion")  # None: the cell declares no fusion
    train = train_config(cell, device)
    trainer = make_trainer(cell, fusion, train, ws, progress)
    with meter.phase("data"):
        dataset, split, cold = load_data(cell, ws, device, meter)
    with meter.phase("training"):
        modalities = trainer.prepare(dataset, split)
        if cell.control == "noise":  # the noise control: content replaced by noise of its own moments
            modalities = noise_modalities(modalities, cell.seed)
        trials, chosen = select_variant(cell, fusion, lambda h, p: [trainer.train(h, p)], modalities, split, ws)[0]
    with meter.phase("test"):
        test, tables = test_pass(cell, chosen, split, cold, train)
    run = CellRun(cell, dataset, split, chosen[1], chosen[0], chosen[2], trials, test, device, time.time() - started,
                  meter.record(), training)
    return CellOutcome(test.per_user, cell_manifest(run), tables)


def run_cells(cells: list[Cell], workspace: Workspace | None = None, device: str = "cpu",
              progress: bool = False, energy: EnergyConfig | None = None) -> list[CellOutcome | Exception]:
    """The cells of one configuration's seeds (differing only in `seed`), trained as one seed batch
    (`study.seed_batch`), or separately when their model or setting has no batched form (the
    reason is recorded). Each cell selects on validation and is tested once, as `run_cell`; each
    entry is its outcome or the exception that failed it."""
    check_batch(cells)
    ws = workspace or Workspace()
    reason = separate_reason(cells[0])
    if reason is not None:
        return [attempt(lambda c=c: run_alone(c, ws, device, progress, energy,
                                              TrainingRecord(mode="separate", seeds=[c.seed], reason=reason)))
                for c in cells]
    try:
        return run_batch(cells, ws, device, progress, energy)
    except Exception as exc:  # the shared part failed: every cell of the batch with it
        return [exc] * len(cells)


def run_batch(cells: list[Cell], ws: Workspace, device: str, progress: bool,
              energy: EnergyConfig | None) -> list[CellOutcome | Exception]:
    """`run_cells`' batched training: data and training once for all seeds, then each cell's test."""
    meter, started, cell = energy_meter(energy), time.time(), cells[0]
    fusion = FusionConfig.parse(cell.fusion, "cell.fusion")
    train = train_config(cell, device)
    trainer = SeedBatchTrainer(cells, train, ws, fusion_params(cell, fusion), progress)
    with meter.phase("data"):
        dataset, split, cold = load_data(cell, ws, device, meter)
    with meter.phase("training"):
        modalities = trainer.prepare(dataset, split)
        selected = select_variant(cell, fusion, trainer.train, modalities, split, ws, len(cells))
    shared = SharedPart(time.time() - started, meter.record(), [c.seed for c in cells])
    return [out if isinstance(out, Exception) else attempt(lambda c=c, out=out: shared.finish(
                c, out, dataset, split, cold, train, device, energy)) for c, out in zip(cells, selected)]


@dataclass
class SharedPart:
    """What a seed batch's cells shared: its wall time and energy (divided evenly) and its seeds."""

    seconds: float
    energy: EnergyRecord | None
    seeds: list[int]

    def finish(self, cell: Cell, selected: tuple[list[Trial], Chosen], dataset: Dataset, split: Split,
               cold: Any, train: TrainConfig, device: str, energy: EnergyConfig | None) -> CellOutcome:
        """One cell of the batch: its one test pass and its manifest."""
        meter, started = energy_meter(energy), time.time()
        trials, chosen = selected
        with meter.phase("test"):
            test, tables = test_pass(cell, chosen, split, cold, train)
        members = len(self.seeds)
        run = CellRun(cell, dataset, split, chosen[1], chosen[0], chosen[2], trials, test, device,
                      self.seconds / members + time.time() - started, member_energy(self.energy, meter.record(), members),
                      TrainingRecord(mode="seed_batch", seeds=self.seeds, shared_seconds=self.seconds))
        return CellOutcome(test.per_user, cell_manifest(run), tables)


def attempt(run: Callable[[], CellOutcome]) -> CellOutcome | Exception:
    """`run()`, or the exception it raised (one cell's failure must not stop its batch)."""
    try:
        return run()
    except Exception as exc:
        return exc


def train_config(cell: Cell, device: str) -> TrainConfig:
    return TrainConfig.from_dict({**dict(cell.train), "seed": cell.seed, "device": device})


def fusion_params(cell: Cell, fusion: FusionConfig | None) -> dict:
    """The model settings an early or intermediate fusion point adds (clashes refused)."""
    params = fusion.model_params() if fusion is not None else {}
    clash = sorted(set(params) & (set(cell.params) | set(cell.grid)))
    if clash:
        raise ConfigError(f"cell.fusion sets {clash}; do not also set them in the model params or grid")
    return params


def load_data(cell: Cell, ws: Workspace, device: str, meter) -> tuple[Dataset, Split, Any]:
    """The cell's dataset and split, and the new items held out of training (`new_items` phase)."""
    dataset = ws.dataset(cell.data, device, meter=meter)
    split, cold = ws.split(dataset, cell.data), None
    if cell.missing.phase == "new_items":  # a share of items never seen in training
        split, cold = cold_start_split(split, cell.missing.cold_share, cell.missing.mask_seed)
    return dataset, split, cold


def test_pass(cell: Cell, chosen: Chosen, split: Split, cold: Any, train: TrainConfig) -> tuple[Any, dict]:
    """The one test evaluation of the chosen candidate, and the tables stored beside it."""
    best, handled, _ = chosen
    scorer = best.test_scorer()
    test = evaluate(scorer, handled.split, "test", cutoffs=cell.cutoffs,  # the one test evaluation
                    memory_budget_mb=train.eval_memory_mb)
    return test, {"valid_curve": best.curve, **cell_views(scorer, handled, split, cell, train.eval_memory_mb, cold)}


def select_variant(cell: Cell, fusion: FusionConfig | None, train_runs: Callable[[HandledData, dict], list],
                   modalities: dict, split: Split, ws: Workspace, runs: int = 1
                   ) -> list[tuple[list[Trial], Chosen] | Exception]:
    """For each of the `runs` runs `train_runs` trains on a handled-data variant (the seeds of a
    seed batch; else one), every trial over the imputer settings and the (candidate, handled data,
    imputer settings) with the best validation score (the first best in grid order), or the
    exception that ended the run."""
    points, selection = imputer_points(cell, modalities, split, ws)
    trials: list[list[Trial]] = [[] for _ in range(runs)]
    chosen: list[Chosen | None] = [None] * runs
    failed: list[Exception | None] = [None] * runs
    for imputer_params in points:
        handled = handle_missing(modalities, split, cell.missing, imputer_params,
                                 graph_cache=ws.graphs)
        if selection:
            handled.info["imputer_selection"] = selection
        if fusion is not None:
            handled = fusion.transform(handled)  # early fusion: one "fused" modality; else unchanged
        for i, out in enumerate(train_runs(handled, imputer_params)):
            if failed[i] is None and isinstance(out, Exception):
                failed[i] = out
            elif failed[i] is None:
                trials[i] += out[0]
                if chosen[i] is None or out[1].valid > chosen[i][0].valid:
                    chosen[i] = (out[1], handled, imputer_params)
    return [failed[i] or (trials[i], chosen[i]) for i in range(runs)]


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
        fusion=best.fusion, serving=best.serving, energy=run.energy, training=run.training)
