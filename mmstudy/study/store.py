"""The results store: one folder per cell, written atomically, verified on read.

Layout of a results folder::

    cells/<fingerprint>/per_user.parquet   per-user test metrics (index: user)
    cells/<fingerprint>/result.json        manifest: config, seeds, checksums, curve, timings
    study.json                             the study manifest (cells' fingerprints chained)

`result.json` is written last and records the SHA-256 of `per_user.parquet`; a cell counts as
done only when both exist and the checksum matches, so a killed or corrupted cell is redone.
"""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Iterator

import pandas as pd

from ..errors import DataError
from ..hashing import atomic_path, file_sha256, write_json
from .manifest import CellManifest


class ResultStore:
    def __init__(self, directory: str | Path):
        self.root = Path(directory)
        self.cells_dir = self.root / "cells"

    def cell_dir(self, fingerprint: str) -> Path:
        return self.cells_dir / fingerprint

    def is_done(self, fingerprint: str) -> bool:
        """True when the cell's files exist and match their recorded checksum."""
        try:
            self.load(fingerprint)
        except (FileNotFoundError, DataError, json.JSONDecodeError, ValueError, OSError):
            return False
        return True

    def write(self, fingerprint: str, per_user: pd.DataFrame, manifest: CellManifest,
              extra_tables: dict[str, pd.DataFrame] | None = None) -> Path:
        """Write per-user metrics (and optional extra tables), then the manifest, atomically."""
        folder = self.cell_dir(fingerprint)
        folder.mkdir(parents=True, exist_ok=True)
        files = {}
        for name, table in {"per_user": per_user, **(extra_tables or {})}.items():
            path = folder / f"{name}.parquet"
            with atomic_path(path) as tmp:
                table.to_parquet(tmp)
            files[name] = file_sha256(path)
        write_json(folder / "result.json", replace(manifest, fingerprint=fingerprint, files=files).to_dict())
        return folder

    def manifest(self, fingerprint: str) -> CellManifest:
        """A cell's manifest (result.json), typed; its data files are not read."""
        path = self.cell_dir(fingerprint) / "result.json"
        return CellManifest.from_dict(json.loads(path.read_text()), where=str(path))

    def load(self, fingerprint: str) -> tuple[pd.DataFrame, CellManifest]:
        """(per-user metrics, manifest); raises DataError when a file does not match its checksum."""
        folder = self.cell_dir(fingerprint)
        manifest = self.manifest(fingerprint)
        for name, digest in manifest.files.items():
            actual = file_sha256(folder / f"{name}.parquet")
            if actual != digest:
                raise DataError(f"{folder / (name + '.parquet')}: checksum {actual[:12]} does not match "
                                f"the manifest ({digest[:12]}): the stored result was modified")
        return pd.read_parquet(folder / "per_user.parquet"), manifest

    def table(self, fingerprint: str, name: str) -> pd.DataFrame:
        return pd.read_parquet(self.cell_dir(fingerprint) / f"{name}.parquet")

    def fingerprints(self) -> Iterator[str]:
        if self.cells_dir.is_dir():
            for folder in sorted(self.cells_dir.iterdir()):
                if (folder / "result.json").exists():
                    yield folder.name
