"""Learned imputers: fitted on training-observed rows only, recorded, deterministic, better than the mean."""
import numpy as np
import pytest
import scipy.sparse as sp

from mmstudy.data import load_dataset, make_split
from mmstudy.data.split import Split
from mmstudy.errors import ConfigError, DataError
from mmstudy.missing import learned
from mmstudy.missing.handling import handle_missing, mask_for
from mmstudy.missing.imputers import get_imputer
from mmstudy.missing.learned import ImputationContext, expected_fit_rows, fit_view, row_set, training_items
from mmstudy.study.cell import MissingConfig

from .conftest import interactions, modality

LEARNED = ["cross_modal", "autoencoder", "graph_autoencoder"]


@pytest.fixture(scope="module")
def data():
    """Correlated image/text features (both derived from the items' latent factors), no natural gaps."""
    ds = load_dataset("synthetic", n_users=300, n_items=240, n_interactions=6000, seed=2,
                      missing_share={"image": 0.0, "text": 0.0})
    return ds, make_split(ds, method="random", seed=0)


def run(data, strategy, setting="independent", rate=0.4, seed=0, params=None, modalities=None):
    ds, split = data
    cfg = MissingConfig(setting=setting, rate=rate, target="image" if setting == "single" else None,
                        mask_seed=seed, strategy=strategy, graph_k=10)
    return handle_missing(modalities or ds.modalities, split, cfg, params or {})


# ---------------------------------------------------------------- the fit rows

def test_training_items_row_sets_and_the_fit_view():
    train = interactions([[0, 1], [1, 3]], n_items=5)
    items = training_items(train)
    assert items.tolist() == [True, True, False, True, False]
    assert row_set(items) == {"rows": 3, "sha256": row_set(np.array([1, 1, 0, 1, 0], bool))["sha256"]}
    assert row_set(items)["sha256"] != row_set(np.array([1, 1, 1, 0, 0], bool))["sha256"]
    mod = modality(np.arange(10, dtype=np.float32).reshape(5, 2) + 1, present=[1, 0, 1, 1, 1])
    view = fit_view({"text": mod}, items)["text"]
    assert view.present.tolist() == [True, False, False, True, False]
    assert (view.features[~view.present] == 0).all() and (view.features[view.present] == mod.features[view.present]).all()
    with pytest.raises(DataError, match="sparse"):
        training_items(np.ones((2, 5)))


def test_expected_fit_rows_come_from_the_mask_and_the_train_part(data):
    ds, split = data
    mask = mask_for(ds.modalities, MissingConfig(setting="independent", rate=0.4, mask_seed=0))
    expected = expected_fit_rows(ds.modalities, mask.missing, split.train)
    items = np.asarray(split.train.sum(axis=0)).ravel() > 0
    for name, m in ds.modalities.items():
        assert expected[name] == row_set(m.present & ~mask.missing[name] & items)
        assert expected[name]["rows"] < m.n_items
    assert expected_fit_rows(ds.modalities, None, split.train)["image"] == row_set(items)


@pytest.mark.parametrize("strategy", LEARNED)
def test_recorded_fit_rows_are_the_expected_training_observed_rows(data, strategy):
    out = run(data, strategy)
    assert set(out.info["expected_fit_rows"]) == {"image", "text"}
    for name, record in out.info["imputation"].items():
        want = out.info["expected_fit_rows"][name]
        assert (record["fitted_rows"], record["fitted_rows_sha256"]) == (want["rows"], want["sha256"])
        assert record["fit_seconds"] >= 0


@pytest.mark.parametrize("strategy", LEARNED)
def test_learners_never_see_masked_rows_or_items_without_training(data, strategy, monkeypatch):
    ds, split = data
    train = split.train.tolil()
    train[:, :30] = 0  # items 0-29 keep their content but lose their training interactions
    cold = Split(sp.csr_matrix(train), split.valid, split.test, method=split.method, seed=split.seed)
    seen = []
    original = learned.BlockScaler.fit
    monkeypatch.setattr(learned.BlockScaler, "fit", classmethod(lambda cls, view: seen.append(view) or original(view)))
    out = run((ds, cold), strategy)
    mask = mask_for(ds.modalities, MissingConfig(setting="independent", rate=0.4, mask_seed=0))
    no_train = ~training_items(cold.train)
    assert seen and no_train[:30].all() and not no_train[30:].any()
    assert out.info["expected_fit_rows"]["image"]["rows"] == (~mask.missing["image"][30:]).sum()
    for view in seen:
        for name, m in view.items():
            assert not (m.present & (mask.missing[name] | no_train)).any()
            assert (m.features[mask.missing[name] | no_train] == 0).all()


@pytest.mark.parametrize("strategy", LEARNED)
def test_imputations_do_not_depend_on_the_masked_truth(data, strategy):
    """Replacing the true content of every masked row (the truth a leak would read) changes nothing."""
    ds, split = data
    mask = mask_for(ds.modalities, MissingConfig(setting="independent", rate=0.4, mask_seed=0))
    forged = {k: m.with_features(np.where(mask.missing[k][:, None], 123.0, m.features)) for k, m in ds.modalities.items()}
    a, b = run(data, strategy), run(data, strategy, modalities=forged)
    for name in ds.modalities:
        assert np.array_equal(a.modalities[name].features, b.modalities[name].features)


@pytest.mark.parametrize("strategy", LEARNED)
def test_learned_imputers_are_deterministic_for_a_seed(data, strategy):
    first, again, other = run(data, strategy), run(data, strategy), run(data, strategy, seed=1)
    for name in ("image", "text"):
        assert np.array_equal(first.modalities[name].features, again.modalities[name].features)
        assert not np.array_equal(first.modalities[name].features, other.modalities[name].features)


# ---------------------------------------------------------------- imputation quality on correlated modalities

@pytest.mark.parametrize("strategy, setting", [("cross_modal", "single"), ("autoencoder", "single"),
                                               ("propagation", "same"), ("graph_autoencoder", "same")])
def test_learned_and_graph_imputers_beat_the_mean_on_cosine(data, strategy, setting):
    mean = run(data, "mean", setting)
    better = run(data, strategy, setting)
    for name, q in better.info["quality"].items():
        assert q["rows"] == mean.info["quality"][name]["rows"] > 20
        assert q["cosine"] > mean.info["quality"][name]["cosine"] + 0.3, (name, q, mean.info["quality"][name])
        if strategy != "propagation":  # unnormalised multi-hop sums: better directions, not scale
            assert q["rse"] < mean.info["quality"][name]["rse"]


def test_fallback_when_an_item_has_no_other_observed_modality(data):
    """'same' masks both modalities on the same items: nothing to predict from but the neighbours."""
    ds, _ = data
    mask = mask_for(ds.modalities, MissingConfig(setting="same", rate=0.4, mask_seed=0))
    for strategy in ("cross_modal", "autoencoder"):
        out = run(data, strategy, "same")
        for name, record in out.info["imputation"].items():
            assert record["fallback_items"] == record["imputed_items"] > 0
            observed_mean = ds.modalities[name].features[~mask.missing[name]].mean(axis=0)
            assert np.allclose(out.modalities[name].features[mask.missing[name]], observed_mean, atol=1e-5)
    graph_ae = run(data, "graph_autoencoder", "same")
    assert all(r["fallback_items"] < r["imputed_items"] for r in graph_ae.info["imputation"].values())


def test_cross_modal_is_the_closed_form_ridge():
    rng = np.random.default_rng(0)
    source = rng.normal(size=(60, 4))
    target = source @ rng.normal(size=(4, 3)) + 0.01 * rng.normal(size=(60, 3)) + 5
    present = np.ones(60, bool)
    present[:10] = False
    mods = {"a": modality(source, name="a"), "b": modality(target, present=present, name="b")}
    context = ImputationContext(mods, sp.csr_matrix(np.ones((3, 60), np.float32)))
    out = get_imputer("cross_modal", alpha=1e-6).impute(mods["b"], context=context)
    assert np.allclose(out.features[:10], target[:10], atol=0.05)
    assert out.info["fallback_items"] == 0 and out.info["fitted_rows"] == 50
    shrunk = get_imputer("cross_modal", alpha=100.0).impute(mods["b"], context=context).features[:10]
    assert np.abs(shrunk - target[50:].mean(axis=0)).mean() < np.abs(out.features[:10] - target[50:].mean(axis=0)).mean()


# ---------------------------------------------------------------- bad input

def test_single_modality_data_is_a_clear_error(data):
    ds, split = data
    only = {"image": ds.modalities["image"]}
    for strategy in ("cross_modal", "autoencoder"):
        with pytest.raises(ConfigError, match="other modalities, but the data has only \\['image'\\]"):
            run(data, strategy, "single", modalities=only)
    assert run(data, "graph_autoencoder", "single", modalities=only).info["imputation"]["image"]["imputed_items"] > 0


def test_context_errors(data):
    ds, split = data
    mod = modality(np.ones((4, 2)), present=[1, 0, 1, 1])
    with pytest.raises(ConfigError, match="is learned: it needs an ImputationContext"):
        get_imputer("cross_modal").impute(mod)
    other = {"image": modality(np.ones((4, 3)), name="image")}
    with pytest.raises(DataError, match="not in its context"):
        get_imputer("cross_modal").impute(mod, context=ImputationContext(other, sp.csr_matrix(np.ones((2, 4)))))
    with pytest.raises(DataError, match="the modalities have 4 items but the train part has 5"):
        ImputationContext({"text": mod}, sp.csr_matrix(np.ones((2, 5))))
    cold = ImputationContext({"text": mod, **other}, sp.csr_matrix((2, 4), dtype=np.float32))
    with pytest.raises(DataError, match="no observed row among the items with training interactions"):
        get_imputer("autoencoder").impute(mod, context=cold)
    with pytest.raises(ConfigError, match="needs the item co-interaction graph"):
        get_imputer("graph_autoencoder").impute(mod, context=cold)


@pytest.mark.parametrize("name, params, message", [
    ("cross_modal", {"alpha": 0}, "alpha \\(ridge penalty\\) must be a number > 0, got 0"),
    ("cross_modal", {"alpha": "big"}, "got 'big'"),
    ("autoencoder", {"hidden": 0}, "autoencoder hidden must be an integer >= 1, got 0"),
    ("graph_autoencoder", {"epochs": 2.5}, "graph_autoencoder epochs must be an integer >= 1, got 2.5"),
    ("autoencoder", {"lr": 0}, "autoencoder lr must be a number > 0, got 0"),
    ("autoencoder", {"weight_decay": -1}, "weight_decay must be a number >= 0"),
    ("graph_autoencoder", {"drop": 0}, "drop must be a number in \\(0, 1\\], got 0"),
    ("autoencoder", {"hops": 3}, "unknown parameters \\['hops'\\]"),
    ("modality_dropout", {"rate": 1.0}, "rate \\(share of content rows dropped per epoch\\) must be in \\[0, 1\\)"),
])
def test_bad_parameters(name, params, message):
    with pytest.raises(ConfigError, match=message):
        get_imputer(name, **params)
