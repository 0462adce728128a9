"""Where named datasets live and which of their modalities to load.

The data root is `root=` if given, else `$MMSTUDY_DATA`, else `~/.mmstudy/data`; dataset `<name>`
lives in `<root>/<name>/`.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

from ...errors import ConfigError, DataError


def data_root(root: str | Path | None = None) -> Path:
    """`root`, else $MMSTUDY_DATA, else ~/.mmstudy/data."""
    return Path(root if root is not None else os.environ.get("MMSTUDY_DATA", "~/.mmstudy/data")).expanduser()


def dataset_dir(name: str, files: Sequence[str], root: str | Path | None = None) -> Path:
    """`<root>/<name>`, after checking that every expected file is there (all named at once)."""
    directory = data_root(root) / name
    missing = [f for f in files if not (directory / f).exists()]
    if missing:
        raise DataError(f"dataset {name!r} expects {', '.join(files)} in {directory}; missing: {', '.join(missing)}. "
                        f"Set MMSTUDY_DATA (or root=) to the folder that contains {name}/")
    return directory


def choose_modalities(name: str, requested: Sequence[str] | str, available: Sequence[str]) -> list[str]:
    """The requested modality names (a list or a comma-separated string), all known."""
    if isinstance(requested, str):
        requested = [m.strip() for m in requested.split(",") if m.strip()]
    unknown = [m for m in requested if m not in available]
    if unknown or not requested:
        raise ConfigError(f"dataset {name!r}: unknown modality {unknown[0]!r}; available: {list(available)}"
                          if unknown else f"dataset {name!r}: choose at least one modality of {list(available)}")
    return list(requested)
