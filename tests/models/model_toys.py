"""Tiny synthetic model inputs and a manual BPR training loop shared by the model tests."""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch

from mmstudy.hashing import array_sha256
from mmstudy.models import Batch, ModelInput
from mmstudy.models.cache import DerivedCache
from mmstudy.sparse import bipartite_adjacency, degree_normalize


def make_input(n_users: int = 30, n_items: int = 40, dims: tuple[int, ...] = (12, 8), seed: int = 0,
               names: tuple[str, ...] | None = None, cache: DerivedCache | None = None,
               density: float = 0.15) -> ModelInput:
    """Random interactions (every user has >= 1 item; the last item has none) and modality features."""
    rng = np.random.default_rng(seed)
    dense = rng.random((n_users, n_items)) < density
    dense[np.arange(n_users), rng.integers(0, n_items - 1, n_users)] = True
    dense[:, -1] = False
    train = sp.csr_matrix(dense.astype(np.float32))
    names = names or tuple(f"m{i}" for i in range(len(dims)))
    features = {n: torch.from_numpy(rng.standard_normal((n_items, d)).astype(np.float32)) for n, d in zip(names, dims)}
    present = {n: torch.ones(n_items, dtype=torch.bool) for n in names}
    keys = {n: array_sha256(f.numpy(), present[n].numpy()) for n, f in features.items()}
    return ModelInput(train=train, features=features, present=present, feature_keys=keys, seed=seed, cache=cache)


def training_edges(data: ModelInput) -> tuple[torch.Tensor, torch.Tensor]:
    coo = data.train.tocoo()
    return torch.from_numpy(coo.row).long(), torch.from_numpy(coo.col).long()


def train_steps(model, data: ModelInput, steps: int, lr: float = 0.01, seed: int = 0) -> list[float]:
    """Full-batch Adam steps with uniformly sampled negatives; one 'epoch' per step. Returns losses."""
    users, pos = training_edges(data)
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    model.train()
    for step in range(steps):
        model.on_epoch_start(step, generator)
        neg = torch.randint(0, data.n_items, (len(users),), generator=generator)
        optimizer.zero_grad()
        loss = model.loss(Batch(users, pos, neg))
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    return losses


def dense_lightgcn(data, ego: torch.Tensor, n_layers: int) -> torch.Tensor:
    """Reference LightGCN with a dense normalised adjacency: mean of A^0..A^n applied to `ego`."""
    adj = torch.from_numpy(degree_normalize(bipartite_adjacency(data.train)).toarray())
    layers = [ego]
    for _ in range(n_layers):
        layers.append(adj @ layers[-1])
    return torch.stack(layers).mean(0)
