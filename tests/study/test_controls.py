"""Controls every study carries: the A/A cells (disjoint seeds, everything else identical), the noise
cells with their CF counterparts, and the noise content itself (the observed moments, nothing else)."""
from dataclasses import replace

import numpy as np
import pytest

from mmstudy.data.modality import Modality
from mmstudy.errors import ConfigError
from mmstudy.study.cell import Cell, DataConfig, MissingConfig
from mmstudy.study.controls import control_cells, noise_modalities
from mmstudy.study.spec import parse_spec

DATA = {"name": "synthetic", "options": {"n_users": 120, "n_items": 90, "n_interactions": 1800}}


def spec(**controls):
    return parse_spec({"name": "t", "data": DATA, "models": ["VBPR", "BPR-MF"], "seeds": [0, 1, 2],
                       "params": {"BPR-MF": {"reg_weight": 0.01}}, "controls": controls, "compare": {}},
                      "compare", "t")


def reference(s):
    masked = MissingConfig(setting="same", rate=0.5, strategy="mean")
    return [Cell(data=s.data, model=m, seed=seed, missing=masked, labels={"model": m, "seed": seed})
            for m in ("VBPR", "BPR-MF") for seed in s.seeds]


def test_aa_cells_change_only_the_training_seed():
    s = spec(noise=False)
    ref = reference(s)
    aa = control_cells(s, ref)
    assert len(aa) == len(ref)
    for original, control in zip(ref, aa):
        assert control.seed == original.seed + 1000 and control.missing == original.missing
        assert replace(control, seed=original.seed, labels=original.labels) == original
        assert control.labels["control"] == "aa" and control.labels["pairs_with"] == original.fingerprint


def test_noise_cells_pair_each_multimodal_model_with_its_cf_counterpart():
    s = spec(aa=False)
    cells = control_cells(s, reference(s))
    noise = [c for c in cells if c.labels["control"] == "noise"]
    cf = {c.fingerprint: c for c in cells if c.labels["control"] == "cf"}
    assert [c.model for c in noise] == ["VBPR"] * 3 and len(cf) == 3  # BPR-MF reads no content
    for cell in noise:
        partner = cf[cell.labels["pairs_with"]]
        assert cell.control == "noise" and cell.missing == MissingConfig()  # no masking on noise
        assert partner.model == "BPR-MF" and partner.seed == cell.seed and partner.params == {"reg_weight": 0.01}


def test_controls_can_be_turned_off_and_bad_settings_are_named():
    s = spec(aa=False, noise=False)
    assert control_cells(s, reference(s)) == []
    with pytest.raises(ConfigError, match="controls.seed_offset 1 makes A/A seeds \\[1, 2\\]"):
        control_cells(spec(seed_offset=1), reference(spec()))
    with pytest.raises(ConfigError, match="controls.aa must be true or false"):
        spec(aa="yes")
    with pytest.raises(ConfigError, match="t: unknown key 'noize' in controls"):
        spec(noize=True)


def test_noise_keeps_the_moments_and_the_gaps_but_no_item_information():
    rng = np.random.default_rng(0)
    features = (rng.normal(3.0, 2.0, (4000, 3)) * [1, 5, 0.1]).astype(np.float32)
    present = np.ones(4000, bool)
    present[:500] = False
    mod = Modality("image", "image", np.where(present[:, None], features, 0).astype(np.float32), present)
    out = noise_modalities({"image": mod}, seed=1)["image"]
    assert np.array_equal(out.present, present) and np.all(out.features[~present] == 0)
    np.testing.assert_allclose(out.features[present].mean(0), features[present].mean(0), atol=0.2)
    np.testing.assert_allclose(out.features[present].std(0), features[present].std(0), rtol=0.05)
    assert abs(np.corrcoef(out.features[present, 0], features[present, 0])[0, 1]) < 0.05
    again = noise_modalities({"image": mod}, seed=1)["image"]
    assert np.array_equal(again.features, out.features) and out.info["control"] == "noise"


def test_a_noise_cell_runs_on_noise(tmp_path):
    from mmstudy.study.executor import run_cell
    from mmstudy.study.workspace import Workspace

    cell = Cell(data=DataConfig(**DATA), model="VBPR", train={"epochs": 1}, control="noise")
    out = run_cell(cell, Workspace())
    assert all("Gaussian noise" in f.source for f in out.manifest.features.values())
    assert cell.fingerprint != replace(cell, control="").fingerprint
    assert replace(cell, control="").fingerprint == Cell(data=DataConfig(**DATA), model="VBPR",
                                                         train={"epochs": 1}).fingerprint
