"""Study kinds: one registered plug-in record per kind of study (missing, extractors, fusion, ...).

A kind says everything the shared machinery needs to run, report and verify it: its section of
the study file (a frozen dataclass), how a study file expands into cells, the analysis tables
`verify` recomputes, and the report pages. Plug-ins live in `mmstudy.studies` (one module or
package per kind; `python -m mmstudy.studies.<name>` runs one) or in another installed package
that declares an entry point in the group `mmstudy.studies`. They sit above every layer of the
package, so the registry finds them the way entry points are found: imported by name when a kind
is first asked for (`study_kind`), never by a static import.
"""
from __future__ import annotations

import argparse
import inspect
import pkgutil
from dataclasses import dataclass
from importlib import import_module
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Callable

from ..config import from_mapping
from ..registry import Registry
from .cell import Cell
from .controls import control_cells
from .spec import StudySpec

PLUGINS = "mmstudy.studies"  # the package of built-in kinds, and the entry-point group of others'

Lines = Callable[..., list[str]]


def _no_options(parser: argparse.ArgumentParser) -> None:
    """A kind without command-line flags of its own."""


def _unchanged(section: dict, args: argparse.Namespace) -> dict:
    return section


@dataclass(frozen=True)
class StudyKind:
    """One kind of study.

    Parameters
    ----------
    name : the kind's name: its section key in study files, `kind` in study.json, the module
        `mmstudy.studies.<name>`.
    title : the report's title prefix ("Missing-modality study").
    question : what such a study answers, in one sentence (`python -m mmstudy list`).
    default_config : the shipped study file (under `studies/`) the command runs by default.
    section : frozen dataclass of the study file's `<name>:` section (unknown keys are errors).
    cells : (spec, parsed section) -> the study's cells, in order.
    analyse : StudyResults -> {table name: DataFrame}: every number the report shows.
    protocol : (StudyResults) -> lines for the report's first page, under "Protocol".
    summary : (StudyResults, tables) -> the summary page's paragraphs.
    pages : (report, StudyResults, tables) -> None: figures and tables of the report.
    checks : (StudyResults, tables) -> extra first-page checks (AuditCheck) beside the audit.
    data : (StudyResults) -> lines under "Data" on the first page (None: one line per dataset).
    options : adds the kind's own flags to its command's parser.
    apply_options : (section mapping, parsed flags) -> the section with the flags applied.
    finish : (results folder, device) -> None, run after the cells and before the report.
    reference : (the study's cells, parsed section) -> the cells of its reference configuration,
        from which the A/A and noise controls are made (`study.controls`); None: no controls.
    """

    name: str
    title: str
    question: str
    default_config: str
    section: type
    cells: Callable[[StudySpec, Any], list[Cell]]
    analyse: Callable[..., dict]
    protocol: Lines
    summary: Lines
    pages: Callable[..., None]
    checks: Callable[..., list] = lambda results, tables: []
    data: Lines | None = None
    options: Callable[[argparse.ArgumentParser], None] = _no_options
    apply_options: Callable[[dict, argparse.Namespace], dict] = _unchanged
    finish: Callable[[Path, str], None] | None = None
    reference: Callable[[list[Cell], Any], list[Cell]] | None = None

    def parse_section(self, spec: StudySpec) -> Any:
        """The spec's section as this kind's dataclass (unknown keys name the closest known one)."""
        return from_mapping(self.section, spec.section, self.name)

    def expand(self, spec: StudySpec) -> list[Cell]:
        """Every cell of a study of this kind: its own, then its controls' (`study.controls`)."""
        section = self.parse_section(spec)
        cells = self.cells(spec, section)
        if self.reference is None:
            return cells
        return cells + control_cells(spec, self.reference(cells, section))


STUDY_KINDS: Registry[StudyKind] = Registry("study kind")


def register_kind(kind: StudyKind) -> StudyKind:
    """Register `kind`. The same plug-in file registering again (reloaded, or run as a script with
    `python -m` and then imported by name) replaces its record; another kind of that name is an error."""
    known = STUDY_KINDS.get(kind.name) if kind.name in STUDY_KINDS else None
    same_plugin = known is not None and inspect.getsourcefile(known.cells) == inspect.getsourcefile(kind.cells)
    STUDY_KINDS.add(kind.name, kind, replace=same_plugin)
    return kind


def discover_kinds() -> list[str]:
    """Import every plug-in (built-in modules of `mmstudy.studies`, then entry points); the names."""
    package = import_module(PLUGINS)
    for info in pkgutil.iter_modules(package.__path__):
        if not info.name.startswith("_"):
            import_module(f"{PLUGINS}.{info.name}")
    for entry in entry_points(group=PLUGINS):
        entry.load()
    return STUDY_KINDS.names()


def study_kind(name: str) -> StudyKind:
    """The registered kind `name` (plug-ins are discovered first); unknown names suggest close ones."""
    if name not in STUDY_KINDS:
        discover_kinds()
    return STUDY_KINDS.get(name)
