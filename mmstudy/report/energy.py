"""The energy pages every report ends its analysis with, when cells recorded energy: accuracy
against energy per configuration (mean over seeds), the energy table, and how it was measured."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..analysis.energy import configuration_keys, energy_cells, energy_status, energy_table
from ..study.results import StudyResults
from .figures import accuracy_energy_plot
from .writer import StudyReport


def study_energy_table(results: StudyResults) -> tuple[pd.DataFrame, str | None]:
    """(the energy table, the metric beside it): the main analysis metric when the cells have it."""
    metric = results.analysis.metric
    if metric not in results.cells.columns:
        metric = None
    return energy_table(results, metric), metric


def shown_energy_table(table: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """The table as shown: Wh and g CO2eq with 3 significant digits, seconds with one decimal."""
    shown = table[[*keys, "seeds"]].copy()
    for column in table.columns[len(keys) + 1:]:
        values = table[column].to_numpy(float)
        if column == "seconds":
            shown["seconds"] = [f"{v:.1f}" for v in values]
        elif column.startswith("kwh") or column == "co2_kg":
            name = {"kwh": "Wh", "co2_kg": "g CO2eq"}.get(column, column.replace("kwh_", "Wh ").replace("_", " "))
            shown[name] = [f"{v:.3g}" if np.isfinite(v) else "n/a" for v in values * 1000]
        else:
            shown[column] = [f"{v:.4f}" if np.isfinite(v) else "n/a" for v in values]
    return shown


def measured_by(results: StudyResults) -> str:
    """How the energy was measured, from the first manifest that recorded it."""
    tracker = next(m.energy.tracker for m in results.manifests.values() if m.energy and m.energy.recorded)
    run = results.study.run
    jobs = run.get("jobs", 1) if run.get("executor", "local") == "local" else None
    overlap = ("" if jobs == 1 else " Cells ran concurrently: device counters (RAPL, GPU) include the "
               "neighbouring cells' draw.")
    return (f"Measured with {tracker.name} {tracker.version} ({tracker.mode}; {tracker.tracking_mode} scope); "
            f"CO2eq from the grid mix of {tracker.country or 'the world average'}. Each configuration: mean "
            f"over its seeds; phases: data (loading, split), feature extraction, training (with validation "
            f"passes), test; the first cell of each process also loads the data (its data phase).{overlap}")


def energy_summary(results: StudyResults) -> list[str]:
    """The study's footprint in one line (empty when no cell recorded energy)."""
    cells = energy_cells(results)
    if cells.empty:
        return []
    phases = cells.filter(like="kwh_").sum()
    shares = ", ".join(f"{name[4:].replace('_', ' ')} {kwh / phases.sum():.0%}" for name, kwh in phases.items() if kwh > 0)
    return [f"Energy: the {len(cells)} measured cells used {cells['kwh'].sum() * 1000:.3g} Wh "
            f"({cells['co2_kg'].sum() * 1000:.3g} g CO2eq); {shares}."]


def energy_pages(rep: StudyReport, results: StudyResults) -> None:
    """Figure and table when any cell recorded energy; else one line saying why none did."""
    table, metric = study_energy_table(results)
    status = energy_status(results)
    missing = [f"{n} cell(s) without energy: {line}" for line, n in status.items()]
    if table.empty:
        if missing:
            rep.text("Energy and carbon", missing)
        return
    keys = [k for k in configuration_keys(results) if k in table.columns]
    if metric is not None:
        rep.figure("accuracy-energy", accuracy_energy_plot(table, metric, title=f"{metric} vs energy"),
                   caption="One point per configuration (mean over seeds). " + measured_by(results))
    rep.table("energy", table, "Energy and carbon per configuration (mean over seeds)",
              shown_energy_table(table, keys), note=" ".join([measured_by(results), *missing]))
