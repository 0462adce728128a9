"""Recompute every number of a report from the stored per-user files and list mismatches.

Three layers, each catching a different kind of tampering or drift:
1. every stored file matches the SHA-256 recorded in its cell manifest;
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

from ..errors import DataError
from ..study.kinds import study_kind
from ..study.results import StudyResults
from .audit import audit_study, audit_table
from .energy import study_energy_table
from .writer import RAW_TABLES

RTOL, ATOL = 1e-9, 1e-12


def verify(folder: Path) -> tuple[list[str], int]:
    """(mismatch descriptions, number of values checked)."""
    results = StudyResults.load(folder)
    problems: list[str] = []
    checked = 0
    for fp, manifest in results.manifests.items():
        try:
            per_user = results.per_user(fp)
        except DataError as exc:
            problems.append(str(exc))
            continue
        for column, value in manifest.test.mean.items():
            if column in per_user.columns:
                checked += 1
                if not np.isclose(per_user[column].mean(), value, rtol=RTOL, atol=ATOL):
                    problems.append(f"cell {fp[:10]}: mean {column} = {per_user[column].mean():.6g} "
                                    f"recomputed, {value:.6g} stored")
    if problems:  # analysis tables would fail on the same files; report the root cause only
        return problems, checked
    recomputed = recompute_tables(results)
    for name, table in recomputed.items():
        n, found = compare_table(folder / RAW_TABLES / f"{name}.csv", table, name)
        checked += n
        problems += found
    return problems, checked


def recompute_tables(results: StudyResults) -> dict[str, pd.DataFrame]:
    """Every table of the study's kind, the energy table and the audit, recomputed from the stored files."""
    tables = {k: v for k, v in study_kind(results.kind).analyse(results).items() if not v.empty}
    energy, _ = study_energy_table(results)
    if not energy.empty:
        tables["energy"] = energy
    tables["audit"] = audit_table(audit_study(list(results.manifests.values()), min_seeds=results.analysis.min_seeds))
    return tables


def compare_table(path: Path, table: pd.DataFrame, name: str) -> tuple[int, list[str]]:
    """Compare a recomputed table with its stored CSV cell by cell."""
    if not path.exists():
        return 0, [f"table {name}: {path} is missing (rebuild the report first)"]
    stored = pd.read_csv(path)
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
