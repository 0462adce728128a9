"""The typed cell manifest: exact round trips for folders written before typing (schema v1) and now
(v2), attributes for every block readers use, unknown keys carried, newer versions refused."""
import json
from pathlib import Path

import pytest

from mmstudy.errors import DataError
from mmstudy.study.cell import Cell
from mmstudy.study.manifest import SCHEMA_VERSION, CellManifest, MissingRecord, StudyManifest, Trial

V1 = Path(__file__).resolve().parents[1] / "fixtures" / "results_v1"
V1_MANIFESTS = sorted(V1.glob("*/cells/*/result.json"))


@pytest.mark.parametrize("path", V1_MANIFESTS, ids=lambda p: f"{p.parents[2].name}-{p.parent.name[:8]}")
def test_version_1_manifests_round_trip_exactly(path):
    plain = json.loads(path.read_text())
    manifest = CellManifest.from_dict(plain, where=str(path))
    assert manifest.schema_version == 1 and manifest.to_dict() == plain
    assert manifest.fingerprint == path.parent.name == manifest.cell.fingerprint
    assert manifest.test.evaluations == 1 and manifest.selection.on == "valid"
    assert manifest.selection.best_valid == max(t.valid for t in manifest.selection.trials)


def test_fixtures_cover_every_manifest_shape():
    manifests = [CellManifest.from_dict(json.loads(p.read_text())) for p in V1_MANIFESTS]
    assert any(m.fusion is not None and m.selection.selected_fusion_weights for m in manifests)  # late fusion
    assert any(m.is_dropped and m.missing.dropped for m in manifests)
    assert any(m.missing.graph is not None and m.missing.homophily for m in manifests)
    assert any(m.missing.to_dict() == {} for m in manifests)  # a CF model reads no modality
    assert any(f.extractor for m in manifests for f in m.features.values())  # extracted, not shipped


def test_version_2_writes_its_version_and_carries_unknown_keys():
    manifest = CellManifest(schema_version=SCHEMA_VERSION, cell=Cell(), model="BPR-MF",
                            extra={"water": {"litres": 0.01}})
    plain = manifest.to_dict()
    assert plain["schema_version"] == 2 and plain["water"] == {"litres": 0.01} and "energy" not in plain
    assert CellManifest.from_dict(plain).to_dict() == plain


RECORDED = {"status": "recorded", "seconds": 3.0, "kwh": 2e-4, "co2_kg": 1e-4,
            "phases": {"training": {"seconds": 2.5, "kwh": 1.5e-4, "co2_kg": 7e-5, "cpu_kwh": 1e-4, "gpu_kwh": 0.0,
                                    "ram_kwh": 5e-5},
                       "test": {"seconds": 0.5, "kwh": 5e-5, "co2_kg": 3e-5, "cpu_kwh": 4e-5, "gpu_kwh": 0.0,
                                "ram_kwh": 1e-5}},
            "tracker": {"name": "codecarbon", "version": "3.3.2", "mode": "CPU: RAPL counters", "tracking_mode": "process",
                        "country": "FRA", "hardware": ["CPU(Intel Rapl)"]}}


@pytest.mark.parametrize("block", [RECORDED, {"status": "off", "reason": "turned off"},
                                   {"status": "unavailable", "reason": "codecarbon is not installed"},
                                   {"kwh": 0.01, "meter": "wall plug"}],  # partial, with a key of a later version
                         ids=["recorded", "off", "unavailable", "partial"])
def test_energy_blocks_are_typed_and_round_trip_exactly(block):
    plain = {"schema_version": 2, "cell": Cell().to_dict(), "model": "BPR-MF", "energy": block}
    manifest = CellManifest.from_dict(plain)
    assert CellManifest.from_dict(manifest.to_dict()).to_dict() == manifest.to_dict()
    assert manifest.to_dict()["energy"] == block
    assert manifest.energy.recorded == (block.get("status") == "recorded")
    if manifest.energy.recorded:
        assert manifest.energy.phases["training"].kwh == 1.5e-4 and manifest.energy.tracker.country == "FRA"


def test_manifests_without_energy_read_as_none():
    manifests = [CellManifest.from_dict(json.loads(p.read_text())) for p in V1_MANIFESTS]
    assert all(m.energy is None and "energy" not in m.to_dict() for m in manifests)


def test_missing_record_keeps_absent_and_null_apart():
    cf = MissingRecord.from_dict({})
    unmasked = MissingRecord.from_dict({"setting": "none", "rate": 0.0, "strategy": "zeros", "mask_checksum": None})
    assert cf.to_dict() == {} and unmasked.to_dict()["mask_checksum"] is None
    assert Trial.from_dict({"params": {}, "valid": 0.1}).to_dict() == {"params": {}, "imputer_params": {}, "valid": 0.1}


@pytest.mark.parametrize("version", [3, "2", 0])
def test_unknown_versions_are_refused_with_the_file_named(version):
    with pytest.raises(DataError, match=r"result.json: manifest schema version .* upgrade mmstudy"):
        CellManifest.from_dict({"schema_version": version}, where="x/result.json")


def test_study_manifest_reads_spec_section_and_failures():
    plain = json.loads((V1 / "missing" / "study.json").read_text())
    study = StudyManifest.from_dict(plain)
    assert study.kind == "missing" and study.name == "v1-missing" and study.section["reference"] == "zeros"
    assert study.failed == {} and len(study.cells) == 10 and study.to_dict() == plain


def test_missing_record_types_the_mechanism_and_who_is_missing():
    plain = {"setting": "same", "rate": 0.5, "strategy": "zeros", "mask_checksum": "abc", "mechanism": "popularity",
             "strength": 2.0, "who_is_missing": {"items": [2, 2], "candidates": {"text": [2, 1]},
                                                 "masked": {"text": [0, 1]}, "natural": {"text": [0, 1]}}}
    record = MissingRecord.from_dict(plain)
    assert record.mechanism == "popularity" and record.who_is_missing.masked == {"text": [0, 1]}
    assert record.to_dict() == plain
    old = MissingRecord.from_dict({"setting": "same", "rate": 0.5, "strategy": "zeros", "mask_checksum": "abc"})
    assert old.mechanism is None and old.who_is_missing is None and "who_is_missing" not in old.to_dict()
