"""Fixtures of the study tests: one serial run of the tiny cells, shared by every module."""
from __future__ import annotations

import pytest

from .study_toys import tiny_cells


@pytest.fixture(scope="session")
def serial_run(tmp_path_factory):
    """The tiny cells run serially with one thread: (folder, cells, summary)."""
    from mmstudy.study.runner import run_study

    folder = tmp_path_factory.mktemp("serial")
    cells = tiny_cells()
    summary = run_study(cells, folder, threads=1, progress=False)
    return folder, cells, summary
