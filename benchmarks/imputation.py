"""Time the co-interaction graph build and every graph imputer at study scale.

A random power-law training matrix (default 500,000 interactions, 20,000 items, 50,000 users),
its top-100 co-interaction graph, 768-d float32 features with 50% of items masked, and each graph
imputer at 20 hops. Targets: graph < 10 s, each imputer < 5 s (on 2 CPU cores).
Usage: python -m benchmarks.imputation [--threads 2] [--repeats 3] [--out PATH]
"""
from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np
import scipy
import scipy.sparse as sp
import torch

from mmstudy.data.modality import Modality
from mmstudy.hashing import write_json
from mmstudy.missing import IMPUTERS, apply_mask, co_interaction_graph, feature_homophily, get_imputer, make_mask

TARGETS_S = {"graph": 10.0, "imputer": 5.0}


def power_law_train(n_users: int, n_items: int, n_interactions: int, seed: int = 0,
                    item_exponent: float = 0.8, user_exponent: float = 0.6) -> sp.csr_matrix:
    """Exactly `n_interactions` distinct (user, item) pairs with Zipf-like popularity and activity."""
    rng = np.random.default_rng(seed)
    item_p, user_p = (1.0 / np.arange(1, n + 1) ** e for n, e in ((n_items, item_exponent), (n_users, user_exponent)))
    pairs = np.zeros(0, dtype=np.int64)
    while len(pairs) < n_interactions:
        draw = 2 * (n_interactions - len(pairs))
        new = rng.choice(n_users, draw, p=user_p / user_p.sum()) * n_items + rng.choice(n_items, draw, p=item_p / item_p.sum())
        merged = np.concatenate([pairs, new])
        _, first = np.unique(merged, return_index=True)
        pairs = merged[np.sort(first)][:n_interactions]
    return sp.csr_matrix((np.ones(len(pairs), np.float32), (pairs // n_items, pairs % n_items)),
                         shape=(n_users, n_items))


def best_of(fn, repeats: int) -> tuple[float, float, object]:
    """(min seconds, median seconds, last result) over `repeats` calls."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), float(np.median(times)), result


def run(args: argparse.Namespace) -> dict:
    train = power_law_train(args.users, args.items, args.interactions, seed=args.seed)
    graph_min, graph_median, graph = best_of(lambda: co_interaction_graph(train, k=args.k), args.repeats)
    rng = np.random.default_rng(args.seed)
    features = rng.standard_normal((args.items, args.dim), dtype=np.float32)
    full = Modality("text", "text", features, np.ones(args.items, bool))
    mask = make_mask(args.items, ["text"], args.rate, seed=args.seed)
    masked = apply_mask({"text": full}, mask)["text"]
    rows = [{"step": f"graph top-{args.k}", "min_s": graph_min, "median_s": graph_median,
             "target_s": TARGETS_S["graph"], **graph.summary()}]
    for name in (n for n in IMPUTERS.names() if IMPUTERS.get(n).needs_graph):
        params = {"hops": args.hops} if "hops" in IMPUTERS.get(name).__dataclass_fields__ else {}
        imputer = get_imputer(name, **params)
        low, median, out = best_of(lambda: imputer.impute(masked, graph), args.repeats)
        label = f"{name} hops={args.hops}" if params else name
        rows.append({"step": label, "min_s": low, "median_s": median,
                     "target_s": TARGETS_S["imputer"], "fallback_items": out.info["fallback_items"]})
    low, median, value = best_of(lambda: feature_homophily(full, graph), args.repeats)
    rows.append({"step": "homophily", "min_s": low, "median_s": median, "target_s": None, "value": value})
    return {"config": vars(args), "rows": rows, "environment": environment(),
            "train": {"users": args.users, "items": args.items, "interactions": int(train.nnz)}}


def environment() -> dict:
    return {"python": platform.python_version(), "numpy": np.__version__, "scipy": scipy.__version__,
            "torch": torch.__version__, "torch_threads": torch.get_num_threads(), "cpu_count": os.cpu_count(),
            "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
            "load_average": list(os.getloadavg()), "machine": platform.machine()}


def print_table(result: dict) -> None:
    print(f"{'step':<28}{'min s':>9}{'median s':>10}{'target s':>10}  ok")
    for row in result["rows"]:
        target = row["target_s"]
        ok = "" if target is None else ("yes" if row["min_s"] < target else "NO")
        print(f"{row['step']:<28}{row['min_s']:>9.3f}{row['median_s']:>10.3f}{target or '':>10}  {ok}")
    env = result["environment"]
    print(f"torch threads {env['torch_threads']}, cpus {env['cpu_count']}, load {env['load_average']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=50_000)
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--interactions", type=int, default=500_000)
    parser.add_argument("--dim", type=int, default=768)
    parser.add_argument("--k", type=int, default=100)
    parser.add_argument("--hops", type=int, default=20)
    parser.add_argument("--rate", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "imputation.json")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    result = run(args)
    print_table(result)
    write_json(args.out, result)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
