"""Results folders written before the study-architecture change (manifest schema v1) still load,
verify as written, and rebuild their report, which then verifies again."""
import shutil
from pathlib import Path

import pytest

from mmstudy.cli import main
from mmstudy.report.verify import verify
from mmstudy.study.results import StudyResults

V1 = Path(__file__).resolve().parents[1] / "fixtures" / "results_v1"


@pytest.fixture(params=["missing", "fusion", "extractors"])
def old_folder(request, tmp_path):
    folder = tmp_path / request.param
    shutil.copytree(V1 / request.param, folder)
    return folder


def test_old_folders_load_with_typed_manifests(old_folder):
    results = StudyResults.load(old_folder)
    assert results.kind == old_folder.name and len(results.manifests) == 10
    assert {m.schema_version for m in results.manifests.values()} == {1}
    assert len(results.cells) == 10 and results.analysis.min_seeds == 2


def test_old_folders_rebuild_their_report_and_verify(old_folder, capsys):
    assert main(["report", str(old_folder)]) == 0
    assert (old_folder / "report.pdf").stat().st_size > 10_000
    problems, checked = verify(old_folder)
    assert problems == [] and checked > 300
