"""Imputer grids decided by retraining vs by reconstruction: same choice? same Recall@20? cost?

Takes the multimodal `train_and_test` cells of a missing-modality study file whose strategy has an
imputer grid, runs each twice into one results folder (resumable: finished cells are reused) —
`select: retrain` (one training per grid value, the best on validation) and `select:
reconstruction` (one training, the value that best reconstructs hidden observed training rows) —
and compares each pair: whether both chose the same setting, the test metric of each (paired per
user: mean difference and a paired t-test over the pairs' means), and the seconds each spent.

Usage: python -m benchmarks.imputer_selection [--study studies/missing-lastfm.yaml]
       [--output reports/imputer-selection] [--jobs 2]
(writes benchmarks/results/imputer_selection-<study>.json; MMSTUDY_DATA for real data)
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
from scipy import stats

from benchmarks.common import print_table, save

MODES = ("retrain", "reconstruction")


def paired_cells(study: str) -> list[tuple]:
    """(retrain cell, reconstruction cell) for every multimodal train_and_test cell with an imputer grid."""
    from mmstudy.study.kinds import study_kind
    from mmstudy.study.spec import load_spec

    kind = study_kind("missing")
    spec = load_spec(study, kind.name)
    cells = [c for c in kind.cells(spec, kind.parse_section(spec)) if c.labels.get("role") == "multimodal"
             and c.missing.grid and c.missing.phase == "train_and_test"]
    return [tuple(replace(c, missing=replace(c.missing, select=mode), labels={**c.labels, "select": mode})
                  for mode in MODES) for c in cells]


def compare(folder: Path, pairs: list[tuple], metric: str) -> list[dict]:
    """One row per pair: the choices, the test metric of each and the per-user paired difference."""
    from mmstudy.study.store import ResultStore

    store, rows = ResultStore(folder), []
    for retrain, recon in pairs:
        (a, ma), (b, mb) = store.load(retrain.fingerprint), store.load(recon.fingerprint)
        users = a.index.intersection(b.index)
        rows.append({"model": retrain.model, "strategy": retrain.missing.strategy, "rate": retrain.missing.rate,
                     "seed": retrain.seed, "retrain_choice": json.dumps(ma.selection.selected_imputer_params),
                     "reconstruction_choice": json.dumps(mb.selection.selected_imputer_params),
                     "same_choice": ma.selection.selected_imputer_params == mb.selection.selected_imputer_params,
                     f"retrain_{metric}": float(a[metric].mean()), f"reconstruction_{metric}": float(b[metric].mean()),
                     "diff": float((b.loc[users, metric] - a.loc[users, metric]).mean()),
                     "retrain_s": ma.timing.total_seconds, "reconstruction_s": mb.timing.total_seconds})
    return rows


def summarise(rows: list[dict]) -> list[dict]:
    """Per model and overall: agreement, mean difference (reconstruction - retrain) with a 95% CI
    and paired t-test over the pairs, and the time ratio."""
    out = []
    for model in sorted({r["model"] for r in rows}) + ["all"]:
        part = [r for r in rows if model in ("all", r["model"])]
        diffs = np.array([r["diff"] for r in part])
        ci = stats.t.interval(0.95, len(diffs) - 1, diffs.mean(), stats.sem(diffs)) if len(diffs) > 1 else (np.nan,) * 2
        out.append({"model": model, "pairs": len(part), "same_choice": np.mean([r["same_choice"] for r in part]),
                    "mean_diff": diffs.mean(), "ci_low": ci[0], "ci_high": ci[1],
                    "p": stats.ttest_1samp(diffs, 0).pvalue if len(diffs) > 1 else np.nan,
                    "time_ratio": sum(r["reconstruction_s"] for r in part) / sum(r["retrain_s"] for r in part)})
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", default="studies/missing-lastfm.yaml")
    parser.add_argument("--output", default="reports/imputer-selection")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--metric", default="Recall@20")
    args = parser.parse_args(argv)
    from mmstudy.study.runner import run_study

    pairs = paired_cells(args.study)
    summary = run_study([c for pair in pairs for c in pair], args.output, jobs=args.jobs, threads=1, energy=None)
    if summary.failed:
        print(f"{len(summary.failed)} cell(s) failed; see {args.output}/study.json", file=sys.stderr)
        return 1
    rows = compare(Path(args.output), pairs, args.metric)
    print_table(rows, ["model", "strategy", "rate", "seed", "retrain_choice", "reconstruction_choice", "diff",
                       "retrain_s", "reconstruction_s"])
    table = summarise(rows)
    print_table(table, ["model", "pairs", "same_choice", "mean_diff", "ci_low", "ci_high", "p", "time_ratio"])
    payload = {"study": args.study, "metric": args.metric, "pairs": rows, "summary": table,
               "environment": {"cpus": os.cpu_count(), "load_average": list(os.getloadavg())}}
    print(f"wrote {save(f'imputer_selection-{Path(args.study).stem}', payload)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
