"""A results folder loaded for analysis: the study manifest, every finished cell's typed manifest,
a tidy table of cells, and per-user metrics on demand (checksums verified on read)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pandas as pd

from ..config import from_mapping
from ..errors import DataError
from .manifest import CellManifest, StudyManifest
from .spec import AnalysisConfig
from .store import ResultStore

STUDY_FILE = "study.json"
# per-user views of a cell: {view: (stored table, (segment column, value) or (None, None))} (study.views)
VIEWS = {"common": ("per_user_common", (None, None)), "cold": ("per_user_cold", (None, None)),
         "head": ("per_user_head", (None, None)), "tail": ("per_user_tail", (None, None)),
         "masked_users": ("segments", ("masked_target", True)), "other_users": ("segments", ("masked_target", False)),
         "cold_users": ("segments", ("cold_user", True)), "warm_users": ("segments", ("cold_user", False))}


@dataclass
class StudyResults:
    """The finished cells of a results folder: manifests, labels, and per-user tables on demand.

    `all_manifests` holds every finished cell, controls included (`study.controls`); `manifests`
    and `cells` hold the study's own design, which the kind's analysis reads.
    """

    folder: Path
    all_manifests: dict[str, CellManifest]
    study: StudyManifest
    # {fingerprint: problem} of cells whose folder exists but whose manifest is missing or unreadable
    unreadable: dict[str, str] = field(default_factory=dict)
    _per_user: dict = field(default_factory=dict, repr=False)  # (fingerprint, view) -> table, read once

    @classmethod
    def load(cls, folder: str | Path) -> "StudyResults":
        """The results in `folder`; a missing or unreadable study.json raises DataError naming it.
        Cells that never finished (no folder) are left out; cells with a folder but no readable
        manifest are left out and listed in `unreadable`."""
        folder = Path(folder)
        study = read_study(folder)
        store = ResultStore(folder)
        manifests, unreadable = {}, {}
        for entry in study.cells:
            fp = entry["fingerprint"]
            if fp in study.failed or not store.cell_dir(fp).is_dir():
                continue
            try:
                manifests[fp] = store.manifest(fp)
            except DataError as exc:
                unreadable[fp] = str(exc)
        return cls(folder, manifests, study, unreadable)

    @property
    def finished(self) -> int:
        """How many cells study.json records as finished (this run's and earlier runs')."""
        return int(self.study.summary.get("done", 0)) + int(self.study.summary.get("skipped", 0))

    @cached_property
    def manifests(self) -> dict[str, CellManifest]:
        """The finished cells of the study's own design (control cells excluded)."""
        return {fp: m for fp, m in self.all_manifests.items() if "control" not in m.labels}

    @cached_property
    def store(self) -> ResultStore:
        return ResultStore(self.folder)

    @property
    def kind(self) -> str:
        return self.study.kind

    @cached_property
    def analysis(self) -> AnalysisConfig:
        """The analysis plan recorded in study.json (metric, test, correction, alpha, ...)."""
        return from_mapping(AnalysisConfig, self.study.spec.get("analysis"), f"{self.folder / STUDY_FILE}: analysis")

    @cached_property
    def cells(self) -> pd.DataFrame:
        """One row per finished cell of the study's own design (control cells excluded, see
        `controls`): its labels plus mean test metrics and timings."""
        rows = []
        for fp, m in self.manifests.items():
            rows.append({"fingerprint": fp, **m.labels, "model": m.model, **m.test.mean,
                         "train_seconds": m.timing.train_seconds, "epochs_run": m.timing.epochs_run,
                         "n_parameters": m.n_parameters})
        return pd.DataFrame(rows)

    @cached_property
    def controls(self) -> list[dict]:
        """The study's control cells as study.json lists them ({fingerprint, labels}; a control cell
        identical to a study cell shares its results), finished ones only."""
        return [entry for entry in self.study.cells
                if "control" in entry["labels"] and entry["fingerprint"] in self.all_manifests]

    def per_user(self, fingerprint: str, view: str = "full") -> pd.DataFrame:
        """Per-user test metrics of one cell (checksums verified), as one of its views (`VIEWS`):
        'full'; a stored view table ('common': the items a `dropped` catalogue keeps, 'cold', 'head',
        'tail'); or a user segment of the full table ('masked_users', 'cold_users', ...). A cell
        without the view is a DataError: catalogues and segments must never mix silently."""
        key = (fingerprint, view)
        if key not in self._per_user:
            self._per_user[key] = self._view(fingerprint, view)
        return self._per_user[key]

    def _view(self, fingerprint: str, view: str) -> pd.DataFrame:
        per_user, _ = self.store.load(fingerprint)  # verifies every file's checksum
        if view == "full":
            return per_user
        if view not in VIEWS:
            raise DataError(f"unknown per-user view {view!r}; expected one of {sorted(VIEWS)}")
        table, (column, value) = VIEWS[view]
        if table not in self.all_manifests[fingerprint].files:
            raise DataError(f"cell {fingerprint[:10]} has no {table}.parquet, so no {view!r} view"
                            + (" (it cannot be compared with a `dropped` cell on the common catalogue)"
                               if view == "common" else ""))
        stored = self.store.table(fingerprint, table)
        if column is None:
            return stored
        users = stored.index[stored[column] == value]
        return per_user.loc[per_user.index.intersection(users)]

    @property
    def failed(self) -> dict[str, str]:
        return self.study.failed


def read_study(folder: Path) -> StudyManifest:
    """The study manifest of a results folder; DataError when it is missing or unreadable."""
    path = folder / STUDY_FILE
    if not path.is_file():
        raise DataError(f"{folder}: no {STUDY_FILE} — not a results folder written by mmstudy")
    try:
        plain = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(plain, dict) or not isinstance(plain.get("cells", []), list):
            raise ValueError("expected a mapping with a list of cells")
        return StudyManifest.from_dict(plain)
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: unreadable ({type(exc).__name__}: {exc}); the file is damaged or "
                        "truncated") from None
