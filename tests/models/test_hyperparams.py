"""Hyper-parameter range checks name the parameter, the model and the expected range."""
import pytest

from mmstudy.errors import ConfigError
from mmstudy.models.hyperparams import check_params


@pytest.mark.parametrize("rule,bad", [("positive_int", 0), ("positive_int", 2.5), ("nonneg_int", -1),
                                      ("nonneg", -0.1), ("unit", 1.5), ("proportion", 1.0), ("bool", 1),
                                      ("positive_int", True)])
def test_check_params_names_the_offending_key(rule, bad):
    with pytest.raises(ConfigError, match="'knob' of model M must be"):
        check_params("M", {"knob": bad}, knob=rule)


def test_check_params_accepts_valid_values():
    check_params("M", {"a": 1, "b": 0, "c": 0.0, "d": 1.0, "e": 0.5, "f": False},
                 a="positive_int", b="nonneg_int", c="nonneg", d="unit", e="proportion", f="bool")
