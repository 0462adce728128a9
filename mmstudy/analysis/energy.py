"""Energy per configuration: the energy and carbon the cells recorded (kWh, kg CO2eq, seconds, per
phase), averaged over seeds beside the main metric, for every study kind's report.

Energy numbers are measurements kept in the manifests, not recomputable from the per-user files:
this table only gathers them, so `verify` rebuilds it from the manifests and never re-measures.
"""
from __future__ import annotations

import pandas as pd

from ..study.energy import PHASES
from ..study.results import StudyResults

TOTALS = ("kwh", "co2_kg", "seconds")


def configuration_keys(results: StudyResults) -> list[str]:
    """What names a configuration: the model and every label but the seed, in label order."""
    labels = dict.fromkeys(k for m in results.manifests.values() for k in m.labels if k not in ("seed", "model"))
    return ["model", *labels]


def energy_cells(results: StudyResults, metric: str | None = None) -> pd.DataFrame:
    """One row per finished cell with recorded energy: configuration, seed, `metric`, totals and
    kWh per phase (`kwh_<phase>`, 0 for a phase the cell did not run, e.g. extraction done earlier)."""
    rows = []
    for m in results.manifests.values():
        if m.energy is None or not m.energy.recorded:
            continue
        phases = m.energy.phases or {}
        rows.append({"model": m.model, **{k: v for k, v in m.labels.items() if k != "model"},
                     **({metric: m.test.mean.get(metric)} if metric else {}),
                     **{t: getattr(m.energy, t) for t in TOTALS},
                     **{f"kwh_{p}": phases[p].kwh if p in phases else 0.0 for p in PHASES}})
    return pd.DataFrame(rows)


def energy_table(results: StudyResults, metric: str | None = None) -> pd.DataFrame:
    """One row per configuration: cells with recorded energy (`seeds`), then the means over them of
    `metric`, kWh, kg CO2eq, seconds and kWh per phase (phases no cell ran are left out)."""
    cells = energy_cells(results, metric)
    if cells.empty:
        return cells
    keys = [k for k in configuration_keys(results) if k in cells.columns]
    phases = [f"kwh_{p}" for p in PHASES if cells[f"kwh_{p}"].any()]
    values = [*([metric] if metric else []), *TOTALS, *phases]
    grouped = cells.groupby(keys, sort=True, dropna=False)
    table = grouped[values].mean().reset_index()
    table.insert(len(keys), "seeds", grouped.size().to_numpy())
    return table


def energy_status(results: StudyResults) -> dict[str, int]:
    """{status or reason line: number of cells}, for cells whose energy was not recorded."""
    out: dict[str, int] = {}
    for m in results.manifests.values():
        if m.energy is not None and not m.energy.recorded:
            line = f"{m.energy.status}: {m.energy.reason}" if m.energy.reason else str(m.energy.status)
            out[line] = out.get(line, 0) + 1
    return out
