"""Validation-only selection: run() and grid_search() test exactly once, the selected model."""
import numpy as np
import pytest

import mmstudy.evaluation as evaluation
import mmstudy.training.selection as selection
from mmstudy.errors import ConfigError, DataError
from mmstudy.evaluation import evaluate
from mmstudy.models.base import ModelInput, make_model
from mmstudy.registry import UnknownNameError
from mmstudy.training import TestBudget, TrainConfig, grid_search, run

CONFIG = TrainConfig(epochs=3, batch_size=64, patience=2)


@pytest.fixture
def rankings(monkeypatch):
    """Spy on every full ranking: a list of (model, part) in call order."""
    calls = []
    original = evaluation.rank_topk

    def spy(scorer, split, part="valid", *args, **kwargs):
        calls.append((scorer, part))
        return original(scorer, split, part, *args, **kwargs)

    monkeypatch.setattr(evaluation, "rank_topk", spy)
    return calls


def test_run_trains_validates_and_tests_once(split, data, rankings):
    result = run("toy-mf", data, split, params={"dim": 4}, train_config=CONFIG, cutoffs=(5, 10))
    test_calls = [m for m, part in rankings if part == "test"]
    assert test_calls == [result.model] and result.test_evaluations == 1
    assert sum(part == "valid" for _, part in rankings) == result.fit.epochs_run
    assert result.test.part == "test" and "Recall@10" in result.test.per_user
    assert result.params == {"dim": 4, "reg": 1e-4}
    assert result.valid_best == result.fit.best_valid
    assert result.n_parameters == (40 + 30) * 4 and result.seconds > 0


def test_run_accepts_a_plain_dict_config(split, data):
    result = run("toy-mf", data, split, train_config={"epochs": 1, "batch_size": 64})
    assert result.fit.epochs_run == 1 and result.train_config.epochs == 1


def test_grid_selects_on_validation_even_when_test_disagrees(split, data, dense_parts, rankings):
    grid = {"target": ["test", "valid"]}  # the validation-best is NOT first in grid order
    result = grid_search("toy-oracle", data, split, grid, CONFIG)
    scores = {t["params"]["target"]: t["best_valid"] for t in result.trials}
    assert scores["valid"] > scores["test"]
    assert result.best_params == {"target": "valid"} and result.best_index == 1
    # The rejected configuration is better on test, and was never evaluated there.
    rejected = make_model("toy-oracle", data, target="test")
    rejected_test = evaluate(rejected, split, "test", cutoffs=(20,)).per_user["Recall@20"].mean()
    assert result.best.test.per_user["Recall@20"].mean() < rejected_test
    test_calls = [m for m, part in rankings if part == "test"]
    assert test_calls[0] is result.best.model and len(test_calls) == 2  # 2nd: `rejected` above
    assert result.test_evaluations == result.best.test_evaluations == 1


def test_grid_records_every_trial_and_tunes_train_keys(split, data):
    result = grid_search("toy-mf", data, split, {"dim": [2, 4], "lr": [1e-2, 1e-3]},
                         {"epochs": 2, "batch_size": 64})
    table = result.table()
    assert len(table) == 4 and {"dim", "lr", "best_valid", "best_epoch", "seconds"} <= set(table)
    assert result.best_index == int(np.argmax(table["best_valid"]))
    assert result.best.train_config.lr == result.best_params["lr"]
    assert result.best.params["dim"] == result.best_params["dim"]


def test_empty_grid_is_a_single_default_trial(split, data):
    result = grid_search("toy-mf", data, split, {}, {"epochs": 1, "batch_size": 64})
    assert len(result.trials) == 1 and result.best_params == {}


@pytest.mark.parametrize("grid, error, match", [
    ({"dimm": [4]}, ConfigError, "Did you mean 'dim'"),
    ({"dim": 4}, ConfigError, "non-empty list"),
    ({"dim": []}, ConfigError, "non-empty list"),
    ({"epochs": [0]}, ConfigError, "epochs"),
])
def test_bad_grids_fail_before_any_training(split, data, monkeypatch, grid, error, match):
    monkeypatch.setattr(selection, "fit", lambda *a, **k: pytest.fail("trained a model"))
    with pytest.raises(error, match=match):
        grid_search("toy-mf", data, split, grid, CONFIG)


def test_unknown_model_name(split, data):
    with pytest.raises(UnknownNameError, match="toy-mf"):
        run("toy-mff", data, split, train_config=CONFIG)


def test_leaky_model_input_is_rejected(split):
    leaky = ModelInput(split.train + split.valid)
    with pytest.raises(DataError, match="leakage"):
        run("toy-mf", leaky, split, train_config=CONFIG)
    with pytest.raises(DataError, match="shape"):
        run("toy-mf", ModelInput(split.train[:5]), split, train_config=CONFIG)


def test_test_budget_refuses_a_second_evaluation(split, data):
    model = make_model("toy-mf", data)
    budget = TestBudget(limit=1)
    budget.evaluate(model, split, (10,))
    with pytest.raises(RuntimeError, match="validation only"):
        budget.evaluate(model, split, (10,))
    assert budget.used == 1
