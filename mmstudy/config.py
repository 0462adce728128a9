"""Typed, frozen configuration objects built from plain mappings (YAML, CLI `--set`).

Unknown keys are errors that name the key, where it was found and the closest known key.
"""
from __future__ import annotations

import dataclasses
import difflib
import re
from pathlib import Path
from typing import Any, Mapping, TypeVar

import yaml

from .errors import ConfigError, decode_utf8

T = TypeVar("T")


class SafeLoader(yaml.SafeLoader):
    """yaml.SafeLoader that also reads exponent floats without a dot (`1e-3`) as numbers."""


SafeLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"), list("-+0123456789"))


def safe_load(text: str):
    """Parse YAML with the safe loader (no arbitrary Python objects)."""
    return yaml.load(text, Loader=SafeLoader)  # noqa: S506 - SafeLoader subclass


def check_keys(mapping: Mapping[str, Any], known: list[str] | set[str], where: str) -> None:
    """Raise ConfigError for the first key of `mapping` not in `known`."""
    for key in mapping:
        if key not in known:
            close = difflib.get_close_matches(str(key), list(known), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ConfigError(f"unknown key {key!r} in {where}.{hint} Known keys: {sorted(known)}")


def from_mapping(cls: type[T], mapping: Mapping[str, Any] | None, where: str) -> T:
    """Build dataclass `cls` from `mapping`, rejecting unknown keys; lists become tuples."""
    mapping = dict(mapping or {})
    if not isinstance(mapping, dict):
        raise ConfigError(f"{where} must be a mapping, got {type(mapping).__name__}")
    names = {f.name for f in dataclasses.fields(cls) if f.init}
    check_keys(mapping, names, where)
    return cls(**{k: _freeze(v) for k, v in mapping.items()})


def _freeze(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


def parse_value(text: str) -> Any:
    """A `--set key=value` value: YAML scalars/lists (so 1e-3, true, [1,2] work), else the string."""
    try:
        return safe_load(text)
    except yaml.YAMLError:
        return text


def parse_assignments(items: list[str] | None) -> dict[str, Any]:
    """Parse `key=value` strings into a nested dict (`train.lr=1e-3` -> {"train": {"lr": 0.001}})."""
    out: dict[str, Any] = {}
    for item in items or []:
        if "=" not in item:
            raise ConfigError(f"--set expects key=value, got {item!r}")
        key, value = item.split("=", 1)
        node = out
        *parents, leaf = key.strip().split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = parse_value(value)
    return out


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def load_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML mapping with yaml.safe_load; errors name the file."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        data = safe_load(decode_utf8(path.read_bytes(), path, ConfigError))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return data


def as_plain(obj: Any) -> Any:
    """A dataclass/tuple tree as plain JSON-able dicts and lists (for manifests and fingerprints)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: as_plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [as_plain(v) for v in obj]
    if isinstance(obj, Mapping):
        return {str(k): as_plain(v) for k, v in obj.items()}
    return obj
