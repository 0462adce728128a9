"""Load a results folder into tidy tables for analysis (checksums verified on read)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pandas as pd

from ..errors import DataError
from ..study.store import ResultStore


@dataclass
class StudyResults:
    """The finished cells of a results folder: manifests, labels, and per-user tables on demand."""

    folder: Path
    manifests: dict[str, dict]
    study: dict

    @classmethod
    def load(cls, folder: str | Path) -> "StudyResults":
        folder = Path(folder)
        study_path = folder / "study.json"
        if not study_path.exists():
            raise DataError(f"{folder}: no study.json — not a results folder written by mmstudy")
        study = json.loads(study_path.read_text())
        store = ResultStore(folder)
        manifests = {}
        for entry in study["cells"]:
            fp = entry["fingerprint"]
            if fp in study.get("summary", {}).get("failed", {}) or not (store.cell_dir(fp) / "result.json").exists():
                continue
            manifests[fp] = json.loads((store.cell_dir(fp) / "result.json").read_text())
        return cls(folder, manifests, study)

    @cached_property
    def store(self) -> ResultStore:
        return ResultStore(self.folder)

    @cached_property
    def cells(self) -> pd.DataFrame:
        """One row per finished cell: its labels plus mean test metrics and timings."""
        rows = []
        for fp, m in self.manifests.items():
            rows.append({"fingerprint": fp, **m["labels"], "model": m["model"],
                         **{k: v for k, v in m["test"]["mean"].items()},
                         "train_seconds": m["timing"]["train_seconds"],
                         "epochs_run": m["timing"]["epochs_run"], "n_parameters": m["n_parameters"]})
        return pd.DataFrame(rows)

    def per_user(self, fingerprint: str, view: str = "full") -> pd.DataFrame:
        """Per-user test metrics of one cell; view 'common' = restricted to a dropped catalogue."""
        per_user, _ = self.store.load(fingerprint)  # verifies every file's checksum
        if view == "full":
            return per_user
        name = "per_user_common"
        if name in self.manifests[fingerprint].get("files", {}):
            return self.store.table(fingerprint, name)
        return per_user

    @property
    def failed(self) -> dict[str, str]:
        return self.study.get("summary", {}).get("failed", {})
