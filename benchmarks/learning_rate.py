"""Learning rate per model, chosen on validation only: the pilot behind a study's `train_by_model`.

For each model a study trains (its models and the CF counterparts it brings), every candidate
learning rate is trained on the study's data with its handling of the data's own gaps, nothing
masked, under the study's own training budget (`train`: epochs, patience, batch size), for each
pilot seed. Reported per (model, learning rate): the mean and spread of the best validation score
over the seeds, the mean best epoch and epochs run, and the mean seconds per training.

Chosen per model by the one-standard-error rule (Hastie, Tibshirani & Friedman, The Elements of
Statistical Learning, 7.10): among the learning rates whose mean validation score is within one
standard error of the best mean, the one that trains in the fewest epochs. The standard error is
the model's seed spread pooled over its learning rates, divided by the square root of the number
of seeds (one seed: no spread, so the best mean is chosen). Only validation scores are read; the
test split plays no part. Printed at the end: the `train_by_model` block that sets the chosen
rates which differ from the study's `train.lr`.

Usage: python -m benchmarks.learning_rate --study studies/missing-paper.yaml [--kind missing]
       [--lrs 0.001 0.002 0.005 0.01] [--seeds 0 1] [--jobs 2] [--from-json earlier.json]
       (writes benchmarks/results/learning_rate-<study>.json)
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

from benchmarks.common import print_table, save


def pilot_cells(spec, models: list[str], lrs: list[float], seeds: list[int]) -> list:
    """One complete-data cell per (model, learning rate, seed), the study's settings otherwise."""
    from mmstudy.study.cell import Cell

    cells = []
    for model in models:
        settings = spec.model_settings(model)
        for lr in lrs:
            for seed in seeds:
                cells.append(Cell(data=spec.data, model=model, params=settings["params"], grid=settings["grid"],
                                  train={**settings["train"], "lr": lr}, seed=seed, cutoffs=spec.cutoffs,
                                  missing=spec.natural_gaps, labels={"model": model, "lr": lr, "seed": seed}))
    return cells


def train_pilot(cells: list, jobs: int) -> list[dict]:
    """Each cell's labels with its best validation score, best epoch, epochs run and seconds."""
    from mmstudy.study.runner import run_study
    from mmstudy.study.store import ResultStore

    with tempfile.TemporaryDirectory(prefix="mmstudy-bench-lr-") as tmp:
        run_study(cells, tmp, jobs=jobs, threads=1, energy=None, progress=False)
        store = ResultStore(tmp)
        manifests = [store.manifest(cell.fingerprint) for cell in cells]
    return [{**cell.labels, "best_valid": m.selection.best_valid, "best_epoch": m.selection.best_epoch,
             "epochs_run": m.timing.epochs_run, "seconds": m.timing.total_seconds} for cell, m in zip(cells, manifests)]


def summarise(records: list[dict]) -> list[dict]:
    """One row per (model, lr) over its seeds; `chosen` marks each model's best mean validation score."""
    groups: dict[tuple, list[dict]] = {}
    for r in records:
        groups.setdefault((r["model"], r["lr"]), []).append(r)
    rows = []
    for (model, lr), runs in groups.items():
        valid = [r["best_valid"] for r in runs]
        rows.append({"model": model, "lr": lr, "seeds": len(runs), "valid_mean": statistics.fmean(valid),
                     "valid_sd": statistics.stdev(valid) if len(valid) > 1 else float("nan"),
                     "best_epoch": statistics.fmean(r["best_epoch"] for r in runs),
                     "epochs_run": statistics.fmean(r["epochs_run"] for r in runs),
                     "s_per_training": statistics.fmean(r["seconds"] for r in runs), "best": False,
                     "chosen": False})
    for model in dict.fromkeys(r["model"] for r in rows):
        choose(model, [r for r in rows if r["model"] == model])
    return rows


def choose(model: str, rows: list[dict]) -> None:
    """Mark `best` (the best mean validation score) and `chosen` (one-standard-error rule) among one
    model's rows; each row gets the model's `tolerance` (one pooled standard error)."""
    best = max(rows, key=lambda r: r["valid_mean"])
    spreads = [r["valid_sd"] ** 2 for r in rows if r["seeds"] > 1]
    tolerance = (statistics.fmean(spreads) / best["seeds"]) ** 0.5 if spreads else 0.0
    near = [r for r in rows if r["valid_mean"] >= best["valid_mean"] - tolerance]
    chosen = min(near, key=lambda r: (r["epochs_run"], -r["valid_mean"]))
    best["best"], chosen["chosen"] = True, True
    for r in rows:
        r["tolerance"] = tolerance


def train_by_model_block(rows: list[dict], default_lr: float) -> str:
    """The study-file lines that set each model's chosen learning rate where it is not `default_lr`."""
    lines = [f"  {r['model']}: {{lr: {r['lr']:g}}}" for r in rows if r["chosen"] and r["lr"] != default_lr]
    return "train_by_model:\n" + "\n".join(lines) if lines else "train_by_model: {}   # every model keeps train.lr"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", default="studies/missing-paper.yaml")
    parser.add_argument("--kind", default="missing")
    parser.add_argument("--lrs", type=float, nargs="+", default=[0.001, 0.002, 0.005, 0.01])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--models", nargs="+", help="only these (default: every model the study trains)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--from-json", help="summarise the runs of an earlier result file instead of training")
    args = parser.parse_args(argv)
    from mmstudy.models import MODELS
    from mmstudy.study.kinds import study_kind
    from mmstudy.study.spec import load_spec, trained_models

    spec = load_spec(args.study, study_kind(args.kind).name)
    if args.from_json:
        records = json.loads(Path(args.from_json).read_text())["runs"]
    else:
        models = [MODELS.canonical(m) for m in args.models] if args.models else trained_models(spec.models)
        records = train_pilot(pilot_cells(spec, models, args.lrs, args.seeds), args.jobs)
    rows = summarise(records)
    print_table(rows, ["model", "lr", "seeds", "valid_mean", "valid_sd", "tolerance", "best_epoch", "epochs_run",
                       "s_per_training", "best", "chosen"])
    default_lr = float(spec.train.get("lr", 1e-3))
    block = train_by_model_block(rows, default_lr)
    print(f"chosen on validation ({spec.train.get('valid_metric', 'Recall@20')}), for {args.study}:\n{block}")
    payload = {"study": args.study, "data": spec.data.name, "train": dict(spec.train), "lrs": args.lrs,
               "seeds": args.seeds, "rows": rows, "runs": records, "train_by_model": block, "jobs": args.jobs,
               "environment": {"cpus": os.cpu_count(), "load_average": list(os.getloadavg())}}
    print(f"wrote {save(f'learning_rate-{Path(args.study).stem}', payload)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
