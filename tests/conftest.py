"""Shared test setup: point MMSTUDY_DATA at the shared real datasets when they are present."""
import os
from pathlib import Path

import pytest
import torch

# study commands default to one worker process per core; tests run their cells in-process (a
# monkeypatched function must be the one a cell calls), as $MMSTUDY_JOBS allows
os.environ.setdefault("MMSTUDY_JOBS", "1")


@pytest.fixture(autouse=True)
def single_thread():
    """Test problems are tiny: extra intra-op threads only contend for shared cores (and a test
    that runs a study may have changed the count), so every test starts with one thread."""
    torch.set_num_threads(1)
    yield


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


@pytest.fixture(scope="session")
def tiny_missing_study(tmp_path_factory):
    """A finished tiny missing-modality study with its report (built once per test session)."""
    from tiny_study import run_missing_study, tiny_missing_spec

    torch.set_num_threads(1)
    return run_missing_study(tiny_missing_spec(), tmp_path_factory.mktemp("tiny-missing"))


@pytest.fixture(scope="session")
def tiny_energy_study(tmp_path_factory):
    """A finished tiny model comparison (BPR-MF, VBPR; two seeds) whose energy a FakeTracker
    measured (task i: i mWh), with its report."""
    from energy_toys import faked_tracker

    from mmstudy.config import as_plain
    from mmstudy.report.study_report import build_report
    from mmstudy.study.energy import EnergyConfig
    from mmstudy.study.kinds import study_kind
    from mmstudy.study.runner import run_study
    from mmstudy.study.spec import parse_spec
    from tiny_study import TINY_DATA

    torch.set_num_threads(1)
    spec = parse_spec({"name": "tiny-energy", "data": TINY_DATA, "models": ["BPR-MF", "VBPR"], "seeds": [0, 1],
                       "train": {"epochs": 2}, "analysis": {"min_seeds": 2}, "compare": {}}, "compare", "tiny")
    folder = tmp_path_factory.mktemp("tiny-energy")
    with faked_tracker():
        summary = run_study(study_kind("compare").expand(spec), folder, threads=1, progress=False,
                            meta={"kind": "compare", "spec": as_plain(spec)}, energy=EnergyConfig())
    assert not summary.failed, summary.failed
    build_report(folder)
    return folder
