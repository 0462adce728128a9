"""End to end: every model, trained with `fit`, beats popularity on a synthetic problem."""
import pytest

from learning_problem import popularity_recall, synthetic_problem
from mmstudy.data.split import Split
from mmstudy.evaluation import evaluate_metric
from mmstudy.models import ModelInput, make_model
from mmstudy.training import fit


@pytest.fixture(scope="module")
def problem() -> tuple[ModelInput, Split]:
    return synthetic_problem()


CORE = ["BPR-MF", "LightGCN", "VBPR", "LightGCN-M", "FREEDOM"]  # the zoo has test_zoo_learning.py


@pytest.mark.parametrize("name", CORE)
def test_model_beats_popularity(name, problem):
    data, split = problem
    model = make_model(name, data)
    fit(model, split, epochs=40, batch_size=512, lr=0.01, patience=10, progress=False)
    recall = evaluate_metric(model, split, "Recall@20", "test")
    assert recall > 1.05 * popularity_recall(split)
