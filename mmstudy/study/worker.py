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
from .energy import EnergyConfig
from .executor import run_cell
from .store import ResultStore
from .workspace import Workspace


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


def execute_cell(cell_dict: dict, settings: WorkerSettings) -> tuple[str, str | None, float, str | None]:
    """Worker body: run one cell (measuring its energy per the settings) and store it; returns
    (fingerprint, error or None, seconds, traceback or None).

    The error is one line. An input error (`MMStudyError`, an unknown name) is fully said by
    its message; any other exception is a bug, and its traceback comes along for the record.
    """
    cell = Cell.from_dict(cell_dict)
    fp, started = cell.fingerprint, time.perf_counter()
    try:
        cpu = settings.device == "cpu"
        with torch_settings(settings.threads, deterministic=cpu):  # same results for any executor
            outcome = run_cell(cell, _workspace(settings.cache_dir), device=settings.device, energy=settings.energy)
        environment = replace(outcome.manifest.environment, torch_deterministic=cpu)
        ResultStore(settings.output).write(fp, outcome.per_user, replace(outcome.manifest, environment=environment),
                                           outcome.tables)
        return fp, None, time.perf_counter() - started, None
    except Exception as exc:  # a failing cell must not stop the study
        line = f"{type(exc).__name__}: {' '.join(str(exc).split())}"
        trace = None if isinstance(exc, (MMStudyError, UnknownNameError)) else traceback.format_exc()
        return fp, line, time.perf_counter() - started, trace


_WORKSPACES: dict = {}


def _workspace(cache_dir: str | None) -> Workspace:
    """One Workspace per process and cache folder, so cells in a process share loaded data."""
    if cache_dir not in _WORKSPACES:
        _WORKSPACES[cache_dir] = Workspace(cache_dir)
    return _WORKSPACES[cache_dir]
