"""Recompute every number of a report from the stored per-user files and list mismatches.

Three layers, each catching a different kind of tampering or drift:
1. every stored file exists and matches the SHA-256 recorded in its cell manifest, and every cell
   study.json records as finished has a readable manifest;
2. every cell's mean test metrics are recomputed from its per-user table;
3. every analysis table (tests, CIs, effect sizes) is recomputed and compared with the CSV the
   report was built from, as are the audit checks.
Energy numbers are measurements recorded in the manifests: the energy table is rebuilt from them
(so an edited CSV is caught), never re-measured.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..analysis.controls import controls_table
from ..errors import DataError
from ..study.kinds import study_kind
from ..study.results import STUDY_FILE, StudyResults
from .audit import audit_study, audit_table
from .energy import study_energy_table
from .writer import RAW_TABLES

RTOL, ATOL = 1e-9, 1e-12


def verify(folder: Path) -> tuple[list[str], int]:
    """(mismatch descriptions, number of values checked). Damaged or missing files are problems
    in the list (every one of them, named), never exceptions; only a folder without study.json
    raises DataError (it is not a results folder)."""
    folder = Path(folder)
    try:
        results = StudyResults.load(folder)
    except DataError as exc:
        if not (folder / STUDY_FILE).is_file():
            raise
        return [str(exc)], 0
    problems, checked = stored_file_problems(results), 0
    for fp, manifest in results.all_manifests.items():
        damaged = results.store.problems(fp)
        if damaged:
            problems += [f"cell {fp[:10]}: {problem}" for problem in damaged]
            continue
        per_user = results.per_user(fp)
        for column, value in manifest.test.mean.items():
            if column in per_user.columns:
                checked += 1
                if not np.isclose(per_user[column].mean(), value, rtol=RTOL, atol=ATOL):
                    problems.append(f"cell {fp[:10]}: mean {column} = {per_user[column].mean():.6g} "
                                    f"recomputed, {value:.6g} stored")
    if problems or not results.manifests:  # analysis tables would fail on the same files; report the root cause only
        return problems, checked
    recomputed = recompute_tables(results)
    for name, table in recomputed.items():
        n, found = compare_table(folder / RAW_TABLES / f"{name}.csv", table, name)
        checked += n
        problems += found
    return problems, checked


def stored_file_problems(results: StudyResults) -> list[str]:
    """Cells whose manifest is missing or unreadable, and finished cells that are gone."""
    problems = [f"cell {fp[:10]}: {problem}" for fp, problem in results.unreadable.items()]
    found = len(results.all_manifests) + len(results.unreadable)
    if found < results.finished:
        problems.append(f"{results.folder / STUDY_FILE} records {results.finished} finished cells, but only "
                        f"{found} have a folder under cells/: the others were deleted")
    return problems


def recompute_tables(results: StudyResults) -> dict[str, pd.DataFrame]:
    """Every table of the study's kind, its controls, the energy table and the audit, recomputed from
    the stored files (energy as recorded facts: never re-measured)."""
    tables = {**study_kind(results.kind).analyse(results), "controls": controls_table(results),
              "energy": study_energy_table(results)[0]}
    tables = {name: table for name, table in tables.items() if not table.empty}
    checks = audit_study(list(results.all_manifests.values()), min_seeds=results.analysis.min_seeds)
    return {**tables, "audit": audit_table(checks)}


def compare_table(path: Path, table: pd.DataFrame, name: str) -> tuple[int, list[str]]:
    """Compare a recomputed table with its stored CSV cell by cell."""
    if not path.exists():
        return 0, [f"table {name}: {path} is missing (rebuild the report first)"]
    try:
        stored = pd.read_csv(path)
    except (OSError, ValueError) as exc:  # pandas' empty-file and parser errors are ValueErrors
        return 0, [f"table {name}: {path} is unreadable ({type(exc).__name__}: {exc})"]
    fresh = pd.read_csv(pd.io.common.StringIO(table.to_csv(index=False)))  # same parsing as stored
    if list(stored.columns) != list(fresh.columns) or len(stored) != len(fresh):
        return 1, [f"table {name}: shape/columns differ ({stored.shape} stored, {fresh.shape} recomputed)"]
    problems, checked = [], 0
    for column in fresh.columns:
        a, b = stored[column], fresh[column]
        checked += len(a)
        if pd.api.types.is_numeric_dtype(a) and pd.api.types.is_numeric_dtype(b):
            bad = ~np.isclose(a.to_numpy(float), b.to_numpy(float), rtol=RTOL, atol=ATOL, equal_nan=True)
        else:  # text: equal when both are missing (CSV reads an empty string back as NaN)
            bad = ((a.astype(str) != b.astype(str)) & ~(a.isna() & b.isna())).to_numpy()
        for row in np.flatnonzero(bad)[:3]:
            problems.append(f"table {name}, row {row}, column {column!r}: stored {a.iloc[row]!r}, "
                            f"recomputed {b.iloc[row]!r}")
    return checked, problems
