"""Typed, frozen configuration objects built from plain mappings (YAML, CLI `--set`).

Unknown keys are errors that name the key, where it was found and the closest known key.
"""
from __future__ import annotations

import collections.abc
import dataclasses
import difflib
import math
import re
import types
import typing
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Mapping, TypeVar, Union

import yaml

from .errors import ConfigError, decode_utf8
from .registry import UnknownNameError

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


@contextmanager
def located(where: str) -> Iterator[None]:
    """Prefix `where: ` (a file, a flag) to the message of a ConfigError or an unknown name raised
    in the block, unless the message already names it (starts with it, or names `where.key` or
    `where: ...` after a space)."""
    try:
        yield
    except (ConfigError, UnknownNameError) as exc:
        message = str(exc)
        if message.startswith(where) or f" {where}." in message or f" {where}:" in message:
            raise
        raise type(exc)(f"{where}: {message}") from None


def from_mapping(cls: type[T], mapping: Mapping[str, Any] | None, where: str) -> T:
    """Build dataclass `cls` from `mapping`, rejecting unknown keys and values of the wrong type
    (see `check_value`); lists become tuples."""
    if mapping is None:
        mapping = {}
    if not isinstance(mapping, Mapping):
        raise ConfigError(f"{where} must be a mapping (key: value), got {mapping!r}")
    mapping = dict(mapping)
    names = {f.name for f in dataclasses.fields(cls) if f.init}
    check_keys(mapping, names, where)
    hints = typing.get_type_hints(cls)
    for key, value in mapping.items():
        check_value(value, hints[key], f"{where}.{key}")
    return cls(**{k: _freeze(v) for k, v in mapping.items()})


def check_unique(values, where: str) -> None:
    """Refuse a list that is empty or names a value more than once (naming the repeats)."""
    if not values:
        raise ConfigError(f"{where} is empty")
    seen, repeated = set(), []
    for value in values:
        if value in seen and value not in repeated:
            repeated.append(value)
        seen.add(value)
    if repeated:
        raise ConfigError(f"{where} lists {', '.join(map(repr, repeated))} more than once; list each once")


def check_value(value: Any, hint: Any, where: str) -> None:
    """Raise ConfigError naming `where` when `value` does not have the type `hint` describes.

    int: an integer (not a boolean); float: a finite number (not a boolean); bool: true/false;
    str: a string; tuple[T, ...]: a list of T; Mapping[K, V]: a mapping whose values are V;
    X | None: X or null. Other hints (Any, nested dataclasses) accept any value.
    """
    if _matches(value, hint):
        _check_items(value, hint, where)
        return
    raise ConfigError(f"{where} must be {describe_type(hint)}, got {value!r}")


def _arms(hint: Any) -> tuple:
    """The alternatives of a union hint (itself otherwise)."""
    return typing.get_args(hint) if typing.get_origin(hint) in (Union, types.UnionType) else (hint,)


def _matches(value: Any, hint: Any) -> bool:
    for arm in _arms(hint):
        origin = typing.get_origin(arm) or arm
        if arm is type(None):
            ok = value is None
        elif arm is bool:
            ok = isinstance(value, bool)
        elif arm is int:
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif arm is float:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        elif arm is str:
            ok = isinstance(value, str)
        elif origin is tuple:
            ok = isinstance(value, (list, tuple))
        elif origin in _MAPPINGS:
            ok = isinstance(value, Mapping)
        else:  # Any, dataclasses, ...: checked where they are built
            ok = True
        if ok:
            return True
    return False


def _check_items(value: Any, hint: Any, where: str) -> None:
    """Check the elements of a list or the values of a mapping against their hints."""
    arm = next(a for a in _arms(hint) if _matches(value, a))
    origin, args = typing.get_origin(arm), typing.get_args(arm)
    if origin is tuple and args:
        items = args[:1] * len(value) if len(args) == 2 and args[1] is Ellipsis else args
        if len(items) != len(value):
            raise ConfigError(f"{where} must be {describe_type(arm)}, got {value!r}")
        for i, (item, item_hint) in enumerate(zip(value, items)):
            check_value(item, item_hint, f"{where}[{i}]")
    elif origin in _MAPPINGS and len(args) == 2:
        for key, item in value.items():
            check_value(item, args[1], f"{where}.{key}")


_MAPPINGS = (collections.abc.Mapping, Mapping, dict)
_NAMES = {int: ("an integer", "integers"), float: ("a finite number", "finite numbers"),
          bool: ("true or false", "true/false values"), str: ("a string", "strings")}


def describe_type(hint: Any, plural: bool = False) -> str:
    """'an integer', 'a list of finite numbers', 'a mapping', ... for an error message."""
    arms = [a for a in _arms(hint) if a is not type(None)]
    if len(arms) != len(_arms(hint)):  # optional: the description of the rest
        return describe_type(arms[0] if len(arms) == 1 else Union[tuple(arms)], plural)
    if len(arms) > 1:
        return " or ".join(describe_type(a, plural) for a in arms)
    hint = arms[0]
    origin, args = typing.get_origin(hint) or hint, typing.get_args(hint)
    if hint in _NAMES:
        return _NAMES[hint][plural]
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return f"{'lists' if plural else 'a list'} of {describe_type(args[0], plural=True)}"
        return f"{'lists' if plural else 'a list'}" + (f" of {len(args)} values" if args else "")
    if origin in _MAPPINGS:
        return "mappings" if plural else "a mapping (key: value)"
    return "values" if plural else "a value"


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


def yaml_problem(exc: yaml.YAMLError) -> str:
    """PyYAML's multi-line error as one line: where (line:column, counted from 1), what, and while
    doing what, e.g. "line 4, column 7: expected ',' or '}', but got ':' (while parsing a flow mapping
    that starts at line 4, column 7)"."""
    problem = getattr(exc, "problem", None)
    if problem is None:
        return " ".join(str(exc).split())
    mark, context, start = exc.problem_mark, exc.context, exc.context_mark
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    during = ""
    if context:
        at = f" that starts at line {start.line + 1}, column {start.column + 1}" if start is not None else ""
        during = f" ({context}{at})"
    return f"{where}{problem}{during}"


def load_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML mapping with yaml.safe_load; errors name the file."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        data = safe_load(decode_utf8(path.read_bytes(), path, ConfigError))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {yaml_problem(exc)}") from exc
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
