"""Expanding a missing-modality study file into cells."""
import re
from dataclasses import replace
from pathlib import Path

import pytest

from tiny_study import tiny_missing_spec
from mmstudy.errors import ConfigError
from mmstudy.missing.handling import mask_for
from mmstudy.missing.masking import parse_setting
from mmstudy.studies.missing import KIND
from mmstudy.studies.missing import main as KIND_MAIN
from mmstudy.studies.missing.design import missing_cells, reference_cells
from mmstudy.registry import UnknownNameError
from mmstudy.study.spec import load_spec
from mmstudy.study.workspace import Workspace



def cells_of(spec, modalities=("image", "text")):
    return missing_cells(spec, KIND.parse_section(spec), list(modalities))

def test_grid_and_cf_counterparts():
    cells = cells_of(tiny_missing_spec())
    mm = [c for c in cells if c.labels["role"] == "multimodal" and c.labels["strategy"] != "none"]
    complete = [c for c in cells if c.labels["role"] == "multimodal" and c.labels["strategy"] == "none"]
    cf = [c for c in cells if c.labels["role"] == "cf"]
    assert len(mm) == 1 * 1 * 3 * 2  # settings x rates x strategies x seeds
    assert len(complete) == 2 and all(c.missing.setting == "none" and c.missing.segment_views for c in complete)
    assert {c.labels["phase"] for c in cells} == {"train_and_test"}
    assert {c.model for c in cf} == {"BPR-MF"}
    assert len(cf) == 2 + 2  # full data per seed + dropped catalogue per (rate, seed)
    assert len({c.fingerprint for c in cells}) == len(cells)
    # the same (rate, seed) draws the same mask for every strategy: same mask seed
    by_seed = {}
    for c in mm:
        by_seed.setdefault(c.seed, set()).add((c.missing.mask_seed, c.missing.rate))
    assert all(len(v) == 1 for v in by_seed.values())
    prop = [c for c in mm if c.missing.strategy == "propagation"]
    assert all({k: list(v) for k, v in c.missing.grid.items()} == {"hops": [1, 3]} for c in prop)
    assert all(c.missing.common_items for c in mm)


@pytest.mark.parametrize("section, error, message", [
    ({"rates": [0.0]}, ConfigError, "outside"),
    ({"rates": [1.2]}, ConfigError, "outside"),
    ({"strategies": ["zeros", "propagaton"]}, UnknownNameError, "propagation"),
    ({"reference": "mean"}, ConfigError, "not among"),
    ({"settings": ["single:audio"]}, ConfigError, "audio"),
    ({"settings": ["sometimes"]}, ConfigError, "unknown setting"),
    ({"ratez": [0.5]}, ConfigError, "Did you mean 'rates'"),
])
def test_bad_sections(section, error, message):
    with pytest.raises(error, match=message):
        cells_of(tiny_missing_spec(**section))


def test_same_setting_needs_two_modalities():
    with pytest.raises(ConfigError, match="only"):
        parse_setting("same", ["text"])
    assert parse_setting("single:text", ["text"]) == ("single", "text")
    assert parse_setting("single", ["text"]) == ("single", "text")


def test_cf_models_are_refused_as_study_models():
    from mmstudy.study.spec import parse_spec
    spec = parse_spec({"name": "x", "models": ["BPR-MF"], "missing": {}}, "missing", "x")
    with pytest.raises(ConfigError, match="uses no modality"):
        cells_of(spec)


V1 = Path(__file__).resolve().parents[2] / "fixtures" / "results_v1"
BIASED = ["mcar", {"name": "popularity", "strength": 2}]


def test_the_v1_study_file_still_expands_to_its_recorded_cells():
    """Cells written before mechanisms keep their fingerprints: the fixture's study file (mcar by
    default) expands to exactly the cells its results folder holds."""
    spec = load_spec(V1 / "missing.yaml", "missing")
    cells = cells_of(spec)
    recorded = {p.name for p in (V1 / "missing" / "cells").iterdir()}
    assert recorded <= {c.fingerprint for c in cells}
    added = [c for c in cells if c.fingerprint not in recorded]  # resuming it runs only the complete-data cells
    assert added and all(c.labels["strategy"] == "none" and c.labels["role"] == "multimodal" for c in added)
    assert {c.labels["mechanism"] for c in cells} == {"mcar", "none"}


def test_mechanisms_cross_settings_rates_strategies_and_seeds():
    cells = cells_of(tiny_missing_spec(mechanisms=BIASED, settings=["same", "natural"], rates=[0.3, 0.6]))
    mm = [c for c in cells if c.labels["role"] == "multimodal" and c.labels["strategy"] != "none"]
    cf = [c for c in cells if c.labels["role"] == "cf"]
    assert len(mm) == (2 * 2 + 1) * 3 * 2  # (mechanisms x rates + natural once) x strategies x seeds
    assert len(cf) == 2 + (2 * 2 + 1) * 2  # full data per seed + each dropped catalogue per seed
    assert len({c.fingerprint for c in cells}) == len(cells)
    by_label = {}
    for c in mm + cf:
        by_label.setdefault(c.labels["mechanism"], set()).add((c.missing.mechanism, c.missing.strength))
    assert by_label == {"mcar": {("mcar", 0.0)}, "popularity:2": {("popularity", 2.0)}, "natural": {("mcar", 0.0)},
                        "none": {("mcar", 0.0)}}  # none: a CF model on the full data
    assert {c.labels["setting"] for c in mm if c.labels["mechanism"] == "natural"} == {"natural"}
    plain = {c.fingerprint for c in cells_of(tiny_missing_spec(settings=["same", "natural"], rates=[0.3, 0.6]))}
    assert {c.fingerprint for c in cells if c.labels["mechanism"] in ("mcar", "natural", "none")} == plain


def test_reference_cells_are_the_first_mechanism():
    spec = tiny_missing_spec(mechanisms=[{"name": "content", "strength": 1}, "mcar"])
    section = KIND.parse_section(spec)
    reference = reference_cells(cells_of(spec), section)
    assert len(reference) == 2 and {c.labels["mechanism"] for c in reference} == {"content:1"}


def test_masks_are_identical_across_strategies_and_models():
    """Every cell at one (mechanism, strength, setting, rate, seed) draws the same mask, whatever its
    strategy or model (CF models on a dropped catalogue included); mechanisms draw different ones."""
    spec = replace(tiny_missing_spec(mechanisms=[*BIASED, {"name": "content", "strength": 1}],
                                     settings=["same", "single:text"]), models=("VBPR", "LightGCN-M"))
    workspace = Workspace()
    dataset = workspace.dataset(spec.data)
    split = workspace.split(dataset, spec.data)
    checksums = {}
    for cell in cells_of(spec, list(dataset.modalities)):
        if cell.missing.setting == "none":
            continue
        mask = mask_for(dataset.modalities, cell.missing, split)
        key = tuple(cell.labels[k] for k in ("mechanism", "setting", "rate", "seed"))
        checksums.setdefault(key, set()).add(mask.checksum)
    assert len(checksums) == 3 * 2 * 2 and all(len(v) == 1 for v in checksums.values())
    assert len({next(iter(v)) for v in checksums.values()}) == len(checksums)


@pytest.mark.parametrize("mechanisms, message", [
    (["mcar", "popularty"], "missing.mechanisms[1]: unknown missingness mechanism 'popularty'. Did you mean "
                            "'popularity'?"),
    ([{"name": "content", "strength": -1}], "missing.mechanisms[0] (content): strength -1 is negative"),
    ([{"name": "content", "strength": float("nan")}], "strength must be a number from 0 to 10, got nan"),
    ([{"name": "popularity", "strength": "strong"}], "got 'strong'"),
    ([{"name": "popularity", "strength": 25}], "above the maximum 10"),
    ([{"name": "mcar", "strength": 1}], "mechanism 'mcar' takes no strength"),
    (["natural"], "the data's own gaps are the setting 'natural'"),
    ([{"name": "natural", "strength": 1}], "the data's own gaps are the setting 'natural'"),
    ([{"name": "popularity", "strenght": 2}], "Did you mean 'strength'"),
    (["popularity", {"name": "popularity", "strength": 1.0}], "'popularity:1' is listed twice"),
    ([], "list at least one mechanism"),
    ([3], "expected a mechanism name"),
])
def test_bad_mechanisms(mechanisms, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        cells_of(tiny_missing_spec(mechanisms=mechanisms))


def test_a_bad_mechanism_stops_the_study_before_anything_is_written(tmp_path, capsys):
    config = tmp_path / "study.yaml"
    config.write_text("name: bad\nmodels: [VBPR]\nmissing: {mechanisms: [mcar, {name: popularity, strength: -2}]}\n")
    output = tmp_path / "out"
    assert KIND_MAIN(["--config", str(config), "--output", str(output)]) == 2
    error = capsys.readouterr().err.strip()
    assert error == (f"error: {config}: missing.mechanisms[1] (popularity): strength -2 is negative; it runs from 0 (the mcar "
                     "order) to 10 (larger: the favoured items lose content first)")
    assert not output.exists()
