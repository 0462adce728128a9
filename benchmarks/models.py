"""Per-model speed and accuracy on Last.fm-2K against the reference toolbox (MMRec) figures.

Protocol (as the reference was measured): the shipped fixed split, text = MiniLM (384-d), second
modality = Whisper (512-d), batch 2048, embedding 64, Adam lr 1e-3 unless the model's paper says
otherwise, seed 999, up to 200 epochs with early-stopping patience 20 on validation Recall@20.
Each (model, seed) runs in a fresh process so its peak RSS is its own. Speed is reported for the
first seed; with several seeds, test Recall@20 / nDCG@20 are also summarised as mean +- 95% CI
(Student t over seeds). Results of models not rerun are kept in the JSON.

Usage: python -m benchmarks.models [--models BPR-MF FREEDOM ... | all] [--seeds 999 1000 1001]
       [--epochs 200] [--threads 2]
"""
from __future__ import annotations

import argparse
import json
import time

# hyper-parameters of each model (model params, training overrides) as the reference was run
SETTINGS = {
    "BPR-MF": ({"reg_weight": 1e-4}, {}),
    "LightGCN": ({"n_layers": 2, "reg_weight": 1e-4}, {}),
    "VBPR": ({"reg_weight": 1e-4}, {}),
    "FREEDOM": ({"knn_k": 10, "dropout": 0.8, "mm_image_weight": 0.1, "image_modality": "audio"}, {}),
    "LightGCN-M": ({}, {}),
    "BM3": ({"n_layers": 1, "dropout": 0.5, "reg_weight": 0.1, "cl_weight": 2.0}, {}),
    "LATTICE": ({"knn_k": 10, "lambda_coeff": 0.9, "reg_weight": 0.0}, {"lr": 5e-4}),
    "MMGCN": ({"n_layers": 2, "reg_weight": 1e-4}, {}),
    "GRCN": ({"reg_weight": 1e-4}, {}),
    "MGCN": ({}, {}),
    "NGCF": ({}, {}),
    "NGCF-M": ({}, {}),
}
# reference toolbox on this machine type: s/epoch, s/validation pass, test Recall@20, nDCG@20
REFERENCE = {
    "BPR-MF": (0.31, 0.45, 0.397, 0.274),
    "LightGCN": (0.87, 0.42, 0.398, 0.275),
    "VBPR": (0.47, 0.43, 0.361, 0.246),
    "FREEDOM": (0.99, 0.42, 0.400, 0.274),
    "BM3": (1.12, 0.44, 0.325, 0.223),
    "LATTICE": (1.76, 0.66, 0.367, 0.254),
    "MMGCN": (11.1, 0.52, None, None),
    "GRCN": (9.5, 0.49, None, None),
}
CORE = ["BPR-MF", "LightGCN", "VBPR", "FREEDOM"]


def bench_one(name: str, epochs: int, patience: int, threads: int, seed: int = 999) -> dict:
    import torch

    from mmstudy.data import load_dataset
    from mmstudy.evaluation import evaluate
    from mmstudy.models import MODELS, make_model
    from mmstudy.study.workspace import Workspace, model_input
    from mmstudy.missing.handling import HandledData
    from mmstudy.training import fit

    from .common import peak_rss_mb

    torch.set_num_threads(threads)
    dataset = load_dataset("lastfm-2k")
    split = dataset.fixed_split
    params, train_over = SETTINGS.get(MODELS.canonical(name), ({}, {}))
    params = {k: v for k, v in params.items() if k in MODELS.get(name).defaults}
    data = model_input(HandledData(dataset.modalities, split), seed=seed, device="cpu", cache=Workspace().derived)
    model = make_model(name, data, **params)
    started = time.perf_counter()
    result = fit(model, split, epochs=epochs, patience=patience, batch_size=2048, lr=train_over.get("lr", 1e-3),
                 seed=seed, progress=False)
    test = evaluate(model, split, "test", cutoffs=(20,)).mean()
    return {"model": MODELS.canonical(name), "params": params, "s_epoch": result.mean_epoch_seconds,
            "s_valid": result.mean_valid_seconds, "best_epoch": result.best_epoch, "epochs_run": result.epochs_run,
            "recall20": test["Recall@20"], "ndcg20": test["nDCG@20"], "total_s": time.perf_counter() - started,
            "peak_rss_mb": peak_rss_mb(), "threads": threads, "seed": seed}


def speed_row(row: dict) -> dict:
    """One run's row with the reference figures and the speed-ups beside it."""
    ref = REFERENCE.get(row["model"])
    if not ref or "error" in row:
        return row
    return {**row, "ref_s_epoch": ref[0], "ref_s_valid": ref[1], "ref_recall20": ref[2], "ref_ndcg20": ref[3],
            "speedup_epoch": ref[0] / row["s_epoch"], "speedup_valid": ref[1] / row["s_valid"]}


def accuracy_summary(rows: list[dict]) -> list[dict]:
    """Per model: test Recall@20 / nDCG@20 over its seeds, mean +- 95% CI half-width (Student t)."""
    import pandas as pd
    from scipy import stats

    frame = pd.DataFrame([r for r in rows if "error" not in r])
    out = []
    for model, group in frame.groupby("model", sort=False):
        entry = {"model": model, "seeds": len(group)}
        for metric in ("recall20", "ndcg20"):
            values = group[metric].to_numpy()
            half = (stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / len(values) ** 0.5
                    if len(values) > 1 else float("nan"))
            entry.update({metric: values.mean(), f"{metric}_ci": half})
        out.append(entry)
    return out


def main(argv: list[str] | None = None) -> dict:
    from .common import print_table, run_isolated, save, with_earlier_rows

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=CORE, help="model names, or 'all'")
    parser.add_argument("--seeds", nargs="+", type=int, default=[999])
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--patience", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(bench_one(args.one, args.epochs, args.patience, args.threads, args.seeds[0])))
        return {}
    names = list(SETTINGS) if args.models == ["all"] else args.models
    rows = []
    for name in names:
        for seed in args.seeds:
            row = run_isolated("benchmarks.models", "--one", name, "--epochs", str(args.epochs), "--patience",
                               str(args.patience), "--threads", str(args.threads), "--seeds", str(seed))
            rows.append(speed_row({"model": name, "seed": seed, **row}))
            print(f"{name} (seed {seed}): {row}", flush=True)
    rows = with_earlier_rows("models", rows, ("model", "seed"), {"epochs": args.epochs, "patience": args.patience})
    print_table([r for r in rows if r.get("seed") == args.seeds[0]],
                ["model", "s_epoch", "ref_s_epoch", "speedup_epoch", "s_valid", "ref_s_valid", "speedup_valid",
                 "recall20", "ref_recall20", "ndcg20", "ref_ndcg20", "best_epoch", "peak_rss_mb", "error"])
    summary = accuracy_summary(rows)
    print_table(summary, ["model", "seeds", "recall20", "recall20_ci", "ndcg20", "ndcg20_ci"])
    payload = {"suite": "models", "epochs": args.epochs, "patience": args.patience, "rows": rows,
               "accuracy": summary}
    print(f"written: {save('models', payload)}")
    return payload


if __name__ == "__main__":
    main()
