"""Amazon-Elec-shaped scale test: one training epoch and one full evaluation pass on CPU.

A synthetic dataset of about 200,000 users, 63,000 items and 1.7 million interactions with two
modalities (384-d and 512-d). For each model: time to build the model (graphs), one epoch,
one full validation pass (user batches sized from a memory budget), and peak RSS — all within
24 GB RAM: no dense users x items or items x items matrix anywhere.

Usage: python -m benchmarks.scale [--models LightGCN FREEDOM] [--users 200000 ...]
"""
from __future__ import annotations

import argparse
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


def bench_one(name: str, users: int, items: int, interactions: int, threads: int) -> dict:
    import torch

    from mmstudy.data import make_split
    from mmstudy.evaluation import evaluate_metric
    from mmstudy.missing.handling import HandledData
    from mmstudy.models import MODELS, make_model
    from mmstudy.study.pipeline import model_input
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
    optimizer = make_optimizer(model, lr=1e-3)
    tick = time.perf_counter()
    loss = train_epoch(model, sampler, optimizer, 1, generator)
    epoch_seconds = time.perf_counter() - tick
    tick = time.perf_counter()
    recall = evaluate_metric(model, split, "Recall@20", "valid")
    return {"model": MODELS.canonical(name), "users": users, "items": items, "train_interactions": split.train.nnz,
            "data_s": data_seconds, "build_s": build_seconds, "epoch_s": epoch_seconds,
            "valid_pass_s": time.perf_counter() - tick, "loss": loss, "valid_recall20": recall,
            "peak_rss_mb": peak_rss_mb(), "threads": threads}


def main(argv: list[str] | None = None) -> dict:
    from .common import print_table, run_isolated, save, with_earlier_rows

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["LightGCN", "FREEDOM"])
    parser.add_argument("--users", type=int, default=SHAPE["users"])
    parser.add_argument("--items", type=int, default=SHAPE["items"])
    parser.add_argument("--interactions", type=int, default=SHAPE["interactions"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    shape = (str(args.users), str(args.items), str(args.interactions))
    if args.one:
        print(json.dumps(bench_one(args.one, args.users, args.items, args.interactions, args.threads)))
        return {}
    rows = []
    for name in args.models:
        row = run_isolated("benchmarks.scale", "--one", name, "--users", shape[0], "--items", shape[1],
                           "--interactions", shape[2], "--threads", str(args.threads), timeout=7200)
        rows.append({"model": name, **row})
        print(f"{name}: {row}", flush=True)
    shape = dict(zip(("users", "items", "interactions"), map(int, shape)))
    rows = with_earlier_rows("scale", rows, ("model",), {"shape": shape})
    print_table(rows, ["model", "build_s", "epoch_s", "valid_pass_s", "peak_rss_mb", "valid_recall20", "error"])
    payload = {"suite": "scale", "shape": shape, "rows": rows}
    print(f"written: {save('scale', payload)}")
    return payload


if __name__ == "__main__":
    main()
