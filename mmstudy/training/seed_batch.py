"""Training a seed batch (`models.seed_batch`): every member trained as `fit` would train it alone.

Each member keeps everything a separate run has: its own negative-sampling stream (a
`NegativeSampler` on a generator seeded with its seed, drawn exactly as `fit` draws), its own
validation passes, early stopping and best state (`loop.EarlyStopping`), and its own divergence
check. Only the steps are shared: one optimiser step updates every member, and Adam's update is
elementwise, so each member's update is its own. A member that stops (patience, epochs, time) or
diverges leaves the batch; the others train on without it.

Timings are each member's share: an epoch's wall time divided among the members that trained in
it; a validation pass, the member's own ranking plus its share of the batched representations.
`max_seconds` reads a member's own summed share.
"""
from __future__ import annotations

import time
from typing import Sequence

import torch
from tqdm.auto import tqdm

from ..allocator import keep_freed_memory
from ..data.split import Split
from ..evaluation import evaluate_metric
from ..models.base import Batch
from ..models.seed_batch import SeedBatch
from .loop import DivergenceError, EarlyStopping, FitResult, TrainConfig, check_loss, make_optimizer
from .sampling import NegativeSampler


def fit_seeds(batch: SeedBatch, split: Split, config: TrainConfig, seeds: Sequence[int],
              progress: bool = False) -> list[FitResult | DivergenceError]:
    """Train member b of `batch` with training seed `seeds[b]` (its negative-sampling stream; its
    initialisation came from `make_model`), each stopping on its own validation score, and restore
    each member's best validated state (`batch.member(b, ...)`). Returns, per member, its
    `FitResult`, or the `DivergenceError` that ended it."""
    if len(seeds) != batch.size:
        raise ValueError(f"{len(seeds)} seeds for a batch of {batch.size} members")
    samplers = [NegativeSampler(split.train, torch.Generator().manual_seed(int(s)), config.batch_size, config.device)
                for s in seeds]
    optimizer = make_optimizer(batch, config.lr, config.weight_decay)
    stops = [EarlyStopping(config, batch.seed_state(b)) for b in range(batch.size)]
    outcome: list[FitResult | DivergenceError | None] = [None] * batch.size
    name = batch.model.__name__
    with tqdm(range(1, config.epochs + 1), desc=f"{name} x{batch.size}", disable=not progress, leave=False) as bar:
        for epoch in bar:
            tick = time.perf_counter()
            losses = dict(zip(batch.active, batch_epoch(batch, [samplers[m] for m in batch.active], optimizer)))
            share = (time.perf_counter() - tick) / batch.size
            leaving = diverged(losses, epoch, name, outcome)  # as `fit` would, before validating
            for m in losses:
                stops[m].seconds += share
            due = [m for m in batch.active if m not in leaving and stops[m].validate_now(epoch)]
            scores = validate(batch, split, config, due)
            for m in (m for m in batch.active if m not in leaving):
                row = {"epoch": epoch, "loss": losses[m], "epoch_seconds": share, **scores.get(m, {})}
                stops[m].seconds += row.get("valid_seconds", 0.0)
                if stops[m].end_epoch(row, lambda m=m: batch.seed_state(batch.active.index(m))):
                    leaving.append(m)
            if leaving:
                optimizer = narrow(batch, optimizer, config, [p for p, m in enumerate(batch.active) if m not in leaving])
            bar.set_postfix(training=batch.size)
            if not batch.size:
                break
    return [out if out is not None else _finish(batch, m, stops[m]) for m, out in enumerate(outcome)]


def diverged(losses: dict[int, float], epoch: int, model: str, outcome: list) -> list[int]:
    """The members whose epoch loss is not finite; each one's outcome becomes its DivergenceError."""
    out = []
    for member, loss in losses.items():
        try:
            check_loss(loss, epoch, model)
        except DivergenceError as exc:  # this member's run ends here, as `fit` would end it
            outcome[member] = exc
            out.append(member)
    return out


def _finish(batch: SeedBatch, member: int, stopping: EarlyStopping) -> FitResult:
    batch.member(member, stopping.best_state)  # the member now holds its best validated state
    return stopping.finish()


def batch_epoch(batch: SeedBatch, samplers: list[NegativeSampler], optimizer: torch.optim.Optimizer) -> list[float]:
    """One epoch of every member (member b on `samplers[b]`'s batches); the members' mean losses."""
    keep_freed_memory()
    batch.train()
    users, pos, neg = (torch.stack(parts) for parts in zip(*(s.epoch() for s in samplers)))
    size = samplers[0].batch_size
    total: torch.Tensor | float = 0.0
    for start in range(0, users.shape[1], size):
        part = slice(start, start + size)
        losses = batch.loss(Batch(users[:, part], pos[:, part], neg[:, part]))
        optimizer.zero_grad(set_to_none=True)
        losses.sum().backward()  # each member's gradient is its own loss's
        optimizer.step()
        total = total + losses.detach()
    return (total / len(samplers[0])).tolist()


def validate(batch: SeedBatch, split: Split, config: TrainConfig, members: list[int]) -> dict[int, dict]:
    """{member: {valid metric: score, "valid_seconds": ...}} for the `members` due a validation
    pass: representations computed once for the batch, then each member ranked on its own."""
    if not members:
        return {}
    tick = time.perf_counter()
    batch.eval()
    with torch.no_grad():
        users, items = batch.representations()
    shared = (time.perf_counter() - tick) / len(members)
    out = {}
    for m in members:
        tick, position = time.perf_counter(), batch.active.index(m)
        score = evaluate_metric(_scorer(users[position], items[position]), split, config.valid_metric, "valid",
                                memory_budget_mb=config.eval_memory_mb)
        out[m] = {config.valid_metric: score, "valid_seconds": shared + time.perf_counter() - tick}
    return out


def _scorer(users: torch.Tensor, items: torch.Tensor):
    """A member's score function (`Recommender.score` on its representations)."""
    return lambda index: users[index] @ items.T


def narrow(batch: SeedBatch, optimizer: torch.optim.Optimizer, config: TrainConfig, keep: list[int]
           ) -> torch.optim.Optimizer:
    """Keep the members at positions `keep`: the batch's parameters and the optimiser's state are
    cut to them (a fresh optimiser over the new tensors, carrying each kept member's Adam state)."""
    before = list(batch.stacked)
    batch.narrow(keep)
    fresh = make_optimizer(batch, config.lr, config.weight_decay)
    if not keep:
        return fresh
    index = torch.tensor(keep, dtype=torch.long, device=before[0].device)
    for old, new in zip(before, batch.stacked):
        state = optimizer.state.get(old)
        if state:
            fresh.state[new] = {k: v.index_select(0, index) if v.dim() else v.clone() for k, v in state.items()}
    return fresh
