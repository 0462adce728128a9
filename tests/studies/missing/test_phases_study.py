"""The missing study across phases (train_and_test, serving, new_items): the cells a study file
expands to, bad sections, and a tiny study through analysis, report and verify: complete-data
cells at 0%, who pays per segment, the new-items table, the headline heatmap."""
import re

import pandas as pd
import pytest

from tiny_study import run_missing_study, tiny_missing_spec
from mmstudy.errors import ConfigError
from mmstudy.registry import UnknownNameError
from mmstudy.report.verify import verify
from mmstudy.studies.missing import KIND
from mmstudy.studies.missing import main as KIND_MAIN
from mmstudy.studies.missing.design import missing_cells, study_cells
from mmstudy.studies.missing.who_pays import SEGMENTS

PHASES = ["train_and_test", "serving", "new_items"]


def cells_of(spec, modalities=("image", "text")):
    return missing_cells(spec, KIND.parse_section(spec), list(modalities))


def test_phases_cross_every_mask_and_strategy_with_their_complete_and_cf_cells():
    cells = cells_of(tiny_missing_spec(phases=PHASES, new_items_share=0.25, select="reconstruction"))
    masked = [c for c in cells if c.labels["role"] == "multimodal" and c.labels["strategy"] != "none"]
    assert len(masked) == 3 * 3 * 2  # phases x strategies x seeds (one setting, one rate)
    assert {c.labels["phase"]: c.missing.phase for c in masked} == {p: p for p in PHASES}
    assert all(c.missing.cold_share == (0.25 if c.missing.phase == "new_items" else 0.0) for c in masked)
    assert all(c.missing.select == "reconstruction" for c in masked)
    complete = [c for c in cells if c.labels["strategy"] == "none"]
    # complete data: train_and_test (serving starts there too) and new_items, per seed, for VBPR and BPR-MF
    assert sorted((c.labels["role"], c.labels["phase"]) for c in complete) == sorted(
        [(role, phase) for role in ("multimodal", "cf") for phase in ("train_and_test", "new_items")] * 2)
    assert all(c.missing.segment_views == (c.labels["role"] == "multimodal") for c in complete)
    dropped_cf = [c for c in cells if c.labels["role"] == "cf" and c.labels["strategy"] == "dropped"]
    assert sorted(c.labels["phase"] for c in dropped_cf) == ["new_items"] * 2 + ["train_and_test"] * 2
    assert len({c.fingerprint for c in cells}) == len(cells)


def test_a_study_without_complete_cells_starts_its_curves_at_the_first_rate():
    cells = cells_of(tiny_missing_spec(complete=False))
    assert not [c for c in cells if c.labels["role"] == "multimodal" and c.labels["strategy"] == "none"]
    assert [c for c in cells if c.labels["role"] == "cf" and c.labels["strategy"] == "none"]  # CF stays


@pytest.mark.parametrize("section, error, message", [
    ({"phases": ["servng"]}, UnknownNameError, "Did you mean 'serving'"),
    ({"phases": []}, ConfigError, "missing.phases is empty"),
    ({"phases": ["serving", "serving"]}, ConfigError, "serving"),
    ({"phases": ["new_items"], "new_items_share": 1.5}, ConfigError, "new_items_share must lie in (0, 1)"),
    ({"select": "guess"}, ConfigError, "missing.select: unknown value 'guess'"),
])
def test_bad_phase_sections(section, error, message):
    with pytest.raises(error, match=re.escape(message)):
        cells_of(tiny_missing_spec(**section))


def test_too_few_items_to_hold_out_is_one_line_before_anything_is_written(tmp_path, capsys):
    config = tmp_path / "study.yaml"
    config.write_text("name: cold\nmodels: [VBPR]\ndata: {name: synthetic, options: {n_items: 40, n_users: 60, "
                      "n_interactions: 300}}\nmissing: {phases: [new_items], new_items_share: 0.001}\n")
    output = tmp_path / "out"
    assert KIND_MAIN(["--config", str(config), "--output", str(output)]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith(f"error: {config}: new_items: a cold share of 0.001 holds out 0 of the")
    assert "\n" not in error and not output.exists()


def test_study_cells_does_not_extract_features(monkeypatch):
    import mmstudy.features.apply as apply

    monkeypatch.setattr(apply, "apply_features", lambda *a, **k: pytest.fail("extracted features to list cells"))
    spec = tiny_missing_spec()
    spec = type(spec)(**{**spec.__dict__, "data": spec.data.__class__(**{**spec.data.__dict__,
                                                                           "features": {"text": "minilm-l6"}})})
    assert study_cells(spec, KIND.parse_section(spec))


@pytest.fixture(scope="module")
def phases_study(tmp_path_factory):
    spec = tiny_missing_spec(phases=PHASES, new_items_share=0.2, strategies=["zeros", "mean", "dropped"], grids={},
                             rates=[0.3, 0.6])
    return run_missing_study(spec, tmp_path_factory.mktemp("phases"))


def test_robustness_starts_from_complete_data_and_dropped_has_its_own_panel(phases_study):
    robust = pd.read_csv(phases_study / "tables" / "robustness.csv")
    complete = robust[robust["strategy"] == "none"]
    assert set(complete["phase"]) == {"train_and_test", "new_items"} and (complete["rate"] == 0).all()
    figures = {p.name for p in (phases_study / "figures").glob("*.png")}
    assert {f"robustness_vbpr_{p.replace('_', '-')}_mcar_same.png" for p in PHASES} <= figures
    assert "headline_vbpr.png" in figures


def test_who_pays_pairs_every_segment_with_complete_data(phases_study):
    table = pd.read_csv(phases_study / "tables" / "who_pays.csv")
    assert set(table["segment"]) == set(SEGMENTS)
    assert set(table["strategy"]) == {"zeros", "mean"}  # dropped ranks another catalogue
    assert set(table["phase"]) == set(PHASES) and (table["n_seeds"] == 2).all()
    users = table.set_index(["phase", "strategy", "rate", "segment"])["n_users"]
    key = ("train_and_test", "zeros", 0.6)
    assert users[(*key, "masked-item users")] + users[(*key, "other users")] <= users.max() * 2
    assert (table["correction"] == "fdr_bh").all()


def test_new_items_are_reported_against_the_random_floor_and_cf(phases_study):
    cold = pd.read_csv(phases_study / "tables" / "new_items.csv")
    assert {"multimodal", "cf"} == set(cold["role"]) and (cold["random_floor"] > 0).all()
    assert set(cold[cold["role"] == "multimodal"]["strategy"]) == {"none", "zeros", "mean", "dropped"}
    versus = pd.read_csv(phases_study / "tables" / "new_items_vs_cf.csv")
    assert set(versus["cf_model"]) == {"BPR-MF"} and set(versus["strategy"]) == {"none", "zeros", "mean"}


def test_serving_reuses_one_training_per_seed(phases_study):
    import json

    served = [json.loads(p.read_text()) for p in (phases_study / "cells").glob("*/result.json")]
    served = [m for m in served if m["labels"].get("phase") == "serving" and m["labels"]["strategy"] != "dropped"]
    trainings = {(m["labels"]["seed"], m["serving"]["training"]) for m in served}
    assert len(trainings) == 2  # one per seed for every strategy and rate


def test_the_phases_study_verifies(phases_study):
    problems, checked = verify(phases_study)
    assert problems == [] and checked > 100


def test_who_pays_leaves_out_segments_without_users_shared_by_every_seed():
    """A mask per seed at a high rate: each seed has users free of masked test items, but no two are
    the same in both seeds; that segment is left out instead of failing the report."""
    from types import SimpleNamespace

    import numpy as np

    from mmstudy.analysis.pairing import GroupPair
    from mmstudy.study.spec import AnalysisConfig
    from mmstudy.studies.missing.who_pays import who_pays

    rng = np.random.default_rng(0)
    users = {"a0": range(0, 40), "a1": range(0, 40), "b0": range(0, 40), "b1": range(0, 40),  # full views
             "o0": range(0, 3), "o1": range(3, 6)}  # 'other users' of seeds 0 and 1: disjoint

    def per_user(fp, view):
        key = {"other_users": "o"}.get(view, "a" if fp.startswith("a") else "b") + fp[-1]
        return pd.DataFrame({"Recall@20": rng.random(len(users[key]))}, index=list(users[key]))

    files = ["per_user.parquet", "segments.parquet"]
    results = SimpleNamespace(per_user=per_user, analysis=AnalysisConfig(min_seeds=2),
                              all_manifests={fp: SimpleNamespace(files=files) for fp in ("a0", "a1", "b0", "b1")})
    pair = dict(a={0: "a0", 1: "a1"}, b={0: "b0", 1: "b1"})
    pairs = [GroupPair(label="all users", keys=(("segment", "all"),), **pair),
             GroupPair(label="other users", view_a="other_users", keys=(("segment", "other"),), **pair)]
    table = who_pays(results, pairs, "Recall@20")
    assert list(table["segment"]) == ["all"] and table["n_users"].tolist() == [40]
