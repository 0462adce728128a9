"""fit(): early stopping, best-state restoration, determinism, divergence and config errors."""
import pytest
import torch

from mmstudy.errors import ConfigError
from mmstudy.evaluation import evaluate_metric
from mmstudy.models.base import ModelInput
from mmstudy.models.base import make_model
from mmstudy.registry import UnknownNameError
from mmstudy.training import DivergenceError, TrainConfig, fit

FAST = dict(batch_size=64, progress=False)


def test_early_stopping_restores_the_best_epoch(split, data, dense_parts):
    model = make_model("toy-scripted", data, peak=3)
    result = fit(model, split, epochs=50, patience=2, **FAST)
    assert (result.best_epoch, result.epochs_run) == (3, 5)
    assert result.stopped_early and result.stop_reason == "patience"
    assert result.best_valid == max(row["Recall@20"] for row in result.curve) > 0
    assert [row["epoch"] for row in result.curve] == [1, 2, 3, 4, 5]
    assert int(model.epoch) == 3 and not model.training
    after = model.history[1:]  # after[e - 1] = parameters at the end of epoch e
    assert torch.equal(model.w, after[2])  # restored to the end of epoch 3 ...
    assert not torch.equal(after[3], after[2])  # ... although training moved on


def test_training_is_deterministic_for_a_seed(split, data):
    runs = []
    for seed in (0, 0, 1):
        model = make_model("toy-mf", data)
        result = fit(model, split, epochs=3, seed=seed, **FAST)
        runs.append(([row["loss"] for row in result.curve], model.user.detach().clone()))
    assert runs[0][0] == runs[1][0] and torch.equal(runs[0][1], runs[1][1])
    assert runs[0][0] != runs[2][0]


def test_training_reduces_the_loss_and_restores_the_validated_state(split, data):
    model = make_model("toy-mf", data)
    result = fit(model, split, epochs=15, lr=0.05, patience=100, **FAST)
    assert result.curve[-1]["loss"] < 0.8 * result.curve[0]["loss"]
    assert evaluate_metric(model, split, "Recall@20") == result.best_valid
    assert result.stop_reason == "epochs" and not result.stopped_early
    assert result.train_seconds > 0 and result.mean_epoch_seconds > 0 and result.mean_valid_seconds > 0


def test_validation_schedule(split, data, dense_parts):
    result = fit(make_model("toy-scripted", data, peak=6), split, epochs=7, eval_every=3,
                 patience=100, **FAST)
    validated = [row["epoch"] for row in result.curve if "Recall@20" in row]
    assert validated == [3, 6, 7] and result.best_epoch == 6


def test_time_budget_stops_after_a_validated_epoch(split, data, dense_parts):
    result = fit(make_model("toy-scripted", data), split, epochs=10, eval_every=5,
                 max_seconds=1e-9, **FAST)
    assert result.epochs_run == 1 and result.stop_reason == "max_seconds" and result.stopped_early
    assert "Recall@20" in result.curve[0] and result.best_epoch == 1


def test_nan_loss_names_the_epoch(split, data, dense_parts):
    with pytest.raises(DivergenceError, match="epoch 2"):
        fit(make_model("toy-scripted", data, nan_at=2), split, epochs=5, **FAST)


def test_other_validation_metric(split, data, dense_parts):
    result = fit(make_model("toy-scripted", data, peak=2), split, epochs=4, patience=1,
                 valid_metric="ndcg@5", **FAST)
    assert result.valid_metric == "ndcg@5" and "ndcg@5" in result.curve[0]
    assert result.best_epoch == 2


def test_bad_fit_arguments(split, data):
    model = make_model("toy-mf", data)
    with pytest.raises(ConfigError, match="epochs"):
        fit(model, split, epochs=0, **FAST)
    with pytest.raises(ConfigError, match="lr"):
        fit(model, split, lr=-1.0, **FAST)
    with pytest.raises(UnknownNameError, match="Did you mean"):
        fit(model, split, valid_metric="recal@20", **FAST)
    with pytest.raises(ConfigError, match="name@cutoff"):
        fit(model, split, valid_metric="Recall", **FAST)


def test_train_config_from_dict():
    config = TrainConfig.from_dict({"epochs": 3, "lr": 0.01})
    assert config.epochs == 3 and config.lr == 0.01 and config.patience == 20
    assert config.replace(lr=0.1).lr == 0.1 and config.lr == 0.01
    assert TrainConfig.from_dict(None) == TrainConfig()
    with pytest.raises(ConfigError, match="Did you mean 'epochs'"):
        TrainConfig.from_dict({"epoch": 3})
    with pytest.raises(ConfigError, match="max_seconds"):
        TrainConfig(max_seconds=0)
    with pytest.raises(Exception):
        config.lr = 1.0  # frozen


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_fit_on_cuda(split):
    model = make_model("toy-mf", ModelInput(split.train, device=torch.device("cuda")))
    result = fit(model, split, epochs=4, lr=0.05, device="cuda", **FAST)
    assert model.user.device.type == "cuda" and result.epochs_run == 4
    assert evaluate_metric(model, split, "Recall@20") == pytest.approx(result.best_valid)


def test_progress_bar_can_be_shown(split, data, capsys):
    fit(make_model("toy-mf", data), split, epochs=1, batch_size=64, progress=True)
    assert "ToyMF" in capsys.readouterr().err


def test_training_keeps_freed_memory_for_reuse(split, data, monkeypatch):
    from mmstudy.training import loop

    calls = []
    monkeypatch.setattr(loop, "keep_freed_memory", lambda: calls.append(1) or True)
    fit(make_model("toy-mf", data), split, epochs=2, **FAST)
    assert len(calls) == 2  # once per epoch; the setting itself is applied once per process


@pytest.mark.parametrize("values, message", [
    ({"eval_memory_mb": 0}, "train.eval_memory_mb must be a finite number > 0, got 0"),
    ({"eval_memory_mb": -5.0}, "train.eval_memory_mb must be a finite number > 0, got -5.0"),
    ({"eval_memory_mb": float("inf")}, "train.eval_memory_mb must be a finite number, got inf"),
    ({"eval_memory_mb": float("nan")}, "train.eval_memory_mb must be a finite number, got nan"),
    ({"eval_memory_mb": True}, "train.eval_memory_mb must be a finite number, got True"),
    ({"epochs": 2.0}, "train.epochs must be an integer, got 2.0"),
    ({"weight_decay": -0.1}, "train.weight_decay must be a finite number >= 0, got -0.1"),
    ({"max_seconds": float("inf")}, "train.max_seconds must be a finite number, got inf"),
    ({"valid_metric": 20}, "train.valid_metric must be a string, got 20"),
])
def test_train_config_values_are_checked(values, message):
    with pytest.raises(ConfigError) as err:
        TrainConfig.from_dict(values)
    assert str(err.value) == message


def test_fit_refuses_a_bad_evaluation_budget(split, data):
    with pytest.raises(ConfigError, match="train.eval_memory_mb must be a finite number > 0, got 0"):
        fit(make_model("toy-mf", data), split, epochs=1, eval_memory_mb=0, **FAST)


def test_fit_validates_within_its_evaluation_budget(split, data, monkeypatch):
    from mmstudy.training import loop

    budgets, real = [], loop.evaluate_metric

    def spy(*args, memory_budget_mb=512, **kwargs):
        budgets.append(memory_budget_mb)
        return real(*args, memory_budget_mb=memory_budget_mb, **kwargs)

    monkeypatch.setattr(loop, "evaluate_metric", spy)
    fit(make_model("toy-mf", data), split, epochs=3, eval_memory_mb=0.001, **FAST)
    assert budgets == [0.001] * 3
