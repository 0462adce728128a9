"""The study runner's executors on the same small study: serial, `--jobs 2`, and Ray.

Eight small synthetic cells (VBPR with mean imputation, BPR-MF, LightGCN); each executor runs in
a fresh process, as a study command would. Reported: wall time of run_study, summed per-cell
compute, and the per-cell overhead against the serial compute, (wall - serial compute) / cells,
for Ray both cold (instance start + worker start-up included) and warm (a second run on the same
instance). Per-user metrics must be identical across executors. Target: warm Ray overhead < 0.5 s.
Usage: python -m benchmarks.runner  (writes benchmarks/results/runner.json)
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import print_table, run_isolated, save

MODES = ("serial", "jobs2", "ray")
TARGET_RAY_OVERHEAD_S = 0.5


def study_cells() -> list:
    from mmstudy.study.cell import Cell, DataConfig, MissingConfig

    data = DataConfig(name="synthetic", options={"n_users": 400, "n_items": 300, "n_interactions": 8000})
    mean = MissingConfig(setting="same", rate=0.5, strategy="mean")
    plan = [("VBPR", s, mean) for s in range(4)] + [(m, s, MissingConfig()) for m in ("BPR-MF", "LightGCN")
                                                    for s in range(2)]
    return [Cell(data=data, model=m, missing=miss, seed=s, train={"epochs": 5, "batch_size": 1024},
                 cutoffs=(10, 20), labels={"model": m, "seed": s}) for m, s, miss in plan]


def timed_run(cells: list, folder: Path, **kwargs) -> dict:
    from mmstudy.study.runner import run_study

    start = time.perf_counter()
    summary = run_study(cells, folder, progress=False, **kwargs)
    return {"wall_s": time.perf_counter() - start, "compute_s": sum(summary.cell_seconds.values()),
            "failed": len(summary.failed)}


def one(mode: str, folder: Path) -> dict:
    """Run the study with one executor in this (fresh) process."""
    import torch._dynamo  # noqa: F401 -- one-off import of the first optimizer, paid by every executor
    from mmstudy.study.runner import cpu_cores

    cells = study_cells()
    if mode == "serial":
        return timed_run(cells, folder / "serial", threads=1)
    if mode == "jobs2":
        return timed_run(cells, folder / "jobs2", jobs=2)
    import ray

    start = time.perf_counter()
    ray.init(num_cpus=cpu_cores(), include_dashboard=False, log_to_driver=False)
    init_s = time.perf_counter() - start
    cold = timed_run(cells, folder / "ray", executor="ray")
    warm = timed_run(cells, folder / "ray-warm", executor="ray")
    ray.shutdown()
    return {**cold, "wall_s": init_s + cold["wall_s"], "init_s": init_s, "warm_wall_s": warm["wall_s"],
            "failed": cold["failed"] + warm["failed"]}


def identical(folder: Path, modes: list[str]) -> bool:
    """Whether every executor stored exactly the serial run's per-user metrics."""
    from mmstudy.study.store import ResultStore

    base = ResultStore(folder / "serial")
    for mode in modes:
        other = ResultStore(folder / mode)
        for fp in base.fingerprints():
            if not base.load(fp)[0].equals(other.load(fp)[0]):
                return False
    return True


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--one", nargs=2, metavar=("MODE", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(one(args.one[0], Path(args.one[1]))))
        return 0
    n_cells = len(study_cells())
    with tempfile.TemporaryDirectory(prefix="mmstudy-bench-runner-") as tmp:
        rows = [{"executor": mode, **run_isolated("benchmarks.runner", "--one", mode, tmp, timeout=900)}
                for mode in MODES]
        same = identical(Path(tmp), ["jobs2", "ray", "ray-warm"]) if not any("error" in r for r in rows) else False
    serial = rows[0].get("compute_s", float("nan"))
    for row in rows:
        row["overhead_per_cell_s"] = (row.get("wall_s", float("nan")) - serial) / n_cells
        if "warm_wall_s" in row:
            row["warm_overhead_per_cell_s"] = (row["warm_wall_s"] - serial) / n_cells
    print_table(rows, ["executor", "wall_s", "compute_s", "overhead_per_cell_s", "init_s", "warm_wall_s",
                       "warm_overhead_per_cell_s", "failed", "error"])
    warm = rows[-1].get("warm_overhead_per_cell_s", float("nan"))
    print(f"identical per-user metrics across executors: {same}; warm Ray overhead per cell "
          f"{warm:.3f} s (target < {TARGET_RAY_OVERHEAD_S} s)")
    payload = {"cells": n_cells, "rows": rows, "identical": same, "target_ray_overhead_s": TARGET_RAY_OVERHEAD_S,
               "environment": {"cpus": os.cpu_count(), "load_average": list(os.getloadavg())}}
    print(f"wrote {save('runner', payload)}")
    return 0 if same and not any(r.get("failed") or "error" in r for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
