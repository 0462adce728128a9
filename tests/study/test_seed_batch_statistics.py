"""Seed batching changes how seeds are trained, not what they give: per-seed test Recall@20 of a
seed batch and of separate training over ten seeds are statistically indistinguishable, and the
check says otherwise for the ways batching goes wrong (seeds sharing one sampling stream, or one
early-stopping decision for all)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import stats

from mmstudy.study.cell import Cell, DataConfig, MissingConfig
from mmstudy.study.executor import run_cell, run_cells
from mmstudy.study.workspace import Workspace
from mmstudy.training import seed_batch as seed_training

SEEDS = tuple(range(10))
DATA = DataConfig(name="synthetic", options={"n_users": 300, "n_items": 200, "n_interactions": 6000})
TRAIN = {"epochs": 25, "batch_size": 512, "lr": 0.01, "patience": 3}


def cells(model: str, batched: bool) -> list[Cell]:
    missing = MissingConfig(setting="same", rate=0.3, strategy="mean") if model == "VBPR" else MissingConfig()
    train = {**TRAIN, **({"seed_batch": True} if batched else {})}
    return [Cell(data=DATA, model=model, train=train, missing=missing, seed=s, cutoffs=(20,)) for s in SEEDS]


def recalls(outcomes) -> np.ndarray:
    return np.array([o.per_user["Recall@20"].mean() for o in outcomes])


def problems(batched: np.ndarray, separate: np.ndarray) -> list[str]:
    """What tells the two samples of per-seed results apart (empty: indistinguishable). Tolerances
    are shares of the seeds' own spread `sd`: means within a quarter of it, Welch's t-test p > 0.05,
    spreads within a factor 2, and (each seed keeps its initialisation and sampling stream) every
    seed within a tenth of it of its separate run."""
    sd = float(np.mean([batched.std(ddof=1), separate.std(ddof=1)]))
    found = []
    if abs(batched.mean() - separate.mean()) > 0.25 * sd:
        found.append(f"means {batched.mean():.4f} vs {separate.mean():.4f} differ by more than sd/4 ({sd / 4:.4f})")
    p = stats.ttest_ind(batched, separate, equal_var=False).pvalue
    if p <= 0.05:
        found.append(f"Welch t-test p = {p:.3g}")
    if not 0.5 <= batched.std(ddof=1) / separate.std(ddof=1) <= 2:
        found.append(f"spreads {batched.std(ddof=1):.4f} vs {separate.std(ddof=1):.4f}")
    worst = float(np.abs(batched - separate).max())
    if worst > 0.1 * sd:
        found.append(f"a seed moved by {worst:.4f} (> sd/10 = {sd / 10:.4f}) from its separate run")
    return found


@pytest.fixture(scope="module")
def separate_runs():
    """Per model, the separately trained seeds' Recall@20 (trained once for the module)."""
    torch.set_num_threads(1)
    return {m: recalls([run_cell(c, Workspace()) for c in cells(m, False)]) for m in ("BPR-MF", "VBPR")}


@pytest.mark.slow
@pytest.mark.parametrize("model", ["BPR-MF", "VBPR"])
def test_batched_seeds_are_indistinguishable_from_separate_ones(model, separate_runs):
    batched = recalls(run_cells(cells(model, True), Workspace()))
    assert batched.std(ddof=1) > 0  # the seeds differ
    assert problems(batched, separate_runs[model]) == []


def one_shared_stream(monkeypatch):
    """The bug of every seed drawing from one sampling stream (seed 0's)."""
    real = seed_training.NegativeSampler
    shared = torch.Generator().manual_seed(0)
    monkeypatch.setattr(seed_training, "NegativeSampler", lambda train, generator, *args: real(train, shared, *args))


def one_stopping_decision(monkeypatch):
    """The bug of one early-stopping state for all: every seed validated by the first seed's score."""
    real = seed_training.validate

    def validate(batch, split, config, members):
        scores = real(batch, split, config, members[:1])
        return {m: scores[members[0]] for m in members} if members else {}

    monkeypatch.setattr(seed_training, "validate", validate)


@pytest.mark.slow
@pytest.mark.parametrize("bug", [one_shared_stream, one_stopping_decision])
def test_the_check_tells_a_wrong_batch_apart(bug, separate_runs, monkeypatch):
    bug(monkeypatch)
    batched = recalls(run_cells(cells("VBPR", True), Workspace()))
    assert problems(batched, separate_runs["VBPR"])
