"""End to end: every model, trained with `fit`, beats popularity on a synthetic problem."""
import numpy as np
import pytest
import scipy.sparse as sp
import torch

from mmstudy.data.sources.synthetic import make_synthetic
from mmstudy.data.split import Split
from mmstudy.evaluation import evaluate_metric
from mmstudy.models import ModelInput, make_model
from mmstudy.training import fit


@pytest.fixture(scope="module")
def problem() -> tuple[ModelInput, Split]:
    dataset = make_synthetic(n_users=300, n_items=200, n_interactions=8000, seed=0,
                             missing_share={"image": 0.0, "text": 0.0})
    coo = sp.coo_matrix(dataset.interactions)
    part = np.random.default_rng(0).choice(3, size=coo.nnz, p=[0.7, 0.1, 0.2])
    split = Split(*(sp.csr_matrix((coo.data[part == p], (coo.row[part == p], coo.col[part == p])),
                                  shape=coo.shape) for p in range(3)))
    features = {k: torch.from_numpy(m.features.astype(np.float32)) for k, m in dataset.modalities.items()}
    present = {k: torch.from_numpy(m.present) for k, m in dataset.modalities.items()}
    data = ModelInput(train=split.train, features=features, present=present,
                      feature_keys={k: m.fingerprint() for k, m in dataset.modalities.items()})
    return data, split


def popularity_recall(split: Split) -> float:
    popularity = torch.from_numpy(np.asarray(split.train.sum(0), dtype=np.float32).ravel())
    return evaluate_metric(lambda users: popularity.expand(len(users), -1), split, "Recall@20", "test")


CORE = ["BPR-MF", "LightGCN", "VBPR", "LightGCN-M", "FREEDOM"]  # the zoo has test_zoo_learning.py


@pytest.mark.parametrize("name", CORE)
def test_model_beats_popularity(name, problem):
    data, split = problem
    model = make_model(name, data)
    fit(model, split, epochs=40, batch_size=512, lr=0.01, patience=10, progress=False)
    recall = evaluate_metric(model, split, "Recall@20", "test")
    assert recall > 1.05 * popularity_recall(split)
