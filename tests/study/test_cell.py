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


def test_mechanism_and_strength_are_left_out_at_their_defaults():
    """Cells written before mechanisms keep their dict and fingerprint (see the v1 fixtures too)."""
    plain = {"model": "VBPR", "missing": {"setting": "same", "rate": 0.3, "strategy": "mean"}}
    mcar = Cell.from_dict(plain)
    explicit = Cell.from_dict({**plain, "missing": {**plain["missing"], "mechanism": "MCAR", "strength": 0}})
    assert "mechanism" not in mcar.to_dict()["missing"] and "strength" not in mcar.to_dict()["missing"]
    assert explicit.to_dict() == mcar.to_dict() and explicit.fingerprint == mcar.fingerprint
    biased = Cell.from_dict({**plain, "missing": {**plain["missing"], "mechanism": "popularity", "strength": 2}})
    assert (biased.missing.mechanism, biased.missing.strength) == ("popularity", 2.0)
    assert biased.to_dict()["missing"]["strength"] == 2.0 and biased.fingerprint != mcar.fingerprint
    again = Cell.from_dict(biased.to_dict())
    assert again.fingerprint == biased.fingerprint
    as_float = Cell.from_dict({**plain, "missing": {**plain["missing"], "mechanism": "popularity", "strength": 2.0}})
    assert as_float.fingerprint == biased.fingerprint  # 2 and 2.0 are one configuration


@pytest.mark.parametrize("missing, message", [
    ({"setting": "same", "rate": 0.5, "mechanism": "popularty"},
     "missing.mechanism: unknown missingness mechanism 'popularty'. Did you mean 'popularity'?"),
    ({"setting": "same", "rate": 0.5, "mechanism": "content", "strength": -0.5}, "strength -0.5 is negative"),
    ({"setting": "same", "rate": 0.5, "mechanism": "content", "strength": float("nan")}, "got nan"),
    ({"setting": "same", "rate": 0.5, "mechanism": "content", "strength": "high"}, "got 'high'"),
    ({"setting": "same", "rate": 0.5, "mechanism": "content", "strength": 11}, "above the maximum 10"),
    ({"setting": "same", "rate": 0.5, "strength": 1}, "mechanism 'mcar' takes no strength"),
    ({"setting": "natural", "strength": 1}, "setting 'natural' draws no synthetic mask"),
    ({"setting": "natural", "mechanism": "popularity"}, "setting 'natural' draws no synthetic mask"),
    ({"setting": "none", "mechanism": "content", "strength": 1}, "setting 'none' draws no synthetic mask"),
])
def test_bad_mechanisms_are_config_errors(missing, message):
    with pytest.raises(ConfigError, match=message):
        Cell.from_dict({"missing": missing})
