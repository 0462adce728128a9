"""The small synthetic learning problem shared by the "beats popularity" tests."""
import numpy as np
import scipy.sparse as sp
import torch

from mmstudy.data.sources.synthetic import make_synthetic
from mmstudy.data.split import Split
from mmstudy.evaluation import evaluate_metric
from mmstudy.models import ModelInput


def synthetic_problem() -> tuple[ModelInput, Split]:
    """300 users x 200 items, every item with both modalities, a seeded 70/10/20 random split."""
    dataset = make_synthetic(n_users=300, n_items=200, n_interactions=8000, seed=0,
                             missing_share={"image": 0.0, "text": 0.0})
    coo = sp.coo_matrix(dataset.interactions)
    part = np.random.default_rng(0).choice(3, size=coo.nnz, p=[0.7, 0.1, 0.2])
    split = Split(*(sp.csr_matrix((coo.data[part == p], (coo.row[part == p], coo.col[part == p])),
                                  shape=coo.shape) for p in range(3)))
    mods = dataset.modalities
    data = ModelInput(train=split.train, features={k: torch.from_numpy(m.features) for k, m in mods.items()},
                      present={k: torch.from_numpy(m.present) for k, m in mods.items()},
                      feature_keys={k: m.fingerprint() for k, m in mods.items()})
    return data, split


def popularity_recall(split: Split) -> float:
    """Test Recall@20 of ranking every user's unseen items by training popularity."""
    popularity = torch.from_numpy(np.asarray(split.train.sum(0), dtype=np.float32).ravel())
    return evaluate_metric(lambda users: popularity.expand(len(users), -1), split, "Recall@20", "test")
