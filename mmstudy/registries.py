"""Every registry in one place (for `python -m mmstudy list` and documentation)."""
from __future__ import annotations

from importlib import import_module

from .registry import Registry

# (label, module, attribute) — modules are imported lazily so optional backends stay optional
_REGISTRIES = (
    ("datasets", "mmstudy.data", "DATASETS"),
    ("models", "mmstudy.models", "MODELS"),
    ("strategies", "mmstudy.missing.imputers", "IMPUTERS"),
    ("extractors", "mmstudy.features", "EXTRACTORS"),
    ("presets", "mmstudy.features", "PRESETS"),
    ("metrics", "mmstudy.evaluation", "METRICS"),
)


def all_names() -> dict[str, list[str]]:
    out = {}
    for label, module, attr in _REGISTRIES:
        try:
            registry: Registry = getattr(import_module(module), attr)
        except (ImportError, AttributeError):
            continue
        out[label] = registry.names()
    return out
