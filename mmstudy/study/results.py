"""A results folder loaded for analysis: the study manifest, every finished cell's typed manifest,
a tidy table of cells, and per-user metrics on demand (checksums verified on read)."""
from __future__ import annotations

import json
from dataclasses import dataclass
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
    """The finished cells of a results folder: manifests, labels, and per-user tables on demand."""

    folder: Path
    manifests: dict[str, CellManifest]
    study: StudyManifest

    @classmethod
    def load(cls, folder: str | Path) -> "StudyResults":
        folder = Path(folder)
        study_path = folder / STUDY_FILE
        if not study_path.exists():
            raise DataError(f"{folder}: no {STUDY_FILE} — not a results folder written by mmstudy")
        try:
            plain = json.loads(study_path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise DataError(f"{study_path}: not valid JSON ({exc}); not a results folder written by mmstudy") from None
        if not isinstance(plain, dict):
            raise DataError(f"{study_path}: expected a JSON object, got {type(plain).__name__}")
        study = StudyManifest.from_dict(plain)
        store = ResultStore(folder)
        manifests = {}
        for entry in study.cells:
            fp = entry["fingerprint"]
            if fp in study.failed or not (store.cell_dir(fp) / "result.json").exists():
                continue
            manifests[fp] = store.manifest(fp)
        return cls(folder, manifests, study)

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
        """One row per finished cell: its labels plus mean test metrics and timings."""
        rows = []
        for fp, m in self.manifests.items():
            rows.append({"fingerprint": fp, **m.labels, "model": m.model, **m.test.mean,
                         "train_seconds": m.timing.train_seconds, "epochs_run": m.timing.epochs_run,
                         "n_parameters": m.n_parameters})
        return pd.DataFrame(rows)

    def per_user(self, fingerprint: str, view: str = "full") -> pd.DataFrame:
        """Per-user test metrics of one cell; view 'common' = restricted to a dropped catalogue."""
        per_user, _ = self.store.load(fingerprint)  # verifies every file's checksum
        if view == "full":
            return per_user
        name = "per_user_common"
        if name in self.manifests[fingerprint].files:
            return self.store.table(fingerprint, name)
        return per_user

    @property
    def failed(self) -> dict[str, str]:
        return self.study.failed
