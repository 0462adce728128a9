"""Multiple-testing correction: statsmodels agreement, hand-checked values, monotonicity."""
import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from mmstudy.errors import DataError
from mmstudy.registry import UnknownNameError
from mmstudy.stats.corrections import adjust_pvalues, correction_label, correction_name

P = np.array([0.01, 0.04, 0.03, 0.005])


def test_holm_and_bh_hand_computed():
    # Holm: sorted p * (4, 3, 2, 1) = .02, .03, .06, .04 -> running max .02, .03, .06, .06
    np.testing.assert_allclose(adjust_pvalues(P, "holm"), [0.03, 0.06, 0.06, 0.02])
    # BH: sorted p * 4 / rank = .02, .02, .04, .04 (running min from the top)
    np.testing.assert_allclose(adjust_pvalues(P, "fdr_bh"), [0.02, 0.04, 0.04, 0.02])


def test_default_is_holm_not_statsmodels_default():
    p = np.array([0.001, 0.02, 0.03, 0.2, 0.5])
    np.testing.assert_allclose(adjust_pvalues(p), multipletests(p, method="holm")[1])
    assert not np.allclose(adjust_pvalues(p), multipletests(p)[1])  # statsmodels default: hs


@pytest.mark.parametrize("method", ["holm", "fdr_bh", "bonferroni", "holm-sidak", "sidak",
                                    "hommel", "fdr_by"])
def test_matches_statsmodels_and_is_monotone(method):
    rng = np.random.default_rng(5)
    p = np.concatenate([rng.uniform(0, 0.05, 6), rng.uniform(0, 1, 14)])
    adj = adjust_pvalues(p, method)
    np.testing.assert_allclose(adj, np.minimum(multipletests(p, method=method)[1], 1))
    order = np.argsort(p, kind="stable")
    assert np.all(np.diff(adj[order]) >= -1e-12)  # monotone in raw-p order
    assert np.all(adj >= p - 1e-12) and np.all(adj <= 1)


def test_names_labels_and_aliases():
    assert correction_name("BH") == "fdr_bh"
    assert correction_label("fdr_bh") == "Benjamini-Hochberg"
    assert correction_label("holm") == "Holm"
    np.testing.assert_array_equal(adjust_pvalues(P, "none"), P)
    with pytest.raises(UnknownNameError, match="Did you mean 'holm'"):
        adjust_pvalues(P, "hlm")


def test_bad_p_values_and_empty_family():
    assert adjust_pvalues([]).size == 0
    for bad in ([0.1, np.nan], [0.1, 1.5], [-0.1]):
        with pytest.raises(DataError, match="p-values must lie in"):
            adjust_pvalues(bad)


def test_holm_leaves_the_garbage_collector_as_it_found_it():
    """The freeze that makes statsmodels' gc.collect() cheap is undone, and an outer one is kept."""
    import gc

    p = np.linspace(0.001, 0.5, 8)
    adjust_pvalues(p, "holm")
    assert gc.get_freeze_count() == 0
    gc.freeze()
    try:
        np.testing.assert_allclose(adjust_pvalues(p, "holm"), multipletests(p, method="holm")[1])
        assert gc.get_freeze_count() > 0  # an unfreeze here would have emptied the permanent generation
    finally:
        gc.unfreeze()
