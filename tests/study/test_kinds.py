"""The study-kind registry: plug-ins found by name, "did you mean" for unknown kinds, one record per
plug-in file, and a kind's section parsed with unknown keys refused."""
import pytest

from mmstudy.errors import ConfigError
from mmstudy.registry import UnknownNameError
from mmstudy.study.kinds import STUDY_KINDS, StudyKind, register_kind, study_kind
from mmstudy.study.spec import parse_spec


def test_built_in_kinds_are_found_by_name_and_case_insensitively():
    assert study_kind("Missing").name == "missing"
    assert study_kind("compare").default_config == "compare-quick.yaml"


def test_unknown_kinds_suggest_the_closest():
    with pytest.raises(UnknownNameError, match="unknown study kind 'fuson'. Did you mean 'fusion'"):
        study_kind("fuson")


def test_a_second_plugin_of_the_same_name_is_refused_and_the_same_file_replaces_itself():
    original = study_kind("compare")
    clone = StudyKind(**{**original.__dict__, "title": "again"})
    assert register_kind(clone) is clone and study_kind("compare").title == "again"  # the same file: replaced
    register_kind(original)
    stranger = StudyKind(**{**original.__dict__, "cells": lambda spec, section: []})
    with pytest.raises(ValueError, match="already registered"):
        register_kind(stranger)
    assert STUDY_KINDS.get("compare") is original


def test_sections_are_parsed_by_the_kind_with_unknown_keys_refused():
    kind = study_kind("compare")
    spec = parse_spec({"name": "t", "models": ["BPR-MF", "VBPR"], "compare": {"reference": "VBPR"}}, "compare", "t")
    assert kind.parse_section(spec).reference == "VBPR"
    bad = parse_spec({"name": "t", "models": ["BPR-MF"], "compare": {"referense": "VBPR"}}, "compare", "t")
    with pytest.raises(ConfigError, match="unknown key 'referense'.*Did you mean 'reference'"):
        kind.expand(bad)
