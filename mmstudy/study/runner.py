"""Execute a study's cells: skip finished ones, store each result atomically, never stop on a
failing cell, and report progress (bar with ETA, a status line per cell, a final summary).

Executors: `local` runs cells in this process (`jobs=1`) or in a pool of `jobs` worker processes
(each with `cores // jobs` torch threads, so workers do not oversubscribe the CPU; started from a
forkserver, so a script calling run_study with jobs > 1 needs the `if __name__ == "__main__":`
guard); `ray` runs them as Ray tasks (see ray_executor). CPU cells run with torch's deterministic
algorithms, so every executor stores bit-identical results. Cells asking for seed batching
(`train.seed_batch`) run as one job per configuration, holding its unfinished seeds
(`seed_batch.seed_batches`). Every worker writes its own cells through ResultStore, so an interrupted study (Ctrl-C, SIGKILL) resumes with only the unfinished
or corrupted cells; pool workers exit with the study process.
"""
from __future__ import annotations

import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from tqdm.auto import tqdm

from ..data import load_dataset
from ..device import resolve_device
from ..errors import ConfigError
from ..hashing import fingerprint, write_json
from .cell import Cell
from .energy import EnergyConfig
from .seed_batch import seed_batches
from .worker import WorkerSettings, execute_cells, threads_per_worker
from .workspace import Workspace
from .output import check_output, locked
from .store import ResultStore

EXECUTORS = ("local", "ray")
Recorder = Callable[..., None]  # record(fingerprint, error or None, seconds=None, traceback=None)


@dataclass
class StudySummary:
    done: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # {fingerprint: one-line error}
    tracebacks: dict[str, str] = field(default_factory=dict)  # of the failures that are bugs, not bad input
    seconds: float = 0.0
    cell_seconds: dict[str, float] = field(default_factory=dict)

    def line(self) -> str:
        return (f"{len(self.done)} done, {len(self.skipped)} skipped (already finished), "
                f"{len(self.failed)} failed in {self.seconds:.1f} s")


def chain_fingerprints(fingerprints: Iterable[str]) -> str:
    """A hash chain over the cells' fingerprints, in study order (the study manifest's seal)."""
    head = ""
    for fp in fingerprints:
        head = fingerprint([head, fp])
    return head


def pending_cells(cells: list[Cell], store: ResultStore,
                  redo: Callable[[str], None] = print) -> tuple[list[Cell], list[str]]:
    """(cells to run, fingerprints already finished); duplicate cells are kept once. A cell whose
    folder exists but is not a finished, intact result is run again, and `redo` says why."""
    todo, finished, seen = [], [], set()
    for cell in cells:
        fp = cell.fingerprint
        if fp in seen:
            continue
        seen.add(fp)
        problems = store.problems(fp) if store.cell_dir(fp).exists() else None  # None: never run
        if problems == []:
            finished.append(fp)
            continue
        todo.append(cell)
        if problems:
            redo(f"redo    {fp[:10]}  {problems[0]}")
    return todo, finished


def prepare_shared(cells: list[Cell], cache_dir: str, write: Callable[[str], None] = print) -> None:
    """Make each distinct dataset's split once, here, before parallel workers would race to."""
    ws = Workspace(cache_dir)
    for data in {fingerprint(c.to_dict()["data"]): c.data for c in cells}.values():
        try:
            ws.split(ws.dataset(data), data)
        except Exception as exc:  # the cells themselves will fail with this error and its reason
            write(f"could not prepare the split of {data.name!r} ({type(exc).__name__}: {exc})")


def check_data(cells: list[Cell]) -> None:
    """Load each distinct dataset of `cells` once, here, without extracting features: a malformed
    file, an explicit rating column without `min_rating` or features that no longer match their
    provenance sidecar stop the study with one error before any cell runs or anything is written
    (instead of failing every cell). The loaders' warnings are shown here, once."""
    for data in {fingerprint([c.data.name, dict(c.data.options)]): c.data for c in cells}.values():
        load_dataset(data.name, **dict(data.options))


def run_study(cells: list[Cell], output: str | Path, *, executor: str = "local", jobs: int = 1,
              device: str = "cpu", cache_dir: str | Path | None = None, progress: bool = True,
              ray_address: str | None = None, meta: dict | None = None,
              threads: int | None = None, energy: EnergyConfig | None = EnergyConfig()) -> StudySummary:
    """Run every unfinished cell of `cells` and write `study.json` into `output`.

    `threads`: torch threads per concurrent cell (default: cores // jobs; 1 per Ray task).
    `energy`: how each cell's energy is measured (default: on when CodeCarbon is installed;
    None: not at all, no `energy` block in the manifests).
    """
    if executor not in EXECUTORS:
        raise ConfigError(f"unknown executor {executor!r}; expected one of {EXECUTORS}")
    if jobs < 1:
        raise ConfigError(f"--jobs must be at least 1, got {jobs}")
    if threads is not None and threads < 1:
        raise ConfigError(f"--threads must be at least 1, got {threads}")
    output = Path(output)
    device = device if executor == "ray" else str(resolve_device(device))  # Ray checks its cluster
    check_output(output, meta)  # before anything is written
    check_data(cells)
    threads = threads or (1 if executor == "ray" else threads_per_worker(jobs))
    cache = str(cache_dir if cache_dir is not None else output / ".cache")
    settings = WorkerSettings(str(output), cache, device, threads, energy)
    run = {"executor": executor, "jobs": jobs, "threads": threads, "address": ray_address,
           "energy": asdict(energy) if energy is not None else None}
    with locked(output):
        return _run_locked(cells, settings, run, meta, progress)


def _run_locked(cells: list[Cell], settings: WorkerSettings, run: dict, meta: dict | None,
                progress: bool) -> StudySummary:
    """run_study's body, in a results folder this process holds."""
    output = Path(settings.output)
    summary, started = StudySummary(), time.time()
    todo, summary.skipped = pending_cells(cells, ResultStore(output), redo=tqdm.write if progress else print)
    bar = tqdm(total=len(todo) + len(summary.skipped), initial=len(summary.skipped), desc="cells",
               unit="cell", disable=not progress, smoothing=0.1)
    record = _recorder(summary, bar, {c.fingerprint: c for c in todo}, output)
    device = settings.device
    try:
        if todo and (run["executor"] == "ray" or run["jobs"] > 1):
            prepare_shared(todo, settings.cache_dir, bar.write)
        if run["executor"] == "ray":
            from .ray_executor import run_with_ray
            device = run_with_ray(todo, settings, run["address"], record)
        elif run["jobs"] > 1:
            _run_pool(todo, settings, run["jobs"], record)
        else:
            for job in seed_batches(todo):
                for result in execute_cells([c.to_dict() for c in job], settings):
                    record(*result)
    except KeyboardInterrupt:
        bar.write(f"interrupted after {len(summary.done)} finished cells; run the same command to resume")
        _finish(bar, summary, started, output, cells, meta, device, run)
        raise
    _finish(bar, summary, started, output, cells, meta, device, run)
    _print_failures(summary, {c.fingerprint: c for c in todo}, output)
    return summary


def _finish(bar, summary: StudySummary, started: float, output: Path, cells: list[Cell],
            meta: dict | None, device: str, run: dict) -> None:
    bar.close()
    summary.seconds = time.time() - started
    _write_study_manifest(output, cells, summary, meta or {}, device, run)


def _worker_context():
    """A process context safe for torch and CUDA: forkserver (torch preloaded once) or spawn."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["mmstudy.study.runner", "torch._dynamo"])
        return ctx
    return multiprocessing.get_context("spawn")


_POOL_HINT = (" (workers start by importing the main module: a script that calls run_study with "
              "jobs > 1 must call it under `if __name__ == '__main__':`)")


def _exit_with_the_study() -> None:
    """Pool-worker initializer: exit as soon as the study process is gone (e.g. SIGKILL), rather
    than finishing queued cells and then waiting forever for more."""
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=lambda: (parent.join(), os._exit(1)), daemon=True).start()


def _run_pool(todo: list[Cell], settings: WorkerSettings, jobs: int, record: Recorder) -> None:
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=_worker_context(), initializer=_exit_with_the_study)
    try:
        futures = {pool.submit(execute_cells, [c.to_dict() for c in job], settings): job
                   for job in seed_batches(todo)}
        ran = False
        for fut in as_completed(futures):
            try:
                results = fut.result()
                ran = True
            except Exception as exc:  # the worker process died (killed for memory, or never started)
                hint = "" if ran else _POOL_HINT
                results = [(c.fingerprint, f"{type(exc).__name__}: worker process failed: {exc}{hint}")
                           for c in futures[fut]]
            for result in results:
                record(*result)
    finally:  # on Ctrl-C, drop the queued cells instead of waiting for them
        pool.shutdown(wait=True, cancel_futures=True)


def _label(cell: Cell) -> str:
    return ", ".join(f"{k}={v}" for k, v in cell.labels.items() if k != "pairs_with") or cell.model


def failure_line(summary: StudySummary, fp: str, output: Path) -> str:
    """A failed cell's one-line error, saying where the traceback of a bug is kept."""
    error = summary.failed[fp].splitlines()[0]
    if fp in summary.tracebacks:
        error += f" (an unexpected error: its traceback is in {output / 'study.json'}, summary.tracebacks)"
    return error


def _recorder(summary: StudySummary, bar, cells: dict[str, Cell], output: Path) -> Recorder:
    def record(fp: str, error: str | None, seconds: float | None = None, trace: str | None = None) -> None:
        took = f"  ({seconds:.1f} s)" if seconds is not None else ""
        if seconds is not None:
            summary.cell_seconds[fp] = seconds
        if error is None:
            summary.done.append(fp)
            bar.write(f"done    {fp[:10]}  {_label(cells[fp])}{took}")
        else:
            summary.failed[fp] = error
            if trace:
                summary.tracebacks[fp] = trace
            bar.write(f"FAILED  {fp[:10]}  {_label(cells[fp])}{took}: {failure_line(summary, fp, output)}")
        bar.update(1)
    return record


def _print_failures(summary: StudySummary, cells: dict[str, Cell], output: Path) -> None:
    if summary.failed:
        tqdm.write(f"{len(summary.failed)} failed cell(s):")
        for fp in summary.failed:
            tqdm.write(f"  {fp[:10]}  {_label(cells[fp])}: {failure_line(summary, fp, output)}")


def _write_study_manifest(output: Path, cells: list[Cell], summary: StudySummary, meta: dict,
                          device: str, run: dict) -> None:
    fps = [c.fingerprint for c in cells]
    write_json(output / "study.json", {
        **meta, "cells": [{"fingerprint": c.fingerprint, "labels": dict(c.labels)} for c in cells],
        "chain": chain_fingerprints(fps), "device": device,
        "run": {**run, "seconds": summary.seconds},
        "summary": {"done": len(summary.done), "skipped": len(summary.skipped),
                    "failed": {fp: err.splitlines()[0] for fp, err in summary.failed.items()},
                    **({"tracebacks": summary.tracebacks} if summary.tracebacks else {})},
    })
