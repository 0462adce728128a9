"""Calibration of the claim rule on trained models: A/A false-positive rates and the positive control.

Each model is trained with `--seeds N` seeds on the quick default's synthetic data and training
settings (studies/missing-quick.yaml: 600 users, 500 items, 15,000 interactions; 30 epochs,
patience 5, lr 0.01; Recall@20). A/A pairs split those seeds into two disjoint groups of
`--per-side` seeds each (one configuration against itself retrained): the share of pairs with
p < 0.05 is each test's false-positive rate, for the claim rule (two-level test over users and
seeds), the user-level test alone and the seed-level test. The positive control pairs VBPR with
BPR-MF on the same seeds (the multimodal effect planted in the synthetic data): the share
detected is the rule's power there. One torch thread per training.
Usage: python -m benchmarks.calibration [--models VBPR LightGCN-M BPR-MF] [--seeds 24] [--per-side 3]
(writes benchmarks/results/calibration.json)
"""
from __future__ import annotations

import argparse
import sys
import time

import pandas as pd

from benchmarks.common import print_table, save

QUICK = {"n_users": 600, "n_items": 500, "n_interactions": 15000}
TRAIN = {"epochs": 30, "patience": 5, "lr": 0.01}
METRIC = "Recall@20"


def train_seeds(model: str, seeds: range, data: dict = QUICK, train: dict = TRAIN) -> dict[int, pd.Series]:
    """{seed: per-user test metric} of `model` trained once per seed (one process, shared data)."""
    import torch

    from mmstudy.study.cell import Cell, DataConfig
    from mmstudy.study.executor import run_cell
    from mmstudy.study.workspace import Workspace

    torch.set_num_threads(1)
    ws, config = Workspace(), DataConfig(name="synthetic", options=data)
    return {s: run_cell(Cell(data=config, model=model, train=train, seed=s), ws).per_user[METRIC] for s in seeds}


def positive_control(mm: dict[int, pd.Series], cf: dict[int, pd.Series], per_side: int, n_pairs: int) -> float:
    """Share of seed groups in which the claim rule finds the multimodal model better than CF."""
    from mmstudy.stats.calibration import aa_splits
    from mmstudy.stats.claims import claim_family

    users = sorted(set.intersection(*(set(s.index) for s in (*mm.values(), *cf.values()))))
    a, b = (pd.DataFrame({s: t[s].loc[users] for s in sorted(t)}) for t in (mm, cf))
    groups = [side for pair in aa_splits(list(a.columns), per_side, n_pairs) for side in pair][:n_pairs]
    pairs = {f"{i}": (a[g].set_axis(range(per_side), axis=1), b[g].set_axis(range(per_side), axis=1))
             for i, g in enumerate(groups)}
    table = claim_family(pairs, correction="none")
    return float(((table["pvalue"] < 0.05) & (table["mean_diff"] > 0)).mean())


def main(argv: list[str] | None = None) -> int:
    from mmstudy.stats.calibration import aa_calibration

    p = argparse.ArgumentParser(prog="python -m benchmarks.calibration", description=__doc__.splitlines()[0])
    p.add_argument("--models", nargs="+", default=["VBPR", "LightGCN-M", "BPR-MF"])
    p.add_argument("--seeds", type=int, default=24)
    p.add_argument("--per-side", type=int, nargs="+", default=[2, 3])
    p.add_argument("--pairs", type=int, default=40)
    args = p.parse_args(argv)
    rows, runs = [], {}
    for model in dict.fromkeys([*args.models, "BPR-MF"]):
        started = time.perf_counter()
        runs[model] = train_seeds(model, range(args.seeds))
        print(f"{model}: {args.seeds} trainings in {time.perf_counter() - started:.0f} s", flush=True)
    for model in args.models:
        for per_side in args.per_side:
            cal = aa_calibration(runs[model], per_side=per_side, n_pairs=args.pairs)
            rows.append({"model": model, "seeds_a_side": per_side, "aa_pairs": cal.n_pairs, **cal.rates,
                         "interval": f"[{cal.interval[0]:.3f}, {cal.interval[1]:.3f}]",
                         "calibrated": cal.calibrated(),
                         "detects_vbpr_over_bprmf": positive_control(runs["VBPR"], runs["BPR-MF"], per_side, args.pairs)
                         if model == "VBPR" and "VBPR" in runs else None})
    print_table(rows, list(rows[0]))
    path = save("calibration", {"data": QUICK, "train": TRAIN, "metric": METRIC, "seeds": args.seeds, "rows": rows})
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
