import math

import numpy as np
import pytest

from mmstudy.errors import DataError
from mmstudy.missing.graph import co_interaction_graph
from mmstudy.missing.homophily import feature_homophily, modality_homophily

from .conftest import interactions, modality, random_interactions


@pytest.fixture
def two_cliques():
    """Items 0-4 and 5-9 form two cliques (no edge between them)."""
    return co_interaction_graph(interactions([list(range(5)), list(range(5, 10))], n_items=10), k=10)


def test_equal_features_across_edges_give_one(two_cliques):
    rng = np.random.default_rng(0)
    features = np.repeat(rng.normal(size=(2, 6)), 5, axis=0)  # constant within each clique
    assert feature_homophily(modality(features), two_cliques) == pytest.approx(1.0, abs=1e-6)


def test_random_features_give_about_zero():
    graph = co_interaction_graph(random_interactions(2000, 600, 0.01, seed=1), k=20)
    features = np.random.default_rng(2).random((600, 16))
    assert abs(feature_homophily(modality(features), graph)) < 0.05


def test_alternating_features_on_bipartite_graph_give_minus_one():
    # every user links one even and one odd item, so all edges join an even to an odd item
    baskets = [[i, j] for i in range(0, 8, 2) for j in range(1, 8, 2)]
    graph = co_interaction_graph(interactions(baskets, n_items=8), k=8)
    features = np.where(np.arange(8) % 2 == 0, 1.0, -1.0)[:, None] * [1.0, 2.0]
    assert feature_homophily(modality(features), graph) == pytest.approx(-1.0, abs=1e-6)


def test_only_edges_between_present_items_count(two_cliques):
    features = np.repeat([[1.0, -1.0], [-1.0, 1.0]], 5, axis=0)
    full = feature_homophily(modality(features), two_cliques)
    # absent items' rows are zeros; counting their edges would pull the value below 1
    present = np.array([1, 1, 1, 0, 0, 1, 1, 1, 0, 0], bool)
    partial = feature_homophily(modality(features, present=present), two_cliques)
    assert full == pytest.approx(1.0, abs=1e-6) and partial == pytest.approx(1.0, abs=1e-6)


def test_undefined_cases_are_nan(two_cliques):
    no_edges = modality(np.random.default_rng(0).random((10, 3)), present=[1] + [0] * 9)
    assert math.isnan(feature_homophily(no_edges, two_cliques))
    constant = modality(np.ones((10, 3)))
    assert math.isnan(feature_homophily(constant, two_cliques))


def test_per_modality_and_size_check(two_cliques):
    features = np.repeat(np.eye(2), 5, axis=0)
    out = modality_homophily({"a": modality(features, name="a"),
                              "b": modality(np.random.default_rng(3).random((10, 2)), name="b")}, two_cliques)
    assert set(out) == {"a", "b"} and out["a"] == pytest.approx(1.0) and -1 <= out["b"] <= 1
    with pytest.raises(DataError, match="10 items"):
        feature_homophily(modality(np.ones((4, 2))), two_cliques)
