import inspect

import numpy as np
import pytest
import scipy.linalg
from scipy.stats import poisson

from mmstudy.errors import ConfigError, DataError
from mmstudy.missing.graph import co_interaction_graph
from mmstudy.missing.imputers import IMPUTERS, clamped_diffusion, get_imputer, resolve_strategy, strategy_names
from mmstudy.missing.learned import ImputationContext
from mmstudy.registry import UnknownNameError

from .conftest import modality, random_interactions

S = 1 / np.sqrt(2)


@pytest.fixture
def path_graph(path_train):
    return co_interaction_graph(path_train, k=5)


@pytest.fixture
def path_modality():
    """Items 0 and 4 observed with features [1, 0] and [0, 1]; every other item missing."""
    features = np.zeros((8, 2), np.float32)
    features[0], features[4] = [1, 0], [0, 1]
    return modality(features, present=[1, 0, 0, 0, 1, 0, 0, 0])


@pytest.fixture
def small_case():
    """A connected random graph of 15 items with 6 of them missing a 5-d modality."""
    train = random_interactions(40, 15, 0.4, seed=4)
    graph = co_interaction_graph(train, k=6)
    rng = np.random.default_rng(0)
    present = np.ones(15, bool)
    present[rng.choice(15, 6, replace=False)] = False
    return graph, modality(rng.normal(size=(15, 5)) + 2, present=present)


@pytest.fixture
def small_context(small_case):
    """small_case's modality, a fully observed second modality and the train part (learned imputers)."""
    _, mod = small_case
    image = modality(np.random.default_rng(1).normal(size=(15, 3)), name="image")
    return ImputationContext({"text": mod, "image": image}, random_interactions(40, 15, 0.4, seed=4))


def closed_form_blocks(graph, mod):
    a = graph.adjacency.toarray().astype(np.float64)
    obs = mod.present
    sources = np.hstack([mod.features[obs], np.ones((obs.sum(), 1))])
    return a[~obs][:, ~obs], a[~obs][:, obs] @ sources


def ratio(total):
    return total[:, :-1] / total[:, -1:]


@pytest.mark.parametrize("name", IMPUTERS.names())
def test_observed_rows_unchanged_missing_rows_filled(name, small_case, small_context):
    graph, mod = small_case
    out = get_imputer(name).impute(mod, graph, np.random.default_rng(0), context=small_context)
    assert np.array_equal(out.features[mod.present], mod.features[mod.present])
    filled = out.features[~mod.present]
    assert np.isfinite(filled).all() and out.present.all()
    if name not in ("zeros", "modality_dropout"):
        assert (np.abs(filled).sum(axis=1) > 0).all()
    assert out.info["imputer"] == name and out.info["imputed_items"] == 6 and out.info["fallback_items"] == 0
    assert out.info["imputer_params"] == get_imputer(name).params()


def test_simple_imputers_values(small_case):
    _, mod = small_case
    mean = mod.features[mod.present].mean(axis=0)
    assert (get_imputer("zeros").impute(mod).features[~mod.present] == 0).all()
    assert np.allclose(get_imputer("mean").impute(mod).features[~mod.present], mean, atol=1e-6)
    a = get_imputer("random").impute(mod, rng=np.random.default_rng(1)).features[~mod.present]
    b = get_imputer("random").impute(mod, rng=np.random.default_rng(1)).features[~mod.present]
    assert np.array_equal(a, b) and (a >= 0).all() and (a < 1).all()


def test_random_matched_follows_observed_moments():
    rng = np.random.default_rng(2)
    present = rng.random(4000) < 0.5
    mod = modality(rng.normal(loc=[5, -3], scale=[2, 0.5], size=(4000, 2)), present=present)
    filled = get_imputer("random_matched").impute(mod, rng=rng).features[~present]
    assert np.allclose(filled.mean(axis=0), [5, -3], atol=0.15)
    assert np.allclose(filled.std(axis=0), [2, 0.5], atol=0.1)


@pytest.mark.parametrize("hops, expected", [
    (1, {1: [S, 0], 2: [0.5, 0.5], 3: [0, S]}),  # item 2 not reached yet: observed-mean fallback
    (2, {1: [S, 0], 2: [S / 2, S / 2], 3: [0, S]}),
    (3, {1: [1.25 * S, 0.25 * S], 2: [S / 2, S / 2], 3: [0.25 * S, 1.25 * S]}),
])
def test_propagation_on_path_graph_hand_computed(hops, expected, path_graph, path_modality):
    out = get_imputer("propagation", hops=hops).impute(path_modality, path_graph)
    for item, value in expected.items():
        assert np.allclose(out.features[item], value, atol=1e-6), (item, out.features[item])


def test_graph_fallback_for_isolated_and_unreached_items(path_graph, path_modality):
    mean = np.array([0.5, 0.5], np.float32)
    # item 5 is isolated; items 6-7 only touch each other (both missing); item 2 has no observed
    # 1-hop neighbour, so the 1-hop neighbour mean falls back for it too
    for name, fallbacks in [("propagation", 3), ("ppr", 3), ("heat", 3), ("neighbour_mean", 4)]:
        out = get_imputer(name).impute(path_modality, path_graph)
        assert out.info["fallback_items"] == fallbacks, name
        assert np.allclose(out.features[5:], mean)
    one_hop = get_imputer("propagation", hops=1).impute(path_modality, path_graph)
    assert one_hop.info["fallback_items"] == 4  # item 2 is two hops from any observed item
    assert np.allclose(one_hop.features[2], mean)


def test_neighbour_mean_is_mean_of_observed_neighbours(small_case):
    graph, mod = small_case
    out = get_imputer("neighbour_mean").impute(mod, graph)
    w = graph.weights.toarray() > 0
    for item in np.flatnonzero(~mod.present):
        neighbours = w[item] & mod.present
        assert np.allclose(out.features[item], mod.features[neighbours].mean(axis=0), atol=1e-5)


def test_ppr_converges_to_closed_form(small_case):
    graph, mod = small_case
    a_mm, b = closed_form_blocks(graph, mod)
    alpha = 0.3
    exact = ratio(np.linalg.inv(np.eye(len(a_mm)) - (1 - alpha) * a_mm) @ b)
    out = get_imputer("ppr", alpha=alpha, hops=100).impute(mod, graph)
    assert np.allclose(out.features[~mod.present], exact, atol=1e-4)
    truncated = get_imputer("ppr", alpha=alpha, hops=2).impute(mod, graph)
    assert not np.allclose(truncated.features[~mod.present], exact, atol=1e-4)


def test_heat_converges_to_closed_form(small_case):
    graph, mod = small_case
    a_mm, b = closed_form_blocks(graph, mod)
    t = 3.0
    laplacian = np.eye(len(a_mm)) - a_mm
    exact = ratio(np.linalg.solve(laplacian, (np.eye(len(a_mm)) - scipy.linalg.expm(-t * laplacian)) @ b))
    out = get_imputer("heat", t=t, hops=60).impute(mod, graph)
    assert np.allclose(out.features[~mod.present], exact, atol=1e-4)
    # the truncated series is the documented Poisson-weighted path sum
    series = sum(poisson.sf(k, t) * np.linalg.matrix_power(a_mm, k) @ b for k in range(4))
    assert np.allclose(get_imputer("heat", t=t, hops=4).impute(mod, graph).features[~mod.present],
                       ratio(series), atol=1e-5)


def test_propagation_converges_to_harmonic_solution(small_case):
    graph, mod = small_case
    a_mm, b = closed_form_blocks(graph, mod)
    exact = (np.linalg.inv(np.eye(len(a_mm)) - a_mm) @ b)[:, :-1]
    out = get_imputer("propagation", hops=300).impute(mod, graph)
    assert np.allclose(out.features[~mod.present], exact, atol=1e-3)


def test_nothing_missing_returns_same_features(small_case):
    graph, mod = small_case
    full = modality(mod.features * mod.present[:, None] + 1)
    out = get_imputer("propagation").impute(full, graph)
    assert np.array_equal(out.features, full.features) and out.info["imputed_items"] == 0


def test_input_errors(small_case, path_graph):
    graph, mod = small_case
    with pytest.raises(ConfigError, match="needs the item co-interaction graph"):
        get_imputer("ppr").impute(mod)
    with pytest.raises(ConfigError, match="numpy Generator"):
        get_imputer("random").impute(mod)
    with pytest.raises(DataError, match="8 items"):
        get_imputer("heat").impute(mod, path_graph)
    nothing = modality(np.ones((15, 5)), present=np.zeros(15, bool))
    with pytest.raises(DataError, match="no observed items"):
        get_imputer("mean").impute(nothing)
    assert get_imputer("zeros").impute(nothing).present.all()


@pytest.mark.parametrize("name, params, message", [
    ("propagation", {"hops": 0}, "hops"),
    ("propagation", {"hops": 2.5}, "hops"),
    ("ppr", {"alpha": 1.0}, "alpha"),
    ("heat", {"t": -1}, "time"),
    ("mean", {"hops": 3}, "unknown parameters"),
    ("dropped", {}, "strategy, not an imputer"),
])
def test_bad_parameters(name, params, message):
    with pytest.raises(ConfigError, match=message):
        get_imputer(name, **params)


def test_registry_names_aliases_and_suggestions():
    assert strategy_names()[0] == "dropped" and set(IMPUTERS.names()) <= set(strategy_names())
    assert {"zeros", "mean", "random", "random_matched", "neighbour_mean", "propagation", "ppr", "heat",
            "cross_modal", "autoencoder", "graph_autoencoder", "modality_dropout"} == set(IMPUTERS.names())
    assert resolve_strategy("GAE") == "graph_autoencoder" and resolve_strategy("ae") == "autoencoder"
    with pytest.raises(UnknownNameError, match="Did you mean 'cross_modal'"):
        resolve_strategy("crossmodal_ridge")
    with pytest.raises(UnknownNameError, match="Did you mean 'modality_dropout'"):
        resolve_strategy("modality_dropuot")
    assert get_imputer("FEAT_PROP", hops=3).params() == {"hops": 3}
    assert resolve_strategy("Dropped") == "dropped" and resolve_strategy("pers_page_rank") == "ppr"
    with pytest.raises(UnknownNameError, match="Did you mean 'propagation'"):
        resolve_strategy("propagaton")
    with pytest.raises(UnknownNameError, match="Did you mean 'heat'"):
        get_imputer("haet")


@pytest.mark.parametrize("name", IMPUTERS.names())
def test_param_grids_are_valid_parameters(name):
    cls = IMPUTERS.get(name)
    assert set(cls.param_grid) <= set(inspect.signature(cls).parameters)
    for key, values in cls.param_grid.items():
        for value in values:
            assert get_imputer(name, **{key: value}).params()[key] == value


def test_column_blocking_does_not_change_results(small_case):
    graph, mod = small_case
    coefficients = np.array([1.0, 0.5, 0.25])
    whole = clamped_diffusion(graph.adjacency, mod, coefficients, normalise=True, block=64)
    blocked = clamped_diffusion(graph.adjacency, mod, coefficients, normalise=True, block=2)
    assert np.allclose(whole[0], blocked[0]) and np.array_equal(whole[1], blocked[1])
