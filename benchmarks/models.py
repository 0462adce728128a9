"""Per-model speed and accuracy on a catalog dataset; Last.fm-2K (the default) against the
reference toolbox (MMRec) figures, a standard dataset beside its published results.

Protocol (as the reference was measured): the shipped fixed split, text = MiniLM (384-d), second
modality = Whisper (512-d), batch 2048, embedding 64, Adam lr 1e-3 unless the model's paper says
otherwise, seed 999, up to 200 epochs with early-stopping patience 20 on validation Recall@20.
Each (model, seed) runs in a fresh process so its peak RSS is its own. Speed is reported for the
first seed; with several seeds, test Recall@20 / nDCG@20 are also summarised as mean +- 95% CI
(Student t over seeds). Results of models not rerun are kept in the JSON.

`--dataset NAME` runs on another catalog dataset (its default modalities, same protocol and
hyper-parameters) and prints the published Recall@20 / nDCG@20 of `reference_results` beside
ours, labelled with their source; an absent dataset stops at once with what to download.

Usage: python -m benchmarks.models [--dataset amazon-baby] [--models BPR-MF FREEDOM ... | all]
       [--seeds 999 1000 1001] [--epochs 200] [--threads 2]
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
    "FREEDOM": ({"knn_k": 10, "dropout": 0.8, "mm_image_weight": 0.1}, {}),
    "LightGCN-M": ({}, {}),
    "BM3": ({"n_layers": 1, "dropout": 0.5, "reg_weight": 0.1, "cl_weight": 2.0}, {}),
    "LATTICE": ({"knn_k": 10, "lambda_coeff": 0.9, "reg_weight": 0.0}, {"lr": 5e-4}),
    "MMGCN": ({"n_layers": 2, "reg_weight": 1e-4}, {}),
    "GRCN": ({"reg_weight": 1e-4}, {}),
    "MGCN": ({}, {}),
    "NGCF": ({}, {}),
    "NGCF-M": ({}, {}),
}
# per-dataset model parameters: Last.fm-2K has no image, so FREEDOM's "image" graph uses audio
DATASET_PARAMS = {"lastfm-2k": {"FREEDOM": {"image_modality": "audio"}}}
DEFAULT_DATASET = "lastfm-2k"
# reference toolbox on this machine type (Last.fm-2K only): s/epoch, s/validation pass, test Recall@20, nDCG@20
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


def bench_one(name: str, epochs: int, patience: int, threads: int, seed: int = 999,
              dataset_name: str = DEFAULT_DATASET) -> dict:
    import torch

    from mmstudy.data import DATASETS, load_dataset
    from mmstudy.evaluation import evaluate
    from mmstudy.models import MODELS, make_model
    from mmstudy.study.workspace import Workspace, model_input
    from mmstudy.missing.handling import HandledData
    from mmstudy.training import fit

    from .common import peak_rss_mb

    torch.set_num_threads(threads)
    dataset = load_dataset(dataset_name)
    split = dataset.fixed_split
    params, train_over = SETTINGS.get(MODELS.canonical(name), ({}, {}))
    key = DATASETS.canonical(dataset_name) if dataset_name in DATASETS else dataset_name
    params = {**params, **DATASET_PARAMS.get(key, {}).get(MODELS.canonical(name), {})}
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


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default=DEFAULT_DATASET, help="a catalog dataset (python -m mmstudy list dataset)")
    parser.add_argument("--models", nargs="+", default=CORE, help="model names, or 'all'")
    parser.add_argument("--seeds", nargs="+", type=int, default=[999])
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--patience", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def one_args(args: argparse.Namespace, name: str, seed: int) -> list[str]:
    """The command-line arguments of the fresh process that runs one (model, seed)."""
    return ["--one", name, "--dataset", args.dataset, "--epochs", str(args.epochs), "--patience", str(args.patience),
            "--threads", str(args.threads), "--seeds", str(seed)]


def check_dataset(name: str) -> str:
    """The canonical catalog name; a standard dataset must have its files (else the DataError says
    what to download and where to put it)."""
    from mmstudy.data import DATASETS
    from mmstudy.data.sources.standard import require_files
    from mmstudy.data.sources.standard_catalog import STANDARD_DATASETS

    canonical = DATASETS.canonical(name)
    for spec in STANDARD_DATASETS:
        if spec.name == canonical:
            require_files(spec, spec.default_modalities)
    return canonical


def published_beside(summary: list[dict], dataset: str) -> list[dict]:
    """Our mean test Recall@20 / nDCG@20 per model beside the published numbers for that model
    (`published_*` columns: copied from their source, not measured here)."""
    from mmstudy.data.sources.reference_results import published_results

    published: dict[str, dict] = {}
    for result in published_results(dataset):
        column = {"Recall@20": "published_recall20", "nDCG@20": "published_ndcg20"}[result.metric]
        published.setdefault(result.model, {})[column] = result.value
    ours = {row["model"]: row for row in summary}
    return [{"model": model, "recall20": ours.get(model, {}).get("recall20"), **published.get(model, {}),
             "ndcg20": ours.get(model, {}).get("ndcg20")} for model in dict.fromkeys([*ours, *published])]


def main(argv: list[str] | None = None) -> dict:
    from mmstudy.errors import MMStudyError
    from mmstudy.registry import UnknownNameError

    from .common import print_table, run_isolated, save, with_earlier_rows

    args = parse_args(argv)
    if args.one:
        print(json.dumps(bench_one(args.one, args.epochs, args.patience, args.threads, args.seeds[0], args.dataset)))
        return {}
    try:
        args.dataset = check_dataset(args.dataset)
    except (MMStudyError, UnknownNameError) as exc:
        raise SystemExit(f"error: {exc}") from None
    names = list(SETTINGS) if args.models == ["all"] else args.models
    rows = []
    for name in names:
        for seed in args.seeds:
            row = {"model": name, "seed": seed, **run_isolated("benchmarks.models", *one_args(args, name, seed))}
            rows.append(speed_row(row) if args.dataset == DEFAULT_DATASET else row)
            print(f"{name} (seed {seed}): {row}", flush=True)
    suite = "models" if args.dataset == DEFAULT_DATASET else f"models-{args.dataset}"
    rows = with_earlier_rows(suite, rows, ("model", "seed"), {"epochs": args.epochs, "patience": args.patience})
    print_table([r for r in rows if r.get("seed") == args.seeds[0]],
                ["model", "s_epoch", "ref_s_epoch", "speedup_epoch", "s_valid", "ref_s_valid", "speedup_valid",
                 "recall20", "ref_recall20", "ndcg20", "ref_ndcg20", "best_epoch", "peak_rss_mb", "error"])
    summary = accuracy_summary(rows)
    print_table(summary, ["model", "seeds", "recall20", "recall20_ci", "ndcg20", "ndcg20_ci"])
    payload = {"suite": "models", "dataset": args.dataset, "epochs": args.epochs, "patience": args.patience,
               "rows": rows, "accuracy": summary}
    if args.dataset != DEFAULT_DATASET:
        payload["published"] = print_published(summary, args.dataset)
    print(f"written: {save(suite, payload)}")
    return payload


def print_published(summary: list[dict], dataset: str) -> list[dict]:
    """Print our accuracy beside the published results, with a line naming their source."""
    from mmstudy.data.sources.reference_results import published_results

    from .common import print_table

    sources = sorted({r.source for r in published_results(dataset)})
    if not sources:
        print(f"no published results for {dataset} are on record (mmstudy/data/sources/reference_results.py)")
        return []
    table = published_beside(summary, dataset)
    print(f"published_* = numbers published in {'; '.join(sources)}; copied, not produced by this run")
    print_table(table, ["model", "recall20", "published_recall20", "ndcg20", "published_ndcg20"])
    return table


if __name__ == "__main__":
    main()
