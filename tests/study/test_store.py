"""ResultStore: atomic per-cell results that count as done only when complete and unmodified."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from mmstudy.errors import DataError
from mmstudy.study.cell import Cell
from mmstudy.study.manifest import SCHEMA_VERSION, CellManifest, Timing
from mmstudy.study.store import ResultStore

FP = Cell().fingerprint  # a cell stored under its own fingerprint


@pytest.fixture()
def store(tmp_path):
    store = ResultStore(tmp_path)
    per_user = pd.DataFrame({"Recall@10": [0.5, 0.25]}, index=pd.Index([3, 7], name="user"))
    manifest = CellManifest(schema_version=SCHEMA_VERSION, cell=Cell(), model="BPR-MF", timing=Timing(total_seconds=1.0))
    store.write(FP, per_user, manifest, {"valid_curve": pd.DataFrame({"epoch": [1, 2]})})
    return store


def test_write_then_load_round_trips(store):
    per_user, manifest = store.load(FP)
    assert per_user["Recall@10"].tolist() == [0.5, 0.25] and per_user.index.tolist() == [3, 7]
    assert manifest.fingerprint == FP and set(manifest.files) == {"per_user", "valid_curve"}
    assert manifest.timing.total_seconds == 1.0 and manifest.cell == Cell() and manifest.schema_version == 2
    assert store.is_done(FP) and list(store.fingerprints()) == [FP]
    assert store.table(FP, "valid_curve")["epoch"].tolist() == [1, 2]


def test_no_temporary_files_left_after_a_write(store):
    assert sorted(p.name for p in store.cell_dir(FP).iterdir()) == [
        "per_user.parquet", "result.json", "valid_curve.parquet"]


def test_unknown_cell_is_not_done(store):
    assert not store.is_done("cd" * 32)


def test_truncated_parquet_is_not_done(store):
    path = store.cell_dir(FP) / "per_user.parquet"
    path.write_bytes(path.read_bytes()[:40])
    assert not store.is_done(FP)
    with pytest.raises(DataError, match="per_user.parquet: checksum"):
        store.load(FP)


def test_modified_extra_table_is_not_done(store):
    path = store.cell_dir(FP) / "valid_curve.parquet"
    pd.DataFrame({"epoch": [9, 9]}).to_parquet(path)
    assert not store.is_done(FP)


@pytest.mark.parametrize("damage", ["delete-result", "delete-parquet", "bad-json", "empty-json"])
def test_partial_cell_is_not_done(store, damage):
    folder = store.cell_dir(FP)
    if damage == "delete-result":
        (folder / "result.json").unlink()
    elif damage == "delete-parquet":
        (folder / "per_user.parquet").unlink()
    elif damage == "bad-json":
        (folder / "result.json").write_text('{"files": ')
    else:
        (folder / "result.json").write_text("")
    assert not store.is_done(FP)


def test_fingerprints_skip_folders_without_a_manifest(store):
    (store.cells_dir / ("ef" * 32)).mkdir()
    assert list(store.fingerprints()) == [FP]


def test_manifest_records_checksums_of_every_table(store):
    manifest = json.loads((store.cell_dir(FP) / "result.json").read_text())
    assert all(len(digest) == 64 for digest in manifest["files"].values())


def test_a_result_under_another_cells_name_is_not_done(store):
    """A cell folder copied or renamed to another fingerprint is not that cell's result."""
    import shutil

    other = Cell(seed=1).fingerprint
    shutil.copytree(store.cell_dir(FP), store.cell_dir(other))
    assert not store.is_done(other) and store.is_done(FP)
    assert store.problems(other) == [
        f"{store.cell_dir(other) / 'result.json'}: its fingerprint {FP[:12]} is not the folder's ({other[:12]}): "
        "the result belongs to another cell",
        f"{store.cell_dir(other) / 'result.json'}: its cell's fingerprint {FP[:12]} is not the folder's "
        f"({other[:12]}): the result belongs to another cell"]


def test_a_manifest_whose_cell_config_was_edited_is_not_done(store):
    path = store.cell_dir(FP) / "result.json"
    manifest = json.loads(path.read_text())
    manifest["cell"]["seed"] = 7  # the recorded fingerprint still names the folder
    path.write_text(json.dumps(manifest))
    assert not store.is_done(FP)
    assert store.problems(FP) == [f"{path}: its cell's fingerprint {Cell(seed=7).fingerprint[:12]} is not the "
                                  f"folder's ({FP[:12]}): the result belongs to another cell"]


@pytest.mark.parametrize("damage, message", [
    ("delete-result", "{folder}/result.json is missing"),
    ("bad-json", "{folder}/result.json: unreadable manifest (JSONDecodeError: Expecting value: line 1 column 11 "
                 "(char 10)); the file is damaged or truncated"),
    ("delete-parquet", "{folder}/per_user.parquet is missing (its result.json lists it): the stored result was "
                       "modified"),
])
def test_damaged_cells_raise_named_data_errors(store, damage, message):
    folder = store.cell_dir(FP)
    if damage == "delete-result":
        (folder / "result.json").unlink()
    elif damage == "bad-json":
        (folder / "result.json").write_text('{"files": ')
    else:
        (folder / "per_user.parquet").unlink()
    with pytest.raises(DataError) as err:
        store.load(FP)
    assert str(err.value) == message.format(folder=folder)
    assert store.problems(FP) == [str(err.value)]
