"""Hyper-parameter range checks shared by the models: a ConfigError names the parameter, the model
and the expected range."""
from __future__ import annotations

from typing import Any, Callable

from ..errors import ConfigError

_RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "positive_int": (lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1, "an integer >= 1"),
    "nonneg_int": (lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0, "an integer >= 0"),
    "nonneg": (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0, "a number >= 0"),
    "unit": (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 1,
             "a number in [0, 1]"),
    "proportion": (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v < 1,
                   "a number in [0, 1)"),
    "bool": (lambda v: isinstance(v, bool), "true or false"),
}


def check_params(model: str, params: dict[str, Any], **rules: str) -> None:
    """Raise a ConfigError naming the first parameter that breaks its rule (see `_RULES`)."""
    for key, rule in rules.items():
        test, expected = _RULES[rule]
        if not test(params[key]):
            raise ConfigError(f"hyper-parameter {key!r} of model {model} must be {expected}, got {params[key]!r}")
