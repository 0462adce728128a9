"""Amazon-Elec-shaped scale test: one training epoch and one full evaluation pass on CPU.

A synthetic dataset of about 200,000 users, 63,000 items and 1.7 million interactions with two
modalities (384-d and 512-d). For each model: time to build the model (graphs), one epoch,
one full validation pass (user batches sized from a memory budget), and peak RSS — all within
24 GB RAM: no dense users x items or items x items matrix anywhere.

Usage: python -m benchmarks.scale [--models LightGCN FREEDOM | all] [--users 200000 ...] [--max-batches N]
"""
from __future__ import annotations

import argparse
import itertools
import json
import time

import numpy as np

SHAPE = {"users": 200_000, "items": 63_000, "interactions": 1_700_000}


def scale_dataset(users: int, items: int, interactions: int, seed: int = 0):
    """A power-law interaction matrix with random 384-d and 512-d item features."""
    from mmstudy.data import Dataset, Modality

    from .imputation import power_law_train

    inter = power_law_train(users, items, interactions, seed=seed)
    rng = np.random.default_rng(seed)
    mods = {name: Modality(name, kind, rng.standard_normal((items, dim), dtype=np.float32), np.ones(items, bool))
            for name, kind, dim in (("text", "text", 384), ("image", "image", 512))}
    return Dataset("amazon-elec-shape", np.arange(users), np.arange(items), inter, mods)


class FirstBatches:
    """The first `n` batches of a sampler's epoch: a partial epoch, for models whose full epoch
    takes too long on the machine at hand (the report marks the epoch time as extrapolated)."""

    def __init__(self, sampler, n: int):
        self.sampler, self.n = sampler, n

    def __len__(self) -> int:
        return self.n

    def __iter__(self):
        return itertools.islice(iter(self.sampler), self.n)


def bench_one(name: str, users: int, items: int, interactions: int, threads: int,
              max_batches: int | None = None) -> dict:
    import torch

    from mmstudy.data import make_split
    from mmstudy.evaluation import evaluate_metric
    from mmstudy.missing.handling import HandledData
    from mmstudy.models import MODELS, make_model
    from mmstudy.study.workspace import model_input
    from mmstudy.training import make_optimizer, train_epoch
    from mmstudy.training.sampling import NegativeSampler

    from .common import peak_rss_mb

    torch.set_num_threads(threads)
    tick = time.perf_counter()
    dataset = scale_dataset(users, items, interactions)
    split = make_split(dataset, method="random", seed=0)
    data_seconds = time.perf_counter() - tick
    tick = time.perf_counter()
    data = model_input(HandledData(dataset.modalities, split), seed=0, device="cpu", cache=None)
    model = make_model(name, data)
    build_seconds = time.perf_counter() - tick
    generator = torch.Generator().manual_seed(0)
    sampler = NegativeSampler(split.train, generator, 2048)
    batches = len(sampler) if max_batches is None else min(max_batches, len(sampler))
    optimizer = make_optimizer(model, lr=1e-3)
    tick = time.perf_counter()
    loss = train_epoch(model, FirstBatches(sampler, batches), optimizer, 1, generator)
    train_seconds = time.perf_counter() - tick
    tick = time.perf_counter()
    recall = evaluate_metric(model, split, "Recall@20", "valid")
    return {"model": MODELS.canonical(name), "users": users, "items": items, "train_interactions": split.train.nnz,
            "data_s": data_seconds, "build_s": build_seconds, "batches": batches,
            "batches_per_epoch": len(sampler), "epoch_complete": batches == len(sampler),
            "epoch_s": train_seconds * len(sampler) / batches,  # measured, or extrapolated when partial
            "valid_pass_s": time.perf_counter() - tick, "loss": loss, "valid_recall20": recall,
            "peak_rss_mb": peak_rss_mb(), "threads": threads}


def main(argv: list[str] | None = None) -> dict:
    from mmstudy.models import MODELS

    from .common import print_table, run_isolated, save, with_earlier_rows

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["LightGCN", "FREEDOM"],
                        help="model names, or 'all' (every registered model)")
    parser.add_argument("--users", type=int, default=SHAPE["users"])
    parser.add_argument("--items", type=int, default=SHAPE["items"])
    parser.add_argument("--interactions", type=int, default=SHAPE["interactions"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--max-batches", type=int, help="time only the first N batches of the epoch and "
                        "extrapolate (marked epoch_complete=false)")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    shape = (str(args.users), str(args.items), str(args.interactions))
    if args.one:
        print(json.dumps(bench_one(args.one, args.users, args.items, args.interactions, args.threads,
                                   args.max_batches)))
        return {}
    limit = [] if args.max_batches is None else ["--max-batches", str(args.max_batches)]
    rows = []
    for name in MODELS.names() if args.models == ["all"] else args.models:
        row = run_isolated("benchmarks.scale", "--one", name, "--users", shape[0], "--items", shape[1],
                           "--interactions", shape[2], "--threads", str(args.threads), *limit, timeout=6 * 3600)
        rows.append({"model": name, **row})
        print(f"{name}: {row}", flush=True)
    shape = dict(zip(("users", "items", "interactions"), map(int, shape)))
    rows = with_earlier_rows("scale", rows, ("model",), {"shape": shape})
    print_table(rows, ["model", "threads", "build_s", "epoch_s", "epoch_complete", "valid_pass_s", "peak_rss_mb",
                       "valid_recall20", "error"])
    payload = {"suite": "scale", "shape": shape, "rows": rows}
    print(f"written: {save('scale', payload)}")
    return payload


if __name__ == "__main__":
    main()
