"""Published reference results: every number has a source, a known metric, model and dataset."""
from collections import Counter

import pytest

from mmstudy.data import DATASETS
from mmstudy.data.sources.reference_results import MMREC_RESULTS, PUBLISHED_RESULTS, published_results
from mmstudy.evaluation import parse_metric
from mmstudy.models import MODELS


def test_every_entry_has_a_source_and_names_the_registries_know():
    assert PUBLISHED_RESULTS
    for r in PUBLISHED_RESULTS:
        assert r.source.strip() and r.published_as.strip()
        assert parse_metric(r.metric) == (r.metric.split("@")[0], 20)  # canonical spelling, cutoff 20
        assert DATASETS.canonical(r.dataset) == r.dataset
        assert MODELS.canonical(r.model) == r.model
        assert 0 < r.value < 1


def test_no_number_is_listed_twice_and_each_model_has_both_metrics():
    keys = Counter((r.dataset, r.model, r.metric) for r in PUBLISHED_RESULTS)
    assert max(keys.values()) == 1
    per_model = Counter((r.dataset, r.model) for r in PUBLISHED_RESULTS)
    assert set(per_model.values()) == {2}


@pytest.mark.parametrize("dataset, model, metric, value", [
    ("amazon-baby", "FREEDOM", "Recall@20", 0.0992), ("amazon-baby", "BPR-MF", "nDCG@20", 0.0249),
    ("amazon-sports", "BM3", "Recall@20", 0.0980), ("amazon-elec", "LightGCN", "nDCG@20", 0.0250),
])
def test_spot_checks_against_the_source_table(dataset, model, metric, value):
    """Numbers as printed in MMRec's evaluation/README.md (see the module docstring)."""
    found = [r for r in published_results(dataset) if r.model == model and r.metric == metric]
    assert [(r.value, r.source) for r in found] == [(value, MMREC_RESULTS)]


def test_datasets_without_verified_numbers_have_none():
    assert published_results("amazon-clothing") == [] and published_results("movielens-1m") == []
    assert not [r for r in published_results("amazon-elec") if r.model == "LATTICE"]  # empty in the source
