"""Registries: case-insensitive lookup and "did you mean" errors."""
import pytest

from mmstudy.registry import Registry, UnknownNameError


def test_case_insensitive_lookup_and_aliases():
    reg = Registry("model")
    reg.add("FREEDOM", "freedom-object", "fr")
    assert reg.get("freedom") == "freedom-object" and reg.get("FR") == "freedom-object"
    assert reg.canonical("fr") == "FREEDOM"
    assert reg.names() == ["FREEDOM"]


def test_unknown_name_suggests_closest_once():
    reg = Registry("model")
    reg.add("LightGCN", 1, "lightgcn-model", "lgcn")
    reg.add("LightGCN-M", 2)
    with pytest.raises(UnknownNameError) as err:
        reg.get("lightgnc")
    text = str(err.value)
    suggestions = text.split("Known")[0]
    assert "Did you mean 'LightGCN'" in text and suggestions.count("'LightGCN'") == 1
    assert "Known: LightGCN, LightGCN-M" in text


def test_duplicate_registration_is_refused():
    reg = Registry("imputer")
    reg.add("zeros", 1)
    with pytest.raises(ValueError, match="already registered"):
        reg.add("ZEROS", 2)


def test_real_registries_answer_with_suggestions():
    from mmstudy.models import MODELS
    with pytest.raises(UnknownNameError, match="Did you mean 'FREEDOM'"):
        MODELS.get("freedon")
