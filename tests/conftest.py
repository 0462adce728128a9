"""Shared test setup: point MMSTUDY_DATA at the shared real datasets when they are present."""
import os
from pathlib import Path

import pytest

_SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"
if "MMSTUDY_DATA" not in os.environ and _SHARED.is_dir():
    os.environ["MMSTUDY_DATA"] = str(_SHARED)


def real_data_root() -> Path | None:
    root = Path(os.environ.get("MMSTUDY_DATA", "~/.mmstudy/data")).expanduser()
    return root if (root / "lastfm-2k").is_dir() else None


def pytest_collection_modifyitems(config, items):
    if real_data_root() is None:
        skip = pytest.mark.skip(reason="shared datasets not found (set MMSTUDY_DATA)")
        for item in items:
            if "realdata" in item.keywords:
                item.add_marker(skip)
