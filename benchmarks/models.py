"""Per-model speed and accuracy on Last.fm-2K against the reference toolbox (MMRec) figures.

Protocol (as the reference was measured): the shipped fixed split, text = MiniLM (384-d), second
modality = Whisper (512-d), batch 2048, embedding 64, Adam lr 1e-3 unless the model's paper says
otherwise, seed 999, up to 200 epochs with early-stopping patience 20 on validation Recall@20.
Each model runs in a fresh process so its peak RSS is its own.

Usage: python -m benchmarks.models [--models BPR-MF FREEDOM ...] [--epochs 200] [--threads 2]
"""
from __future__ import annotations

import argparse
import json
import time

# reference toolbox on this machine type: s/epoch, s/validation pass, test Recall@20, nDCG@20
REFERENCE = {
    "BPR-MF": ({"reg_weight": 1e-4}, {}, 0.31, 0.45, 0.397, 0.274),
    "LightGCN": ({"n_layers": 2, "reg_weight": 1e-4}, {}, 0.87, 0.42, 0.398, 0.275),
    "VBPR": ({"reg_weight": 1e-4}, {}, 0.47, 0.43, 0.361, 0.246),
    "FREEDOM": ({"knn_k": 10, "dropout": 0.8, "mm_image_weight": 0.1, "image_modality": "audio"}, {},
                0.99, 0.42, 0.400, 0.274),
    "BM3": ({"n_layers": 1, "dropout": 0.5, "reg_weight": 0.1, "cl_weight": 2.0}, {}, 1.12, 0.44, 0.325, 0.223),
    "LATTICE": ({"knn_k": 10, "lambda_coeff": 0.9, "reg_weight": 0.0}, {"lr": 5e-4}, 1.76, 0.66, 0.367, 0.254),
    "MMGCN": ({"n_layers": 2, "reg_weight": 1e-4}, {}, 11.1, 0.52, None, None),
    "GRCN": ({"reg_weight": 1e-4}, {}, 9.5, 0.49, None, None),
}
CORE = ["BPR-MF", "LightGCN", "VBPR", "FREEDOM"]


def bench_one(name: str, epochs: int, patience: int, threads: int) -> dict:
    import torch

    from mmstudy.data import load_dataset
    from mmstudy.evaluation import evaluate
    from mmstudy.models import MODELS, make_model
    from mmstudy.study.pipeline import Workspace, model_input
    from mmstudy.missing.handling import HandledData
    from mmstudy.training import fit

    from .common import peak_rss_mb

    torch.set_num_threads(threads)
    dataset = load_dataset("lastfm-2k")
    split = dataset.fixed_split
    params, train_over, *_ = REFERENCE.get(name, ({}, {}))
    params = {k: v for k, v in params.items() if k in MODELS.get(name).defaults}
    data = model_input(HandledData(dataset.modalities, split), seed=999, device="cpu", cache=Workspace().derived)
    model = make_model(name, data, **params)
    started = time.perf_counter()
    result = fit(model, split, epochs=epochs, patience=patience, batch_size=2048, lr=train_over.get("lr", 1e-3),
                 seed=999, progress=False)
    test = evaluate(model, split, "test", cutoffs=(20,)).mean()
    return {"model": MODELS.canonical(name), "params": params, "s_epoch": result.mean_epoch_seconds,
            "s_valid": result.mean_valid_seconds, "best_epoch": result.best_epoch, "epochs_run": result.epochs_run,
            "recall20": test["Recall@20"], "ndcg20": test["nDCG@20"], "total_s": time.perf_counter() - started,
            "peak_rss_mb": peak_rss_mb(), "threads": threads}


def main(argv: list[str] | None = None) -> dict:
    from .common import print_table, run_isolated, save

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=CORE, help="model names, or 'all'")
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--patience", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(bench_one(args.one, args.epochs, args.patience, args.threads)))
        return {}
    names = list(REFERENCE) if args.models == ["all"] else args.models
    rows = []
    for name in names:
        row = run_isolated("benchmarks.models", "--one", name, "--epochs", str(args.epochs),
                           "--patience", str(args.patience), "--threads", str(args.threads))
        ref = REFERENCE.get(name)
        if ref and "error" not in row:
            row.update({"ref_s_epoch": ref[2], "ref_s_valid": ref[3], "ref_recall20": ref[4],
                        "speedup_epoch": ref[2] / row["s_epoch"], "speedup_valid": ref[3] / row["s_valid"]})
        rows.append({"model": name, **row})
        print(f"{name}: {row}", flush=True)
    print_table(rows, ["model", "s_epoch", "ref_s_epoch", "speedup_epoch", "s_valid", "ref_s_valid",
                       "speedup_valid", "recall20", "ref_recall20", "ndcg20", "best_epoch", "peak_rss_mb", "error"])
    payload = {"suite": "models", "epochs": args.epochs, "patience": args.patience, "rows": rows}
    print(f"written: {save('models', payload)}")
    return payload


if __name__ == "__main__":
    main()
