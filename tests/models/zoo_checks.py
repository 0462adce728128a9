"""Contract checks shared by the multimodal model-zoo tests (BM3, LATTICE, MMGCN, GRCN, MGCN, NGCF)."""
from __future__ import annotations

import pytest
import torch

import mmstudy.models.bm3  # noqa: F401  (registration)
import mmstudy.models.grcn  # noqa: F401
import mmstudy.models.lattice  # noqa: F401
import mmstudy.models.mgcn  # noqa: F401
import mmstudy.models.mmgcn  # noqa: F401
import mmstudy.models.ngcf  # noqa: F401
from mmstudy.errors import ConfigError
from mmstudy.models import Batch, ModelInput, make_model
from mmstudy.models.cache import DerivedCache

from model_toys import make_input, train_steps


def random_batch(data: ModelInput, size: int = 16, seed: int = 1) -> Batch:
    g = torch.Generator().manual_seed(seed)
    return Batch(torch.randint(0, data.n_users, (size,), generator=g),
                 torch.randint(0, data.n_items, (size,), generator=g),
                 torch.randint(0, data.n_items, (size,), generator=g))


def check_contract(name: str, dims: tuple[int, ...], **params) -> None:
    """Builds, finite loss, gradients, full score matrix, determinism per seed, unknown parameter."""
    data = make_input(dims=dims)
    model = make_model(name, data, **params)
    model.on_epoch_start(0, torch.Generator().manual_seed(0))
    loss = model.loss(random_batch(data))
    assert loss.ndim == 0 and torch.isfinite(loss)
    loss.backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is None or torch.isfinite(g).all() for g in grads)
    assert any(g is not None and g.abs().sum() > 0 for g in grads)
    model.eval()
    with torch.no_grad():
        scores = model.score(torch.arange(data.n_users))
        assert scores.shape == (data.n_users, data.n_items) and torch.isfinite(scores).all()
        again = make_model(name, data, **params).eval().score(torch.arange(data.n_users))
        other = make_model(name, make_input(dims=dims, seed=3), **params).eval().score(torch.arange(data.n_users))
    fresh = make_model(name, data, **params).eval()
    with torch.no_grad():
        assert torch.equal(fresh.score(torch.arange(data.n_users)), again)
    assert not torch.allclose(again, other)
    with pytest.raises(ConfigError, match="'embeding_size'.*Did you mean 'embedding_size'"):
        make_model(name, data, embeding_size=8)
    trained = []
    for _ in range(2):  # training is reproducible too: all randomness comes from the seeded generators
        model = make_model(name, data, **params)
        train_steps(model, data, steps=3)
        with torch.no_grad():
            trained.append(model.eval().score(torch.arange(data.n_users)))
    assert torch.equal(*trained)


def same_loss_twice(name: str, data: ModelInput, seed: int, **params) -> tuple[float, float]:
    """Losses of two identically built models after `on_epoch_start` with generators of `seed`."""
    out = []
    for _ in range(2):
        model = make_model(name, data, **params)
        model.on_epoch_start(0, torch.Generator().manual_seed(seed))
        out.append(float(model.loss(random_batch(data)).detach()))
    return out[0], out[1]


def check_feature_cache(name: str, graphs_per_build: int, **params) -> None:
    """Rebuilding hits the cache; a changed feature matrix (new key) recomputes its graphs."""
    cache = DerivedCache()
    make_model(name, make_input(cache=cache), **params)
    assert cache.misses == graphs_per_build and cache.hits == 0
    make_model(name, make_input(cache=cache), **params)
    assert cache.misses == graphs_per_build and cache.hits == graphs_per_build
    changed = make_input(cache=cache)
    changed.features["m1"] = changed.features["m1"] * -1.0 + 0.5
    changed.feature_keys["m1"] = "changed"
    make_model(name, changed, **params)
    assert cache.misses == graphs_per_build + 1 and cache.hits == 2 * graphs_per_build - 1
