"""Time one validation pass and one full test evaluation of an MF model on a Last.fm-2K-shaped split.

Random 64-d embeddings, 1,858 users x 1,425 items, ~3% training density (Last.fm-2K-like).
Usage: python benchmarks/evaluation_bench.py [--device cuda] [--threads 2] [--repeats 20]
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import scipy.sparse as sp
import torch

from mmstudy.data.split import Split
from mmstudy.evaluation import evaluate, evaluate_metric, rank_topk
from mmstudy.evaluation.ranking import csr_entries, hit_matrix, seen_items
from mmstudy.models.base import ModelInput, Recommender


class RandomMF(Recommender):
    """Fixed random user/item embeddings; score = dot product."""

    def __init__(self, data: ModelInput, dim: int = 64):
        super().__init__(data)
        g = torch.Generator().manual_seed(0)
        self.user = torch.nn.Parameter(torch.randn(self.n_users, dim, generator=g))
        self.item = torch.nn.Parameter(torch.randn(self.n_items, dim, generator=g))

    def representations(self):
        return self.user, self.item


def lastfm_shaped_split(n_users: int = 1858, n_items: int = 1425, seed: int = 0) -> Split:
    r = np.random.default_rng(seed).random((n_users, n_items))
    parts = [(r < 0.024), (r >= 0.024) & (r < 0.027), (r >= 0.027) & (r < 0.030)]
    return Split(*(sp.csr_matrix(p.astype(np.float32)) for p in parts))


def median_ms(fn, repeats: int, sync) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    split = lastfm_shaped_split()
    model = RandomMF(ModelInput(split.train, device=device)).to(device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    timings = {
        "validation pass (Recall@20)": lambda: evaluate_metric(model, split, "Recall@20"),
        "full test evaluation (6 metrics x 3 cutoffs + beyond)": lambda: evaluate(model, split, "test"),
        "  rank_topk(valid, k=20)": lambda: rank_topk(model, split, "valid", k_max=20),
        **breakdown(model, split, device),
    }
    print(f"device={device} shape={split.shape} train_nnz={split.train.nnz} "
          f"valid_users={len(split.eval_users('valid'))} threads={torch.get_num_threads()}")
    for name, fn in timings.items():
        print(f"{name}: {median_ms(fn, args.repeats, sync):.2f} ms")


def breakdown(model: RandomMF, split: Split, device: torch.device) -> dict:
    """The steps of one single-batch validation ranking, timed separately."""
    users = torch.from_numpy(split.eval_users("valid")).to(device)
    seen = seen_items(split, "valid")
    indptr = torch.from_numpy(seen.indptr.astype(np.int64)).to(device)
    indices = torch.from_numpy(seen.indices.astype(np.int64)).to(device)
    scores = model.user[users].detach() @ model.item.detach().T
    rows, cols = csr_entries(indptr, indices, users)
    topk = torch.topk(scores, 20, dim=1).indices.cpu().numpy()
    targets = split.valid[users.cpu().numpy()]
    minus_inf = torch.tensor(-torch.inf, device=device)
    return {"  step: score matmul": lambda: model.user[users].detach() @ model.item.detach().T,
            "  step: copy scores": lambda: scores.clone(),
            "  step: CSR mask indices": lambda: csr_entries(indptr, indices, users),
            "  step: mask -inf": lambda: scores.index_put_((rows, cols), minus_inf),
            "  step: topk(20)": lambda: torch.topk(scores, 20, dim=1),
            "  step: hit matrix": lambda: hit_matrix(topk, targets)}


if __name__ == "__main__":
    main()
