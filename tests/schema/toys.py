"""Tiny model inputs shared by the schema tests."""
import numpy as np
import scipy.sparse as sp
import torch

from mmstudy.hashing import array_sha256
from mmstudy.models import ModelInput


def make_input(n_users: int = 30, n_items: int = 40, dims: tuple[int, ...] = (12, 8), seed: int = 0) -> ModelInput:
    """Random interactions (every user has one or more items) and Gaussian modality features."""
    rng = np.random.default_rng(seed)
    dense = rng.random((n_users, n_items)) < 0.15
    dense[np.arange(n_users), rng.integers(0, n_items, n_users)] = True
    names = [f"m{i}" for i in range(len(dims))]
    features = {n: torch.from_numpy(rng.standard_normal((n_items, d)).astype(np.float32)) for n, d in zip(names, dims)}
    return ModelInput(train=sp.csr_matrix(dense.astype(np.float32)), features=features,
                      present={n: torch.ones(n_items, dtype=torch.bool) for n in names},
                      feature_keys={n: array_sha256(f.numpy()) for n, f in features.items()}, seed=seed)
