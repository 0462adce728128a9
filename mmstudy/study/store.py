"""The results store: one folder per cell, written atomically, verified on read.

Layout of a results folder::

    cells/<fingerprint>/per_user.parquet   per-user test metrics (index: user)
    cells/<fingerprint>/result.json        manifest: config, seeds, checksums, curve, timings
    study.json                             the study manifest (cells' fingerprints chained)

`result.json` is written last and records the SHA-256 of `per_user.parquet`; a cell counts as
done only when both exist, the checksum matches and the manifest's fingerprints (its own and its
cell config's) are the folder's name, so a killed, corrupted or misplaced cell is redone.
"""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Iterator

import pandas as pd

from ..errors import DataError, MMStudyError
from ..hashing import atomic_path, file_sha256, write_json
from .manifest import CellManifest


class ResultStore:
    def __init__(self, directory: str | Path):
        self.root = Path(directory)
        self.cells_dir = self.root / "cells"

    def cell_dir(self, fingerprint: str) -> Path:
        return self.cells_dir / fingerprint

    def is_done(self, fingerprint: str) -> bool:
        """True when the cell's files exist, match their recorded checksums, and its manifest
        belongs to this folder (a result copied or renamed into another cell's folder does not)."""
        return not self.problems(fingerprint)

    def problems(self, fingerprint: str) -> list[str]:
        """Everything wrong with a stored cell (empty for a finished, intact cell): a missing or
        unreadable manifest, fingerprints that are not the folder's, missing or modified files."""
        folder = self.cell_dir(fingerprint)
        try:
            manifest = self.manifest(fingerprint)
        except DataError as exc:
            return [str(exc)]
        found = []
        for name, value in (("fingerprint", manifest.fingerprint),
                            ("cell's fingerprint", manifest.cell.fingerprint if manifest.cell else None)):
            if value != fingerprint:
                found.append(f"{folder / 'result.json'}: its {name} {str(value)[:12]} is not the folder's "
                             f"({fingerprint[:12]}): the result belongs to another cell")
        for name, digest in manifest.files.items():
            try:
                self._check_file(folder / f"{name}.parquet", digest)
            except DataError as exc:
                found.append(str(exc))
        if "per_user" not in manifest.files:
            found.append(f"{folder / 'result.json'}: lists no per_user table")
        return found

    @staticmethod
    def _check_file(path: Path, digest: str) -> None:
        if not path.is_file():
            raise DataError(f"{path} is missing (its result.json lists it): the stored result was modified")
        actual = file_sha256(path)
        if actual != digest:
            raise DataError(f"{path}: checksum {actual[:12]} does not match the manifest ({digest[:12]}): "
                            "the stored result was modified")

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
        """A cell's manifest (result.json), typed; its data files are not read. A missing or
        unreadable manifest raises DataError naming the file."""
        path = self.cell_dir(fingerprint) / "result.json"
        if not path.is_file():
            raise DataError(f"{path} is missing")
        try:
            return CellManifest.from_dict(json.loads(path.read_text(encoding="utf-8")), where=str(path))
        except DataError:
            raise
        except (OSError, ValueError, TypeError, KeyError, AttributeError, MMStudyError) as exc:
            raise DataError(f"{path}: unreadable manifest ({type(exc).__name__}: {exc}); the file is damaged or "
                            "truncated") from None

    def load(self, fingerprint: str) -> tuple[pd.DataFrame, CellManifest]:
        """(per-user metrics, manifest); raises DataError when a file is missing or does not match
        its checksum."""
        folder = self.cell_dir(fingerprint)
        manifest = self.manifest(fingerprint)
        for name, digest in manifest.files.items():
            self._check_file(folder / f"{name}.parquet", digest)
        return pd.read_parquet(folder / "per_user.parquet"), manifest

    def table(self, fingerprint: str, name: str) -> pd.DataFrame:
        return pd.read_parquet(self.cell_dir(fingerprint) / f"{name}.parquet")

    def fingerprints(self) -> Iterator[str]:
        if self.cells_dir.is_dir():
            for folder in sorted(self.cells_dir.iterdir()):
                if (folder / "result.json").exists():
                    yield folder.name
