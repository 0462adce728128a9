"""Study wall time under the execution settings, idle and with a competing process.

Runs the same cells of a study file (the first `--cells` of its design in a stratified order:
every model and strategy represented) once per (setting, condition) in a fresh process, as a study
command would, and reports the wall time. Settings:
- `active-1x2`: OpenMP's default busy-waiting (OMP_WAIT_POLICY=ACTIVE), one process, 2 threads:
  the defaults before the wait policy was set;
- `passive-1x2`: OMP_WAIT_POLICY=PASSIVE (mmstudy's default), one process, 2 threads;
- `passive-1x1`: one process, one thread;
- `passive-2x1`: two worker processes with one thread each (`--jobs 2`).
Conditions: `idle`, and `busy`: another process keeps one core busy with single-threaded matrix
products for the whole run (as a second study, a notebook or a compile would). The competing
process's own throughput is not measured.

Usage: python -m benchmarks.contention [--study studies/missing-quick.yaml] [--cells 24]
(writes benchmarks/results/contention-<study>.json; MMSTUDY_DATA for real-data study files)
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import print_table, save

SETTINGS = {"active-1x2": ("ACTIVE", 1, 2), "passive-1x2": ("PASSIVE", 1, 2), "passive-1x1": ("PASSIVE", 1, 1),
            "passive-2x1": ("PASSIVE", 2, 1)}
COMPETITOR = ("import numpy as np, os\nos.environ['OMP_NUM_THREADS'] = '1'\n"
              "a = np.random.rand(400, 400)\nwhile True:\n    a = np.tanh(a @ a / 400)\n")


def stratified(cells: list, n: int) -> list:
    """Up to `n` cells taking turns across (model, strategy) groups, so every group is represented."""
    groups: dict = {}
    for cell in cells:
        groups.setdefault((cell.model, cell.labels.get("strategy")), []).append(cell)
    out, queues = [], list(groups.values())
    while len(out) < n and any(queues):
        for queue in queues:
            if queue and len(out) < n:
                out.append(queue.pop(0))
    return out


def study_cells(study: str, n: int) -> list:
    from mmstudy.study.kinds import study_kind
    from mmstudy.study.spec import load_spec

    kind = study_kind("missing")
    spec = load_spec(study, kind.name)
    return stratified(kind.expand(spec), n)


def one(study: str, n: int, jobs: int, threads: int, folder: str) -> dict:
    """Run the cells in this (fresh) process; OMP_WAIT_POLICY was set by the parent before torch."""
    from mmstudy.study.runner import run_study

    cells = study_cells(study, n)
    start = time.perf_counter()
    summary = run_study(cells, folder, jobs=jobs, threads=threads, progress=False, energy=None)
    return {"wall_s": time.perf_counter() - start, "cells": len(cells), "failed": len(summary.failed)}


def measure(study: str, n: int, setting: str, busy: bool) -> dict:
    policy, jobs, threads = SETTINGS[setting]
    env = {**os.environ, "OMP_WAIT_POLICY": policy}
    competitor = subprocess.Popen([sys.executable, "-c", COMPETITOR]) if busy else None
    try:
        with tempfile.TemporaryDirectory(prefix="mmstudy-bench-contention-") as tmp:
            out = subprocess.run([sys.executable, "-m", "benchmarks.contention", "--one", study, str(n), str(jobs),
                                  str(threads), tmp], capture_output=True, text=True, env=env, timeout=7200)
        if out.returncode:
            return {"error": out.stderr.strip().splitlines()[-1] if out.stderr.strip() else f"exit {out.returncode}"}
        return json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        if competitor is not None:
            competitor.kill()
            competitor.wait()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", default="studies/missing-quick.yaml")
    parser.add_argument("--cells", type=int, default=24)
    parser.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=list(SETTINGS))
    parser.add_argument("--one", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        study, n, jobs, threads, folder = args.one
        print(json.dumps(one(study, int(n), int(jobs), int(threads), folder)))
        return 0
    load = list(os.getloadavg())
    rows = []
    for setting in args.settings:
        row = {"setting": setting}
        for condition in ("idle", "busy"):
            result = measure(args.study, args.cells, setting, condition == "busy")
            row[f"{condition}_s"] = result.get("wall_s", float("nan"))
            row["cells"], row["failed"] = result.get("cells"), result.get("failed", result.get("error"))
        row["busy_over_idle"] = row["busy_s"] / row["idle_s"]
        rows.append(row)
        print(json.dumps(row), flush=True)
    best = min(r["idle_s"] for r in rows)
    for row in rows:
        row["idle_vs_best"] = row["idle_s"] / best
    print_table(rows, ["setting", "cells", "idle_s", "busy_s", "busy_over_idle", "idle_vs_best", "failed"])
    name = Path(args.study).stem
    payload = {"study": args.study, "cells": args.cells, "rows": rows,
               "environment": {"cpus": os.cpu_count(), "load_average_before": load,
                               "load_average_after": list(os.getloadavg())}}
    print(f"wrote {save(f'contention-{name}', payload)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
