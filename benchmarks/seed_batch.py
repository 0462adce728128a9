"""Seed batching: B seeds of one configuration trained together (`train.seed_batch`) vs separately.

On Last.fm-2K (fixed split, `MMSTUDY_DATA`), for each model with a seed-batched implementation:
the same B cells trained as one seed batch (`executor.run_cells`) and one after the other
(`executor.run_cell`), in this process at one torch thread, A/B interleaved over `--repeats`
rounds (the order alternating per round, so a change in the machine's load hits both alike), data
loaded and the first optimiser built before any timing. Reported per model: median wall and CPU
seconds of each mode, their ratio (the speed-up), the load average around each run, and each
seed's test Recall@20 in both modes (its mean and spread, and a Welch t-test between them).
Usage: python -m benchmarks.seed_batch [--models BPR-MF VBPR] [--seeds 8] [--epochs 20] [--repeats 3]
(writes benchmarks/results/seed_batch.json)
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

from benchmarks.common import print_table, save

MODELS = ("BPR-MF", "VBPR", "LightGCN", "LightGCN-M")
METRIC = "Recall@20"


def cells(model: str, seeds: int, epochs: int, batched: bool) -> list:
    """B cells of one configuration on Last.fm-2K, asking for seed batching or not; patience equal
    to the budget, so both modes run every epoch (the same work to time)."""
    from mmstudy.study.cell import Cell, DataConfig

    train = {"epochs": epochs, "patience": epochs, "lr": 1e-3, **({"seed_batch": True} if batched else {})}
    return [Cell(data=DataConfig(name="lastfm-2k"), model=model, train=train, seed=s, labels={"seed": s})
            for s in range(seeds)]


def timed(run) -> dict:
    """Wall and CPU seconds of `run()`, the 1-minute load average before and after, and each cell's
    test metric."""
    load = os.getloadavg()[0]
    wall, cpu = time.perf_counter(), time.process_time()
    outcomes = run()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"wall_s": wall, "cpu_s": cpu, "load": [load, os.getloadavg()[0]],
            "recall": [float(o.per_user[METRIC].mean()) for o in outcomes]}


def bench_model(model: str, seeds: int, epochs: int, repeats: int, workspace) -> dict:
    """Interleaved A/B rounds of one model; the medians, the ratio, and the per-seed metrics."""
    from mmstudy.study.executor import run_cell, run_cells

    modes = {"batched": lambda: run_cells(cells(model, seeds, epochs, True), workspace),
             "separate": lambda: [run_cell(c, workspace) for c in cells(model, seeds, epochs, False)]}
    run_cells(cells(model, 1, 1, True), workspace)  # warm-up: derived graphs, first steps
    run_cell(cells(model, 1, 1, False)[0], workspace)
    runs: dict[str, list[dict]] = {"batched": [], "separate": []}
    for round_ in range(repeats):
        for mode in (("batched", "separate") if round_ % 2 == 0 else ("separate", "batched")):
            runs[mode].append(timed(modes[mode]))
            print(f"  {model} round {round_ + 1} {mode}: {runs[mode][-1]['wall_s']:.1f} s wall, "
                  f"load {runs[mode][-1]['load'][0]:.2f}", flush=True)
    return summary_row(model, seeds, epochs, runs)


def summary_row(model: str, seeds: int, epochs: int, runs: dict[str, list[dict]]) -> dict:
    """Medians per mode, speed-up ratios (separate / batched) and the per-seed metrics."""
    from scipy import stats

    row = {"model": model, "seeds": seeds, "epochs": epochs, "repeats": len(runs["batched"])}
    for mode, rounds in runs.items():
        row[f"{mode}_wall_s"] = statistics.median(r["wall_s"] for r in rounds)
        row[f"{mode}_cpu_s"] = statistics.median(r["cpu_s"] for r in rounds)
        row[f"{mode}_load"] = statistics.median(x for r in rounds for x in r["load"])
        row[f"{mode}_recall"] = rounds[0]["recall"]  # every round trains the same seeds
        row[f"{mode}_recall_mean"] = statistics.fmean(rounds[0]["recall"])
        row[f"{mode}_recall_sd"] = statistics.stdev(rounds[0]["recall"]) if seeds > 1 else float("nan")
    row["speedup_wall"] = row["separate_wall_s"] / row["batched_wall_s"]
    row["speedup_cpu"] = row["separate_cpu_s"] / row["batched_cpu_s"]
    if seeds > 1:
        row["welch_p"] = float(stats.ttest_ind(row["batched_recall"], row["separate_recall"], equal_var=False).pvalue)
    return row


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    import torch

    from mmstudy.study.workspace import Workspace

    torch.set_num_threads(args.threads)
    workspace = Workspace()
    data = cells(args.models[0], 1, 1, False)[0].data
    workspace.split(workspace.dataset(data), data)  # loaded before any timing
    import torch._dynamo  # noqa: F401 -- the first optimiser's one-off import, paid by neither mode
    rows = [bench_model(m, args.seeds, args.epochs, args.repeats, workspace) for m in args.models]
    print_table(rows, ["model", "seeds", "epochs", "batched_wall_s", "separate_wall_s", "speedup_wall",
                       "speedup_cpu", "batched_load", "batched_recall_mean", "separate_recall_mean",
                       "batched_recall_sd", "separate_recall_sd", "welch_p"])
    for row in rows:
        print(f"{row['model']} per-seed {METRIC}: batched {[round(r, 4) for r in row['batched_recall']]}; "
              f"separate {[round(r, 4) for r in row['separate_recall']]}")
    payload = {"dataset": "lastfm-2k", "threads": args.threads, "rows": rows,
               "environment": {"cpus": os.cpu_count(), "load_average_end": list(os.getloadavg())}}
    print(f"wrote {save('seed_batch', payload)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
