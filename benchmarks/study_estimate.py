"""How long a whole study takes, from a stratified random sample of its cells run to the end.

Strata are the study's models (a cell's cost is dominated by its model; the strategies, rates and
grids within a model are what the random sample spreads over). From each stratum `--per-model`
cells are drawn at random (seeded) and run in full, serially, one torch thread each, in a fresh
results folder; each gives its seconds per training (`plan.cell_trainings`: imputer grids decided by
reconstruction and serving phases share trainings). The study's compute is then

    T = sum over models of (its trainings) x (its mean seconds per training),

with a 95% interval from the within-model spread (t quantile, finite-population correction) added
in quadrature across models. Wall time with `--jobs J` worker processes is T / J times the
measured parallel efficiency (`--efficiency`, from `benchmarks.contention`: idle 1x1 vs 2x1).

Usage: python -m benchmarks.study_estimate --study studies/missing-paper.yaml [--per-model 4]
       [--jobs 2] [--efficiency 0.9]   (writes benchmarks/results/study_estimate-<study>.json)
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
from pathlib import Path

import numpy as np
from scipy import stats

from benchmarks.common import print_table, save


def sample_cells(cells: list, per_model: int, seed: int) -> dict[str, list]:
    """{model: up to `per_model` cells drawn at random among those that train}."""
    from mmstudy.study.plan import trials

    rng, out = random.Random(seed), {}
    for model in dict.fromkeys(c.model for c in cells):
        trained = [c for c in cells if c.model == model and trials(c)]
        out[model] = rng.sample(trained, min(per_model, len(trained)))
    return out


def estimate(cells: list, per_training: dict[str, list[float]], confidence: float = 0.95) -> list[dict]:
    """One row per model: trainings, mean seconds per training, the model's total and its interval."""
    from mmstudy.study.plan import cell_trainings

    counts: dict[str, int] = {}
    for cell, n in zip(cells, cell_trainings(cells)):
        counts[cell.model] = counts.get(cell.model, 0) + n
    rows = []
    for model, n_total in counts.items():
        x = np.asarray(per_training[model])
        mean, half = x.mean(), 0.0
        if len(x) > 1:
            fpc = np.sqrt(max(0.0, 1 - len(x) / max(n_total, len(x))))
            half = stats.t.ppf(0.5 + confidence / 2, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x)) * fpc
        rows.append({"model": model, "trainings": n_total, "sampled": len(x), "s_per_training": mean,
                     "total_h": n_total * mean / 3600, "half_width_h": n_total * half / 3600})
    return rows


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", default="studies/missing-paper.yaml")
    parser.add_argument("--kind", default="missing")
    parser.add_argument("--per-model", type=int, default=4)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--efficiency", type=float, default=1.0, help="parallel efficiency of --jobs workers")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    from mmstudy.study.kinds import study_kind
    from mmstudy.study.plan import trials
    from mmstudy.study.runner import run_study
    from mmstudy.study.spec import load_spec
    from mmstudy.study.store import ResultStore

    kind = study_kind(args.kind)
    cells = kind.expand(load_spec(args.study, kind.name))
    sample = sample_cells(cells, args.per_model, args.seed)
    per_training: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="mmstudy-bench-estimate-") as tmp:
        drawn = [c for chosen in sample.values() for c in chosen]
        run_study(drawn, tmp, threads=1, energy=None, progress=False)
        store = ResultStore(tmp)
        for cell in drawn:
            seconds = store.manifest(cell.fingerprint).timing.total_seconds
            per_training.setdefault(cell.model, []).append(seconds / trials(cell))
    rows = estimate(cells, per_training)
    total = sum(r["total_h"] for r in rows)
    half = float(np.sqrt(sum(r["half_width_h"] ** 2 for r in rows)))
    wall = total / (args.jobs * args.efficiency)
    print_table(rows, ["model", "trainings", "sampled", "s_per_training", "total_h", "half_width_h"])
    print(f"{len(cells)} cells; serial compute {total:.1f} h (95% interval {total - half:.1f}-{total + half:.1f} h); "
          f"with --jobs {args.jobs} at efficiency {args.efficiency:g}: {wall:.1f} h "
          f"({(total - half) / (args.jobs * args.efficiency):.1f}-{(total + half) / (args.jobs * args.efficiency):.1f} h)")
    payload = {"study": args.study, "cells": len(cells), "per_model": args.per_model, "rows": rows,
               "per_training_s": per_training, "serial_h": total, "half_width_h": half, "jobs": args.jobs,
               "efficiency": args.efficiency, "wall_h": wall,
               "environment": {"cpus": os.cpu_count(), "load_average": list(os.getloadavg())}}
    print(f"wrote {save(f'study_estimate-{Path(args.study).stem}', payload)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
