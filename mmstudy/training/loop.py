"""Mini-batch training with validation-based early stopping and best-state restoration."""
from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import torch
from tqdm.auto import tqdm

from ..config import from_mapping, located
from ..data.split import Split
from ..errors import ConfigError, MMStudyError
from ..evaluation import evaluate_metric, parse_metric
from ..allocator import keep_freed_memory
from ..models.base import Recommender
from .sampling import NegativeSampler


class DivergenceError(MMStudyError, FloatingPointError):
    """The training loss became NaN or infinite."""


@dataclass(frozen=True)
class TrainConfig:
    """How a model is trained and selected; `patience` and `eval_every` count epochs.

    `eval_memory_mb` bounds the score matrix of one batch of users in every full-ranking
    evaluation (the validation passes and the test pass): the user batch size is derived from it.
    `seed_batch` trains the seeds of one configuration together as one batched model
    (`training.seed_batch`); it says how a group of runs is trained, not how one model is, so it
    is not one of `fit`'s arguments (`as_dict` leaves it out).
    """

    epochs: int = 200
    batch_size: int = 2048
    lr: float = 1e-3
    weight_decay: float = 0.0
    patience: int = 20
    valid_metric: str = "Recall@20"
    seed: int = 0
    device: str = "cpu"
    eval_every: int = 1
    max_seconds: float | None = None
    eval_memory_mb: float = 512.0
    seed_batch: bool = False

    def __post_init__(self) -> None:
        for key in ("epochs", "batch_size", "patience", "eval_every"):
            if int(getattr(self, key)) < 1:
                raise ConfigError(f"train.{key} must be at least 1, got {getattr(self, key)}")
        for key, value in (("lr", self.lr), ("max_seconds", self.max_seconds), ("eval_memory_mb", self.eval_memory_mb)):
            if value is not None and not (math.isfinite(value) and value > 0):
                raise ConfigError(f"train.{key} must be a finite number > 0, got {value}")
        if not (math.isfinite(self.weight_decay) and self.weight_decay >= 0):
            raise ConfigError(f"train.weight_decay must be a finite number >= 0, got {self.weight_decay}")
        with located("train.valid_metric"):
            parse_metric(self.valid_metric)

    @classmethod
    def from_dict(cls, values: dict[str, Any] | None, where: str = "train") -> "TrainConfig":
        """Build from a plain mapping (e.g. YAML); unknown keys and values of the wrong type raise
        ConfigError naming `where` and the key (unknown keys with a "did you mean" hint), and so do
        the range checks of `__post_init__`, which name their key as `train.<key>`."""
        try:
            return from_mapping(cls, values, where)
        except ConfigError as exc:
            message = str(exc)
            if where == "train" or not message.startswith("train."):
                raise
            raise ConfigError(where + message[len("train"):]) from None

    def replace(self, **changes: Any) -> "TrainConfig":
        return self.from_dict({**dataclasses.asdict(self), **changes})

    def as_dict(self) -> dict[str, Any]:
        """The settings as `fit`'s keyword arguments (`seed_batch` is not one of them)."""
        values = dataclasses.asdict(self)
        del values["seed_batch"]
        return values


@dataclass
class FitResult:
    """What happened during training; epochs are numbered from 1, `train_seconds` is the wall
    time of the whole fit (training and validation), `curve` has one row per epoch (the
    validation metric only in validated epochs)."""

    best_epoch: int
    best_valid: float
    valid_metric: str
    curve: list[dict[str, float]] = field(default_factory=list)
    stopped_early: bool = False
    stop_reason: str = "epochs"  # "epochs", "patience" or "max_seconds"
    epochs_run: int = 0
    train_seconds: float = 0.0
    mean_epoch_seconds: float = 0.0
    mean_valid_seconds: float = 0.0


def make_optimizer(model: Recommender, lr: float = 1e-3, weight_decay: float = 0.0) -> torch.optim.Adam:
    """Adam over the model's parameters, fused: one kernel per step (the same update rule, fewer
    passes over memory than the per-parameter loop torch uses by default on CPU)."""
    return torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay, fused=True)


def train_epoch(model: Recommender, sampler: NegativeSampler, optimizer: torch.optim.Optimizer,
                 epoch: int, generator: torch.Generator) -> float:
    """One pass over the sampler's batches; returns the mean loss. Freed memory is kept for reuse
    (see `mmstudy.allocator`): big per-step tensors are not page-faulted in again every step."""
    keep_freed_memory()
    model.train()
    model.on_epoch_start(epoch, generator)
    total: torch.Tensor | float = 0.0
    for batch in sampler:
        loss = model.loss(batch)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        total = total + loss.detach()  # summed on the device: one synchronisation per epoch
    return check_loss(float(total) / len(sampler), epoch, type(model).__name__)


def check_loss(mean: float, epoch: int, model: str) -> float:
    """`mean`, the epoch's mean training loss of `model`; DivergenceError if it is NaN or infinite."""
    if not math.isfinite(mean):
        raise DivergenceError(f"training loss became {mean} at epoch {epoch} of "
                              f"{model}; lower the learning rate or check the inputs")
    return mean


def _snapshot(model: Recommender) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


class EarlyStopping:
    """One model's validation bookkeeping: its curve, best epoch and best state, and when it stops.

    The caller trains an epoch, asks `validate_now`, and hands the epoch's row (with the
    validation score when it validated) to `end_epoch`, which returns the stop reason ("" to go
    on). `seconds` is the model's training time so far (set by the caller; `max_seconds` reads it).
    `fit` keeps one; `seed_batch.fit_seeds` keeps one per seed.
    """

    def __init__(self, config: TrainConfig, state: dict[str, torch.Tensor]):
        self.config, self.best_state, self.seconds = config, state, 0.0
        self.result = FitResult(best_epoch=0, best_valid=float("-inf"), valid_metric=config.valid_metric)

    @property
    def out_of_time(self) -> bool:
        return self.config.max_seconds is not None and self.seconds >= self.config.max_seconds

    def validate_now(self, epoch: int) -> bool:
        return epoch % self.config.eval_every == 0 or epoch == self.config.epochs or self.out_of_time

    def end_epoch(self, row: dict[str, float], snapshot: Callable[[], dict[str, torch.Tensor]]) -> str:
        """Record the epoch's row; a strictly better validation score takes `snapshot()` as the
        best state. Returns why training stops now ("epochs", "patience", "max_seconds") or ""."""
        epoch, score = int(row["epoch"]), row.get(self.config.valid_metric)
        if score is not None and score > self.result.best_valid:
            self.result.best_epoch, self.result.best_valid, self.best_state = epoch, score, snapshot()
        self.result.curve.append(row)
        self.result.epochs_run = epoch
        reason = _stop_reason(self.config, epoch, self.result.best_epoch, self.out_of_time)
        if reason:
            self.result.stop_reason, self.result.stopped_early = reason, reason != "epochs"
        return reason

    def finish(self) -> FitResult:
        """The result, its timings summarised over the recorded rows."""
        _summarise(self.result, self.seconds)
        return self.result


def fit(model: Recommender, split: Split, *, epochs: int = 200, batch_size: int = 2048,
        lr: float = 1e-3, weight_decay: float = 0.0, patience: int = 20,
        valid_metric: str = "Recall@20", eval_every: int = 1, seed: int = 0,
        device: str | torch.device = "cpu", progress: bool = True,
        max_seconds: float | None = None, eval_memory_mb: float = 512.0) -> FitResult:
    """Train `model` with Adam on `split.train`, validating every `eval_every` epochs.

    Stops after `epochs`, after `patience` epochs without a strictly better validation score, or
    once `max_seconds` of training have passed; the best validated state is restored at the end.
    Each validation pass scores users in batches whose score matrix fits `eval_memory_mb`.
    """
    config = TrainConfig(epochs, batch_size, lr, weight_decay, patience, valid_metric, seed,
                         str(device), eval_every, max_seconds, eval_memory_mb)  # validates every argument
    generator = torch.Generator().manual_seed(seed)
    model.to(device)
    sampler = NegativeSampler(split.train, generator, batch_size, device)
    optimizer = make_optimizer(model, lr, weight_decay)
    stopping, start = EarlyStopping(config, _snapshot(model)), time.perf_counter()
    with tqdm(range(1, epochs + 1), desc=type(model).__name__, disable=not progress,
              leave=False) as bar:
        for epoch in bar:
            tick = time.perf_counter()
            loss = train_epoch(model, sampler, optimizer, epoch, generator)
            row = {"epoch": epoch, "loss": loss, "epoch_seconds": time.perf_counter() - tick}
            stopping.seconds = time.perf_counter() - start
            if stopping.validate_now(epoch):
                tick = time.perf_counter()
                score = evaluate_metric(model, split, valid_metric, "valid", memory_budget_mb=eval_memory_mb)
                row.update({valid_metric: score, "valid_seconds": time.perf_counter() - tick})
                bar.set_postfix(loss=f"{loss:.4f}", **{valid_metric: f"{score:.4f}"})
            if stopping.end_epoch(row, lambda: _snapshot(model)):
                break
    model.load_state_dict(stopping.best_state)
    model.eval()
    stopping.seconds = time.perf_counter() - start
    return stopping.finish()


def _stop_reason(config: TrainConfig, epoch: int, best_epoch: int, out_of_time: bool) -> str:
    if epoch >= config.epochs:
        return "epochs"
    if best_epoch and epoch - best_epoch >= config.patience:
        return "patience"
    if out_of_time:
        return "max_seconds"
    return ""


def _summarise(result: FitResult, seconds: float) -> None:
    result.train_seconds = seconds
    epoch_times = [row["epoch_seconds"] for row in result.curve]
    valid_times = [row["valid_seconds"] for row in result.curve if "valid_seconds" in row]
    result.mean_epoch_seconds = sum(epoch_times) / max(1, len(epoch_times))
    result.mean_valid_seconds = sum(valid_times) / max(1, len(valid_times))
