"""Imputation quality of every strategy against the truth, and the learned imputers' fit times.

Quality: the embedded synthetic data (800 items; image and text derived from shared latent
factors, so correlated), each masking setting at rate 0.5, every registered imputer with its
defaults: the cosine and pooled RSE of the synthetically masked rows (`mmstudy.missing.quality`).
Timing: the learned imputers on Last.fm-2K (1,425 items, 384 + 512 dims, independent masking at
0.5; median of `--repeats` fits) when MMSTUDY_DATA holds lastfm-2k/, else skipped.
Usage: python -m benchmarks.imputation_quality [--threads 1] [--repeats 3] [--out PATH]
"""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch

from mmstudy.data import load_dataset, make_split
from mmstudy.errors import DataError
from mmstudy.hashing import write_json
from mmstudy.missing.handling import handle_missing
from mmstudy.missing.imputers import IMPUTERS
from mmstudy.study.cell import DataConfig, MissingConfig

from .common import RESULTS

SETTINGS = {"single": "image", "same": None, "independent": None}
LEARNED = ("cross_modal", "autoencoder", "graph_autoencoder")


def quality_rows() -> list[dict]:
    data = load_dataset("synthetic", n_users=1000, n_items=800, n_interactions=30000, seed=0,
                        missing_share={"image": 0.0, "text": 0.0})
    split, graphs, rows = make_split(data, method="random", seed=0), {}, []
    for setting, target in SETTINGS.items():
        for strategy in IMPUTERS.names():
            cfg = MissingConfig(setting=setting, rate=0.5, target=target, strategy=strategy, graph_k=20)
            handled = handle_missing(data.modalities, split, cfg, {}, graph_cache=graphs)
            for modality, q in handled.info["quality"].items():
                rows.append({"setting": setting, "strategy": strategy, "modality": modality, **q,
                             "fallback_items": handled.info["imputation"][modality]["fallback_items"]})
    return rows


def fit_times(repeats: int) -> list[dict]:
    from mmstudy.study.workspace import Workspace

    workspace, cfg = Workspace(), DataConfig(name="lastfm-2k")
    try:
        data = workspace.dataset(cfg)
    except DataError as err:
        print(f"timing skipped: {err}")
        return []
    split, graphs, out = workspace.split(data, cfg), {}, []
    for strategy in LEARNED:
        missing = MissingConfig(setting="independent", rate=0.5, strategy=strategy, graph_k=20)
        seconds = []
        for _ in range(repeats):
            started = time.perf_counter()
            handle_missing(data.modalities, split, missing, {}, graph_cache=graphs)
            seconds.append(time.perf_counter() - started)
        out.append({"strategy": strategy, "items": data.n_items, "median_seconds": statistics.median(seconds),
                    "min_seconds": min(seconds)})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS / "imputation_quality.json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    result = {"threads": args.threads, "quality": quality_rows(), "timing": fit_times(args.repeats)}
    for r in result["quality"]:
        print(f"{r['setting']:12s} {r['strategy']:18s} {r['modality']:6s} cosine {r['cosine']:6.3f}  "
              f"rse {r['rse']:6.3f}  fallback {r['fallback_items']}")
    for r in result["timing"]:
        print(f"Last.fm-2K {r['strategy']:18s} {r['median_seconds']:.2f} s (median), {r['min_seconds']:.2f} s (min)")
    write_json(args.out, result)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
