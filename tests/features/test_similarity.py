"""Linear CKA: known values, invariances, independence, shared items, bad input."""
import math

import numpy as np
import pytest
from scipy.stats import ortho_group

from mmstudy.data.modality import Modality
from mmstudy.errors import DataError
from mmstudy.features.similarity import cka_matrix, linear_cka, modality_cka, shared_items


def _x(n=300, d=12, seed=0):
    return np.random.default_rng(seed).standard_normal((n, d))


def test_cka_of_a_space_with_itself_is_one():
    x = _x()
    assert linear_cka(x, x) == pytest.approx(1.0, abs=1e-12)


def test_one_dimensional_cka_is_squared_pearson_correlation():
    rng = np.random.default_rng(1)
    a = rng.standard_normal(500)
    b = 0.6 * a + rng.standard_normal(500)
    assert linear_cka(a[:, None], b[:, None]) == pytest.approx(np.corrcoef(a, b)[0, 1] ** 2, rel=1e-10)


def test_invariant_to_orthogonal_transforms_and_isotropic_scaling():
    x = _x()
    y = np.tanh(x @ _x(12, 7, seed=2))  # a nonlinear view of x: CKA strictly between 0 and 1
    base = linear_cka(x, y)
    assert 0.1 < base < 0.99
    q = ortho_group.rvs(12, random_state=3)
    assert linear_cka(x @ q * 7.5, y) == pytest.approx(base, rel=1e-10)
    assert linear_cka(x, 0.01 * y + 4.0) == pytest.approx(base, rel=1e-10)  # scaling and shifting y


def test_not_invariant_to_anisotropic_scaling():
    x = _x()
    y = np.tanh(x @ _x(12, 7, seed=2))
    stretched = x * np.r_[100.0, np.ones(11)]
    assert abs(linear_cka(stretched, y) - linear_cka(x, y)) > 0.05


def test_independent_random_features_score_near_zero():
    assert linear_cka(_x(4000, 8, seed=4), _x(4000, 8, seed=5)) < 0.01


def test_gram_path_for_wide_features_matches_feature_path():
    x, y = _x(20, 300, seed=6), _x(20, 200, seed=7)  # n * (d1 + d2) < d1 * d2: the Gram path
    xc, yc = x - x.mean(0), y - y.mean(0)
    direct = np.linalg.norm(yc.T @ xc) ** 2 / (np.linalg.norm(xc.T @ xc) * np.linalg.norm(yc.T @ yc))
    assert linear_cka(x, y) == pytest.approx(direct, rel=1e-10)


def test_matrix_is_symmetric_with_unit_diagonal():
    x = _x()
    m = cka_matrix({"a": x, "b": x[:, :5], "c": _x(seed=9)})
    assert list(m.index) == list(m.columns) == ["a", "b", "c"]
    np.testing.assert_allclose(np.diag(m), 1.0)
    np.testing.assert_allclose(m.to_numpy(), m.to_numpy().T)
    assert m.loc["a", "b"] == pytest.approx(linear_cka(x, x[:, :5]))


def test_constant_representation_gives_nan():
    assert math.isnan(linear_cka(np.ones((10, 3)), _x(10, 3)))
    assert math.isnan(cka_matrix({"flat": np.ones((10, 2)), "x": _x(10, 2)}).loc["flat", "flat"])


@pytest.mark.parametrize("x, y, match", [
    (np.zeros(5), np.zeros((5, 2)), "2-D"),
    (np.zeros((5, 2)), np.zeros((4, 2)), "5 items but y has 4"),
    (np.zeros((1, 2)), np.zeros((1, 2)), "at least 2 items"),
    (np.full((3, 2), np.nan), np.zeros((3, 2)), "non-finite"),
])
def test_bad_input(x, y, match):
    with pytest.raises(DataError, match=match):
        linear_cka(x, y)


def _modality(features, present):
    return Modality("m", "image", np.asarray(features, np.float32), np.asarray(present, bool))


def test_shared_items_intersect_presence_and_subsample_reproducibly():
    a = _modality(_x(10, 2), [1, 1, 0, 1, 1, 1, 1, 1, 1, 1])
    b = _modality(_x(10, 3), [1, 1, 1, 1, 0, 1, 1, 1, 1, 1])
    assert shared_items({"a": a, "b": b}).tolist() == [0, 1, 3, 5, 6, 7, 8, 9]
    sub = shared_items({"a": a, "b": b}, max_items=4, seed=1)
    assert len(sub) == 4 and set(sub) <= {0, 1, 3, 5, 6, 7, 8, 9}
    np.testing.assert_array_equal(sub, shared_items({"a": a, "b": b}, max_items=4, seed=1))


def test_modality_cka_uses_shared_items_only():
    x = _x(10, 3)
    a = _modality(x, [True] * 10)
    b = _modality(np.where(np.arange(10)[:, None] < 8, x, 99.0), [True] * 8 + [False] * 2)
    matrix, n = modality_cka({"a": a, "b": b})
    assert n == 8 and matrix.loc["a", "b"] == pytest.approx(1.0)


def test_modality_cka_needs_two_shared_items():
    a = _modality(_x(3, 2), [True, False, False])
    with pytest.raises(DataError, match="only 1 item"):
        modality_cka({"a": a, "b": a})
