"""Config helpers: --set parsing, merging, YAML loading."""
import pytest

from mmstudy.config import deep_merge, load_yaml, parse_assignments
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
