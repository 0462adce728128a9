"""Execute a study's cells: skip finished ones, store each result atomically, never stop on a
failing cell, and report progress (bar with ETA, a status line per cell, a final summary)."""
from __future__ import annotations

import os
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from tqdm.auto import tqdm

from ..hashing import fingerprint, write_json
from .cell import Cell
from .pipeline import Workspace, run_cell
from .store import ResultStore

EXECUTORS = ("local", "ray")


@dataclass
class StudySummary:
    done: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def line(self) -> str:
        return (f"{len(self.done)} done, {len(self.skipped)} skipped (already finished), "
                f"{len(self.failed)} failed in {self.seconds:.1f} s")


def chain_fingerprints(fingerprints: Iterable[str]) -> str:
    """A hash chain over the cells' fingerprints, in study order (the study manifest's seal)."""
    head = ""
    for fp in fingerprints:
        head = fingerprint([head, fp])
    return head


def resolve_device(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        from ..errors import ConfigError
        raise ConfigError(f"--device {device}: CUDA is not available on this machine")
    return device


def _execute(cell_dict: dict, output: str, cache_dir: str | None, device: str, threads: int | None) -> tuple[str, str | None]:
    """Worker body: run one cell and store it; returns (fingerprint, error or None)."""
    import torch

    if threads:
        torch.set_num_threads(threads)
    cell = Cell.from_dict(cell_dict)
    fp = cell.fingerprint
    try:
        outcome = run_cell(cell, _workspace(cache_dir), device=device)
        ResultStore(output).write(fp, outcome.per_user, outcome.manifest, outcome.tables)
        return fp, None
    except Exception as exc:  # a failing cell must not stop the study
        return fp, f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}"


_WORKSPACES: dict = {}


def _workspace(cache_dir: str | None) -> Workspace:
    """One Workspace per process and cache folder, so cells in a process share loaded data."""
    if cache_dir not in _WORKSPACES:
        _WORKSPACES[cache_dir] = Workspace(cache_dir)
    return _WORKSPACES[cache_dir]


def run_study(cells: list[Cell], output: str | Path, *, executor: str = "local", jobs: int = 1,
              device: str = "cpu", cache_dir: str | Path | None = None, progress: bool = True,
              ray_address: str | None = None, meta: dict | None = None) -> StudySummary:
    """Run every unfinished cell of `cells` and write `study.json` into `output`."""
    from ..errors import ConfigError

    if executor not in EXECUTORS:
        raise ConfigError(f"unknown executor {executor!r}; expected one of {EXECUTORS}")
    output = Path(output)
    store = ResultStore(output)
    device = resolve_device(device)
    cache = str(cache_dir if cache_dir is not None else output / ".cache")
    summary, started = StudySummary(), time.time()
    todo = []
    for cell in cells:
        if store.is_done(cell.fingerprint):
            summary.skipped.append(cell.fingerprint)
        else:
            todo.append(cell)
    bar = tqdm(total=len(cells), initial=len(summary.skipped), desc="cells", unit="cell", disable=not progress)
    record = _recorder(summary, bar, {c.fingerprint: c for c in todo})
    if executor == "ray":
        from .ray_executor import run_with_ray
        run_with_ray(todo, str(output), cache, device, ray_address, record)
    elif jobs > 1:
        threads = max(1, (os.cpu_count() or 1) // jobs)
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(_execute, c.to_dict(), str(output), cache, device, threads) for c in todo]
            for fut in as_completed(futures):
                record(*fut.result())
    else:
        for cell in todo:
            record(*_execute(cell.to_dict(), str(output), cache, device, None))
    bar.close()
    summary.seconds = time.time() - started
    _write_study_manifest(output, cells, summary, meta or {}, device)
    return summary


def _recorder(summary: StudySummary, bar, cells: dict[str, Cell]) -> Callable[[str, str | None], None]:
    def record(fp: str, error: str | None) -> None:
        label = ", ".join(f"{k}={v}" for k, v in cells[fp].labels.items()) or cells[fp].model
        if error is None:
            summary.done.append(fp)
            bar.write(f"done    {fp[:10]}  {label}")
        else:
            summary.failed[fp] = error
            bar.write(f"FAILED  {fp[:10]}  {label}: {error.splitlines()[0]}")
        bar.update(1)
    return record


def _write_study_manifest(output: Path, cells: list[Cell], summary: StudySummary, meta: dict,
                          device: str) -> None:
    fps = [c.fingerprint for c in cells]
    write_json(output / "study.json", {
        **meta, "cells": [{"fingerprint": c.fingerprint, "labels": dict(c.labels)} for c in cells],
        "chain": chain_fingerprints(fps), "device": device,
        "summary": {"done": len(summary.done), "skipped": len(summary.skipped),
                    "failed": {fp: err.splitlines()[0] for fp, err in summary.failed.items()}},
    })
