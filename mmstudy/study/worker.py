"""What runs one cell in a worker, whatever the executor (this process, a process pool, Ray): torch
thread and determinism settings, the process's shared workspace, and storing the result.

CPU cells run with torch's deterministic algorithms, so every executor stores bit-identical results.
"""
from __future__ import annotations

import os
import time
import traceback
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Iterator

import torch

from ..errors import MMStudyError
from ..registry import UnknownNameError
from .cell import Cell
from .seed_batch import asks_seed_batch
from .energy import EnergyConfig
from .executor import attempt, run_cell, run_cells
from .store import ResultStore
from .workspace import CellOutcome, Workspace


def cpu_cores() -> int:
    """CPU cores this process may use (its affinity mask where the OS reports one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def threads_per_worker(jobs: int, cores: int | None = None) -> int:
    """Torch threads for each of `jobs` concurrent cells: the cores split evenly, at least one."""
    return max(1, (cores or cpu_cores()) // max(1, jobs))


@contextmanager
def torch_settings(threads: int | None, deterministic: bool = False) -> Iterator[None]:
    """Run the block with `threads` torch threads (None: unchanged) and, if asked, deterministic
    algorithms, then restore both. Deterministic mode matters on CPU too: with more than one
    thread, the backward of indexing with repeated indices (every mini-batch gather) adds with
    atomics in a varying order unless it is on."""
    before = (torch.get_num_threads(), torch.are_deterministic_algorithms_enabled(),
              torch.is_deterministic_algorithms_warn_only_enabled())
    if threads:
        torch.set_num_threads(threads)
    if deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)  # never fail a cell over it
    try:
        yield
    finally:
        torch.set_num_threads(before[0])
        torch.use_deterministic_algorithms(before[1], warn_only=before[2])


@dataclass(frozen=True)
class WorkerSettings:
    """Where and how a worker runs its cells (sent, pickled, to pool workers and Ray tasks)."""

    output: str
    cache_dir: str | None
    device: str = "cpu"
    threads: int | None = None
    energy: EnergyConfig | None = None


Result = tuple[str, str | None, float, str | None]  # (fingerprint, one-line error or None, seconds, traceback)


def execute_cell(cell_dict: dict, settings: WorkerSettings) -> Result:
    """Worker body: run one cell (measuring its energy per the settings) and store it; returns
    (fingerprint, error or None, seconds, traceback or None).

    The error is one line. An input error (`MMStudyError`, an unknown name) is fully said by
    its message; any other exception is a bug, and its traceback comes along for the record.
    """
    return execute_cells([cell_dict], settings)[0]


def execute_cells(cell_dicts: list[dict], settings: WorkerSettings) -> list[Result]:
    """Worker body for one job: one cell, or the cells of one configuration's seeds that ask for
    seed batching (trained together, `executor.run_cells`); stores each finished cell and returns
    each cell's result as `execute_cell` does (a batch's seconds are divided among its cells)."""
    cells = [Cell.from_dict(d) for d in cell_dicts]
    started, workspace = time.perf_counter(), _workspace(settings.cache_dir)
    try:
        with torch_settings(settings.threads, deterministic=settings.device == "cpu"):  # same results for any executor
            if asks_seed_batch(cells[0]):
                outcomes = run_cells(cells, workspace, device=settings.device, energy=settings.energy)
            else:
                outcomes = [attempt(lambda c=c: run_cell(c, workspace, device=settings.device, energy=settings.energy))
                            for c in cells]
    except Exception as exc:  # e.g. cells that do not form one seed batch
        outcomes = [exc] * len(cells)
    stored = [_store(cell, outcome, settings) for cell, outcome in zip(cells, outcomes)]
    seconds = (time.perf_counter() - started) / len(cells)
    return [(fp, error, seconds, trace) for fp, error, trace in stored]


def _store(cell: Cell, outcome: CellOutcome | Exception, settings: WorkerSettings) -> tuple[str, str | None, str | None]:
    """Write a finished cell; (fingerprint, one-line error or None, traceback or None)."""
    fp = cell.fingerprint
    try:
        if isinstance(outcome, Exception):
            raise outcome
        cpu = settings.device == "cpu"
        environment = replace(outcome.manifest.environment, torch_deterministic=cpu)
        ResultStore(settings.output).write(fp, outcome.per_user, replace(outcome.manifest, environment=environment),
                                           outcome.tables)
        return fp, None, None
    except Exception as exc:  # a failing cell must not stop the study
        line = f"{type(exc).__name__}: {' '.join(str(exc).split())}"
        trace = None if isinstance(exc, (MMStudyError, UnknownNameError)) else traceback.format_exc()
        return fp, line, trace


_WORKSPACES: dict = {}


def _workspace(cache_dir: str | None) -> Workspace:
    """One Workspace per process and cache folder, so cells in a process share loaded data."""
    if cache_dir not in _WORKSPACES:
        _WORKSPACES[cache_dir] = Workspace(cache_dir)
    return _WORKSPACES[cache_dir]
