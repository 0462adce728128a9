"""Config helpers: --set parsing, merging, YAML loading."""
from typing import Any, Mapping

import pytest

from mmstudy.config import check_unique, check_value, deep_merge, load_yaml, located, parse_assignments
from mmstudy.errors import ConfigError


def test_parse_assignments_nests_and_types_values():
    out = parse_assignments(["train.lr=1e-3", "train.epochs=5", "data.modalities=[text]", "name=x"])
    assert out == {"train": {"lr": 0.001, "epochs": 5}, "data": {"modalities": ["text"]}, "name": "x"}


def test_parse_assignments_rejects_missing_equals():
    with pytest.raises(ConfigError, match="key=value"):
        parse_assignments(["epochs"])


def test_deep_merge_overrides_leaves_only():
    assert deep_merge({"a": {"b": 1, "c": 2}}, {"a": {"c": 3}}) == {"a": {"b": 1, "c": 3}}


def test_load_yaml_errors_name_the_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [1, 2\n")
    with pytest.raises(ConfigError, match="bad.yaml"):
        load_yaml(bad)
    with pytest.raises(ConfigError, match="not found"):
        load_yaml(tmp_path / "missing.yaml")
    scalar = tmp_path / "scalar.yaml"
    scalar.write_text("3\n")
    with pytest.raises(ConfigError, match="mapping"):
        load_yaml(scalar)


def test_yaml_is_loaded_safely(tmp_path):
    evil = tmp_path / "evil.yaml"
    evil.write_text("a: !!python/object/apply:os.system ['echo hacked']\n")
    with pytest.raises(ConfigError):
        load_yaml(evil)


def test_load_yaml_non_utf8_names_file_byte_and_line(tmp_path):
    bad = tmp_path / "study.yaml"
    bad.write_bytes(b"name: x\n\nquestion: caf\xe9\n")
    with pytest.raises(ConfigError, match=r"study\.yaml: not valid UTF-8 at byte 22 \(line 3\): b'\\xe9'"):
        load_yaml(bad)
    bom = tmp_path / "bom.yaml"
    bom.write_bytes(b"\xef\xbb\xbfname: x\n")
    assert load_yaml(bom) == {"name": "x"}


@pytest.mark.parametrize("value, hint, message", [
    (True, int, "x must be an integer, got True"),
    (2.0, int, "x must be an integer, got 2.0"),
    ("1", float, "x must be a finite number, got '1'"),
    (float("inf"), float, "x must be a finite number, got inf"),
    ("yes", bool, "x must be true or false, got 'yes'"),
    ("0.5", tuple[float, ...], "x must be a list of finite numbers, got '0.5'"),
    ([1, "a"], tuple[int, ...], "x[1] must be an integer, got 'a'"),
    ([0.5, 0.5], tuple[float, float, float], "x must be a list of 3 values, got [0.5, 0.5]"),
    (["a"], Mapping[str, Any], "x must be a mapping (key: value), got ['a']"),
    ({"m": {"k": 3}}, Mapping[str, Mapping[str, tuple]], "x.m.k must be a list, got 3"),
    (3, tuple[str, ...] | None, "x must be a list of strings, got 3"),
])
def test_check_value_names_the_key_and_the_expected_type(value, hint, message):
    with pytest.raises(ConfigError) as err:
        check_value(value, hint, "x")
    assert str(err.value) == message


@pytest.mark.parametrize("value, hint", [(3, int), (3, float), (0.5, float), (None, int | None), ([], tuple[int, ...]),
                                         ({"a": [1]}, Mapping[str, tuple]), ("anything", Any)])
def test_check_value_accepts_values_of_the_type(value, hint):
    check_value(value, hint, "x")


def test_check_unique_names_repeats_and_located_prefixes_once():
    with pytest.raises(ConfigError, match=r"^seeds lists 1, 0 more than once; list each once$"):
        check_unique([0, 1, 1, 0, 1], "seeds")
    with pytest.raises(ConfigError, match="^seeds is empty$"):
        check_unique([], "seeds")
    with pytest.raises(ConfigError, match=r"^study\.yaml: train\.lr is bad$"):
        with located("study.yaml"):
            raise ConfigError("train.lr is bad")
    with pytest.raises(ConfigError, match=r"^unknown key 'x' in study\.yaml: data\.$"):
        with located("study.yaml"):
            raise ConfigError("unknown key 'x' in study.yaml: data.")
