"""Expanding a missing-modality study file into cells."""
import pytest

from tiny_study import tiny_missing_spec
from mmstudy.errors import ConfigError
from mmstudy.missing.masking import parse_setting
from mmstudy.studies.missing import KIND
from mmstudy.studies.missing.design import missing_cells
from mmstudy.registry import UnknownNameError



def cells_of(spec, modalities=("image", "text")):
    return missing_cells(spec, KIND.parse_section(spec), list(modalities))

def test_grid_and_cf_counterparts():
    cells = cells_of(tiny_missing_spec())
    mm = [c for c in cells if c.labels["role"] == "multimodal"]
    cf = [c for c in cells if c.labels["role"] == "cf"]
    assert len(mm) == 1 * 1 * 3 * 2  # settings x rates x strategies x seeds
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
