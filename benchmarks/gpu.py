"""GPU check: FREEDOM on Last.fm-2K trained on CUDA and on CPU (same seed), and a small study
run with --device cuda and --device cpu. Needs a CUDA device and MMSTUDY_DATA.

Usage: python -m benchmarks.gpu [--epochs 200] [--study-output DIR]
"""
from __future__ import annotations

import argparse
import json
import time


def freedom(device: str, epochs: int) -> dict:
    from mmstudy.study.cell import Cell
    from mmstudy.study.executor import run_cell
    from mmstudy.study.workspace import Workspace

    cell = Cell.from_dict({"data": {"name": "lastfm-2k"}, "model": "FREEDOM", "seed": 999,
                           "params": {"knn_k": 10, "dropout": 0.8, "mm_image_weight": 0.1, "image_modality": "audio"},
                           "train": {"epochs": epochs, "patience": 20, "lr": 1e-3, "batch_size": 2048}})
    started = time.perf_counter()
    out = run_cell(cell, Workspace(), device=device)
    m = out.manifest
    return {"device": device, "wall_s": time.perf_counter() - started, "best_epoch": m["selection"]["best_epoch"],
            "s_epoch": m["timing"]["mean_epoch_seconds"], "s_valid": m["timing"]["mean_valid_seconds"],
            "recall20": m["test"]["mean"]["Recall@20"], "ndcg20": m["test"]["mean"]["nDCG@20"],
            "gpu": m["environment"]["hardware"].get("gpu")}


def small_study(device: str, output: str) -> dict:
    from mmstudy.studies.missing import main

    started = time.perf_counter()
    code = main(["--output", output, "--models", "VBPR", "--seeds", "0", "1", "--rates", "0.5",
                 "--strategies", "zeros", "propagation", "--device", device, "--quiet"])
    return {"device": device, "exit": code, "wall_s": time.perf_counter() - started}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--study-output", default="/tmp/mmstudy-gpu")
    args = parser.parse_args(argv)
    rows = [freedom("cuda", args.epochs), freedom("cpu", args.epochs)]
    rows += [small_study(d, f"{args.study_output}-{d}") for d in ("cuda", "cpu")]
    for row in rows:
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
