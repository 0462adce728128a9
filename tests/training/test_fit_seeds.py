"""fit_seeds(): every member of a seed batch trains, stops and is restored as `fit` would do it alone."""
import dataclasses

import pytest
import torch

from mmstudy.data import make_split, make_synthetic
from mmstudy.evaluation import evaluate_metric
from mmstudy.models.base import ModelInput, make_model
from mmstudy.models.seed_batch import batch_class
from mmstudy.training import DivergenceError, TrainConfig, fit
from mmstudy.training import seed_batch as seed_training
from mmstudy.training.seed_batch import fit_seeds

CONFIG = TrainConfig(epochs=12, batch_size=256, lr=0.01, patience=2)


@pytest.fixture(scope="module")
def problem():
    data = make_synthetic(n_users=200, n_items=150, n_interactions=4000)
    split = make_split(data, method="random")
    features = {k: torch.from_numpy(m.features) for k, m in data.modalities.items()}
    return split, ModelInput(train=split.train, features=features)


def train(problem, name, seeds, config=CONFIG):
    split, data = problem
    models = [make_model(name, dataclasses.replace(data, seed=s)) for s in seeds]
    batch = batch_class(name)(models)
    return fit_seeds(batch, split, config, seeds), models


def curve(result, key):
    return [row.get(key) for row in result.curve]


@pytest.mark.parametrize("name", ["BPR-MF", "VBPR", "LightGCN", "LightGCN-M"])
def test_each_member_trains_stops_and_is_restored_as_alone(problem, name):
    split, data = problem
    results, models = train(problem, name, [0, 1, 2])
    for seed, result, model in zip([0, 1, 2], results, models):
        alone = make_model(name, dataclasses.replace(data, seed=seed))
        own = fit(alone, split, **CONFIG.replace(seed=seed).as_dict(), progress=False)
        assert (result.best_epoch, result.epochs_run, result.stop_reason) == \
            (own.best_epoch, own.epochs_run, own.stop_reason)
        assert curve(result, "Recall@20") == pytest.approx(curve(own, "Recall@20"), abs=1e-6)
        assert curve(result, "loss") == pytest.approx(curve(own, "loss"), rel=1e-5)
        assert not model.training  # restored to its own best epoch:
        assert evaluate_metric(model, split, "Recall@20") == pytest.approx(result.best_valid, abs=1e-6)


def test_members_stop_on_their_own_validation(problem):
    results, _ = train(problem, "VBPR", [0, 1, 2, 3])
    assert len({r.epochs_run for r in results}) > 1  # they do stop at different epochs here
    for result in results:
        scores = curve(result, "Recall@20")
        assert result.best_valid == max(scores) and scores.index(max(scores)) + 1 == result.best_epoch
        if result.stop_reason == "patience":
            assert result.epochs_run == result.best_epoch + CONFIG.patience
        assert [row["epoch"] for row in result.curve] == list(range(1, result.epochs_run + 1))


def test_a_members_result_does_not_depend_on_the_other_members(problem):
    base, _ = train(problem, "VBPR", [0, 1, 2])
    changed, _ = train(problem, "VBPR", [0, 7, 2])  # one seed changed, stopping elsewhere
    alone, _ = train(problem, "VBPR", [0])
    assert changed[1].curve != base[1].curve  # seeds differ ...
    for key in ("loss", "Recall@20"):  # ... but the others' runs do not move, bit for bit
        assert curve(changed[0], key) == curve(base[0], key) and curve(changed[2], key) == curve(base[2], key)
        assert curve(alone[0], key) == pytest.approx(curve(base[0], key), rel=1e-6)


def test_each_member_samples_its_own_stream(problem, monkeypatch):
    split, data = problem
    seen = []
    real_loss = batch_class("BPR-MF").loss
    monkeypatch.setattr(batch_class("BPR-MF"), "loss", lambda self, b: seen.append(b) or real_loss(self, b))
    train(problem, "BPR-MF", [3, 5], CONFIG.replace(epochs=1))
    for row, seed in enumerate([3, 5]):
        users, pos, neg = seed_training.NegativeSampler(split.train, torch.Generator().manual_seed(seed),
                                                        CONFIG.batch_size).epoch()
        assert torch.equal(torch.cat([b.neg[row] for b in seen]), neg)
        assert torch.equal(torch.cat([b.users[row] for b in seen]), users)


def test_a_diverging_member_fails_alone(problem):
    split, data = problem
    models = [make_model("BPR-MF", dataclasses.replace(data, seed=s)) for s in (0, 1, 2)]
    with torch.no_grad():
        models[1].user_embedding.fill_(float("nan"))
    results = fit_seeds(batch_class("BPR-MF")(models), split, CONFIG, [0, 1, 2])
    assert isinstance(results[1], DivergenceError)
    assert str(results[1]) == ("training loss became nan at epoch 1 of BPRMF; lower the learning rate or "
                               "check the inputs")
    healthy, _ = train(problem, "BPR-MF", [0, 2])
    assert curve(results[0], "loss") == curve(healthy[0], "loss")
    assert curve(results[2], "Recall@20") == curve(healthy[1], "Recall@20")


def test_time_budget_and_timings_are_each_members_own(problem):
    results, _ = train(problem, "LightGCN", [0, 1], CONFIG.replace(max_seconds=1e-9, eval_every=5))
    for result in results:
        assert (result.epochs_run, result.stop_reason, result.best_epoch) == (1, "max_seconds", 1)
        assert result.train_seconds > 0 and result.mean_epoch_seconds > 0 and result.mean_valid_seconds > 0
    results, _ = train(problem, "BPR-MF", [0, 1], CONFIG.replace(epochs=3, patience=9))
    for result in results:
        assert result.train_seconds == pytest.approx(sum(r["epoch_seconds"] + r["valid_seconds"] for r in result.curve))


def test_seeds_must_match_the_members(problem):
    split, data = problem
    batch = batch_class("BPR-MF")([make_model("BPR-MF", data)])
    with pytest.raises(ValueError, match="2 seeds for a batch of 1 members"):
        fit_seeds(batch, split, CONFIG, [0, 1])
