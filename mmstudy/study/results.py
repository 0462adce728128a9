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
        """Per-user test metrics of one cell; view 'common' = restricted to the items a `dropped`
        catalogue keeps (a DataError when the cell has no such table: catalogues must never mix)."""
        per_user, _ = self.store.load(fingerprint)  # verifies every file's checksum
        if view == "full":
            return per_user
        if view != "common":
            raise DataError(f"unknown per-user view {view!r}; expected 'full' or 'common'")
        if "per_user_common" not in self.all_manifests[fingerprint].files:
            raise DataError(f"cell {fingerprint[:10]} has no common-items table (per_user_common.parquet); it "
                            "cannot be compared with a `dropped` cell on the common catalogue")
        return self.store.table(fingerprint, "per_user_common")

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
