"""Cells: typed configs, fingerprints and their errors."""
import pytest

from mmstudy.errors import ConfigError
from mmstudy.study.cell import Cell, DataConfig, MissingConfig


def test_fingerprint_is_stable_and_content_based():
    a = Cell.from_dict({"model": "VBPR", "train": {"epochs": 3}, "labels": {"x": 1}})
    b = Cell.from_dict({"model": "VBPR", "train": {"epochs": 3}, "labels": {"x": 2}})
    c = Cell.from_dict({"model": "VBPR", "train": {"epochs": 4}})
    assert a.fingerprint == b.fingerprint  # labels only name factors
    assert a.fingerprint != c.fingerprint
    assert len(a.fingerprint) == 64


def test_round_trip_through_plain_dict():
    cell = Cell.from_dict({"model": "FREEDOM", "missing": {"setting": "same", "rate": 0.3, "strategy": "mean"},
                           "data": {"name": "synthetic", "ratios": [0.7, 0.15, 0.15]}, "cutoffs": [5, 20]})
    again = Cell.from_dict(cell.to_dict())
    assert again.fingerprint == cell.fingerprint
    assert again.missing.rate == 0.3 and again.data.ratios == (0.7, 0.15, 0.15)


@pytest.mark.parametrize("spec, message", [
    ({"modle": "VBPR"}, "Did you mean 'model'"),
    ({"data": {"nmae": "x"}}, "Did you mean 'name'"),
    ({"missing": {"setting": "same", "rate": 1.5}}, "(0, 1)"),
    ({"missing": {"setting": "half"}}, "unknown setting"),
    ({"data": {"split": "weird"}}, "unknown method"),
    ({"data": {"ratios": [0.5, 0.5, 0.5]}}, "summing to 1"),
])
def test_bad_configs_name_the_key(spec, message):
    with pytest.raises(ConfigError, match=message):
        Cell.from_dict(spec)


def test_defaults_are_a_plain_run():
    cell = Cell()
    assert cell.data == DataConfig() and cell.missing == MissingConfig()
    assert cell.missing.setting == "none"
