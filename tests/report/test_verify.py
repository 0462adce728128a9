"""The missing-study report and `verify`: every number recomputable, tampering detected."""
import json
import shutil

import pandas as pd
import pytest

from mmstudy.cli import main
from mmstudy.report.verify import verify


@pytest.fixture
def study(tiny_missing_study, tmp_path):
    folder = tmp_path / "study"
    shutil.copytree(tiny_missing_study, folder)
    return folder


def test_report_files_exist(tiny_missing_study):
    folder = tiny_missing_study
    assert (folder / "report.pdf").stat().st_size > 10_000
    for name in ("strategy_vs_reference", "robustness", "multimodal_vs_cf", "dropped_losses", "audit"):
        assert (folder / "tables" / f"{name}.csv").exists() and (folder / "tables" / f"{name}.tex").exists()
    assert "\\toprule" in (folder / "tables" / "robustness.tex").read_text()
    assert list((folder / "figures").glob("*.png"))


def test_verify_passes_on_untouched_results(study):
    problems, checked = verify(study)
    assert problems == [] and checked > 100


def test_verify_catches_a_tampered_per_user_file(study):
    cell = next((study / "cells").iterdir())
    path = cell / "per_user.parquet"
    table = pd.read_parquet(path)
    table.iloc[0, 0] += 0.5
    table.to_parquet(path)
    problems, _ = verify(study)
    assert problems and "checksum" in problems[0]


def test_verify_catches_a_consistent_forgery(study):
    """Even with the checksum and cell means rewritten, the report's tables no longer match."""
    from mmstudy.hashing import file_sha256
    cell = next(p for p in (study / "cells").iterdir())
    path = cell / "per_user.parquet"
    table = pd.read_parquet(path)
    table["Recall@20"] = table["Recall@20"] * 0.5
    table.to_parquet(path)
    manifest = json.loads((cell / "result.json").read_text())
    manifest["files"]["per_user"] = file_sha256(path)
    manifest["test"]["mean"]["Recall@20"] = float(table["Recall@20"].mean())
    (cell / "result.json").write_text(json.dumps(manifest))
    problems, _ = verify(study)
    assert problems and any("table" in p for p in problems)


def test_verify_catches_an_edited_report_number(study):
    path = study / "tables" / "strategy_vs_reference.csv"
    table = pd.read_csv(path)
    table.loc[0, "p_adj"] = 0.0001234
    table.to_csv(path, index=False)
    problems, _ = verify(study)
    assert any("p_adj" in p for p in problems)


def test_cli_verify_and_report(study, capsys):
    assert main(["verify", str(study)]) == 0
    assert "0 mismatch" in capsys.readouterr().out
    (study / "report.pdf").unlink()
    assert main(["report", str(study)]) == 0
    assert (study / "report.pdf").exists()


def cells_of(study) -> list:
    return sorted(p for p in (study / "cells").iterdir() if p.is_dir())


def verify_cli(study, capsys) -> tuple[int, list[str]]:
    code = main(["verify", str(study)])
    return code, [line for line in capsys.readouterr().out.splitlines() if line.startswith("MISMATCH")]


def test_verify_names_a_truncated_result_json(study, capsys):
    cell = cells_of(study)[0]
    path = cell / "result.json"
    path.write_text(path.read_text()[:100])
    code, lines = verify_cli(study, capsys)
    assert code == 1 and len(lines) == 1
    assert lines[0].startswith(f"MISMATCH  cell {cell.name[:10]}: {path}: unreadable manifest (JSONDecodeError: ")
    assert lines[0].endswith("); the file is damaged or truncated")


def test_verify_names_a_truncated_study_json(study, capsys):
    path = study / "study.json"
    path.write_text(path.read_text()[:200])
    code, lines = verify_cli(study, capsys)
    assert code == 1 and len(lines) == 1
    assert lines[0].startswith(f"MISMATCH  {path}: unreadable (JSONDecodeError: ")


def test_verify_names_every_deleted_parquet(study, capsys):
    first, second = cells_of(study)[:2]
    (first / "per_user.parquet").unlink()
    (second / "valid_curve.parquet").unlink()
    code, lines = verify_cli(study, capsys)
    assert code == 1
    assert lines == [f"MISMATCH  cell {first.name[:10]}: {first / 'per_user.parquet'} is missing (its result.json "
                     "lists it): the stored result was modified",
                     f"MISMATCH  cell {second.name[:10]}: {second / 'valid_curve.parquet'} is missing (its "
                     "result.json lists it): the stored result was modified"]


def test_verify_names_a_deleted_manifest_and_a_deleted_cell(study, capsys):
    cells = cells_of(study)
    (cells[0] / "result.json").unlink()
    shutil.rmtree(cells[1])
    code, lines = verify_cli(study, capsys)
    finished = len(cells)
    assert code == 1
    assert lines == [f"MISMATCH  cell {cells[0].name[:10]}: {cells[0] / 'result.json'} is missing",
                     f"MISMATCH  {study / 'study.json'} records {finished} finished cells, but only {finished - 1} "
                     "have a folder under cells/: the others were deleted"]


def test_verify_names_an_unreadable_report_table(study, capsys):
    (study / "tables" / "robustness.csv").write_text("")
    code, lines = verify_cli(study, capsys)
    assert code == 1
    assert lines == [f"MISMATCH  table robustness: {study / 'tables' / 'robustness.csv'} is unreadable "
                     "(EmptyDataError: No columns to parse from file)"]


def test_verify_of_a_folder_that_is_no_results_folder_is_an_error(tmp_path, capsys):
    assert main(["verify", str(tmp_path)]) == 2
    assert capsys.readouterr().err == f"error: {tmp_path}: no study.json — not a results folder written by mmstudy\n"
