"""End to end: each model-zoo recommender, trained with `fit`, clearly beats popularity."""
import numpy as np
import pytest
import scipy.sparse as sp
import torch

from mmstudy.data.sources.synthetic import make_synthetic
from mmstudy.data.split import Split
from mmstudy.evaluation import evaluate_metric
from mmstudy.models import ModelInput, make_model
from mmstudy.training import fit

import zoo_checks  # noqa: F401  (registers the zoo models)

ZOO = ["BM3", "LATTICE", "MMGCN", "GRCN", "MGCN", "NGCF", "NGCF-M"]


@pytest.fixture(scope="module")
def problem() -> tuple[ModelInput, Split, float]:
    """The synthetic positive control with a moderate popularity skew (BM3, which never sees
    negatives, learns no popularity prior), random 70/10/20 split, and popularity's test recall."""
    dataset = make_synthetic(n_users=300, n_items=200, n_interactions=8000, seed=0, popularity_exponent=0.5,
                             missing_share={"image": 0.0, "text": 0.0})
    coo = sp.coo_matrix(dataset.interactions)
    part = np.random.default_rng(0).choice(3, size=coo.nnz, p=[0.7, 0.1, 0.2])
    split = Split(*(sp.csr_matrix((coo.data[part == p], (coo.row[part == p], coo.col[part == p])),
                                  shape=coo.shape) for p in range(3)))
    features = {k: torch.from_numpy(m.features) for k, m in dataset.modalities.items()}
    present = {k: torch.from_numpy(m.present) for k, m in dataset.modalities.items()}
    data = ModelInput(train=split.train, features=features, present=present,
                      feature_keys={k: m.fingerprint() for k, m in dataset.modalities.items()})
    popularity = torch.from_numpy(np.asarray(split.train.sum(0), dtype=np.float32).ravel())
    baseline = evaluate_metric(lambda users: popularity.expand(len(users), -1), split, "Recall@20", "test")
    return data, split, baseline


@pytest.mark.parametrize("name", ZOO)
def test_model_clearly_beats_popularity(name, problem):
    data, split, baseline = problem
    model = make_model(name, data)
    result = fit(model, split, epochs=40, batch_size=512, lr=0.01, patience=10, progress=False)
    assert result.best_epoch > 1
    assert evaluate_metric(model, split, "Recall@20", "test") > 1.25 * baseline
