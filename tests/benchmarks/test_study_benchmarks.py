"""Study-level benchmark plumbing: stratified cell picks, the whole-study estimate with its
interval, the retrain-vs-reconstruction summary and the learning-rate pilot (pure functions on tiny
inputs)."""
import math
from dataclasses import replace

import numpy as np
import pytest
from scipy import stats

from benchmarks.contention import stratified
from benchmarks.imputer_selection import summarise
from benchmarks import learning_rate
from benchmarks.study_estimate import estimate, sample_cells
from mmstudy.study.cell import Cell, MissingConfig


def cells(model, strategies, n):
    return [Cell(model=model, seed=s, missing=MissingConfig(setting="same", rate=0.5, strategy=strategy),
                 labels={"strategy": strategy}) for strategy in strategies for s in range(n)]


def test_stratified_picks_take_turns_across_models_and_strategies():
    pool = cells("VBPR", ["zeros", "mean"], 5) + cells("LightGCN-M", ["zeros"], 5)
    picked = stratified(pool, 4)
    assert [(c.model, c.labels["strategy"]) for c in picked] == [
        ("VBPR", "zeros"), ("VBPR", "mean"), ("LightGCN-M", "zeros"), ("VBPR", "zeros")]
    assert len(stratified(pool, 100)) == len(pool)


def test_estimate_scales_each_model_and_bounds_it_with_a_t_interval():
    pool = cells("VBPR", ["zeros"], 10) + cells("BPR-MF", ["zeros"], 4)
    served = [replace(c, missing=replace(c.missing, phase="serving")) for c in cells("VBPR", ["mean"], 2)]
    rows = {r["model"]: r for r in estimate(pool + served, {"VBPR": [10.0, 12.0, 14.0], "BPR-MF": [5.0]})}
    assert rows["VBPR"]["trainings"] == 12  # 10 cells, and one stored training per serving seed
    assert rows["VBPR"]["total_h"] == pytest.approx(12 * 12.0 / 3600)
    half = stats.t.ppf(0.975, 2) * 2.0 / math.sqrt(3) * math.sqrt(1 - 3 / 12)
    assert rows["VBPR"]["half_width_h"] == pytest.approx(12 * half / 3600)
    assert rows["BPR-MF"]["half_width_h"] == 0.0 and rows["BPR-MF"]["total_h"] == pytest.approx(4 * 5 / 3600)


def test_sample_cells_draws_per_model_among_cells_that_train():
    pool = cells("VBPR", ["zeros"], 6)
    served = [replace(c, missing=replace(c.missing, phase="serving")) for c in pool]
    sample = sample_cells(pool + served, 3, seed=1)
    assert len(sample["VBPR"]) == 3 and all(c.missing.phase == "train_and_test" for c in sample["VBPR"])
    assert sample == sample_cells(pool + served, 3, seed=1)


def test_selection_summary_counts_agreement_and_pairs_the_difference():
    rows = [{"model": m, "same_choice": same, "diff": d, "retrain_s": 30.0, "reconstruction_s": 10.0}
            for m, same, d in (("A", True, 0.0), ("A", False, -0.01), ("B", True, 0.002), ("B", True, 0.004))]
    table = {r["model"]: r for r in summarise(rows)}
    assert table["A"]["same_choice"] == 0.5 and table["all"]["same_choice"] == 0.75
    assert table["all"]["mean_diff"] == pytest.approx(np.mean([0, -0.01, 0.002, 0.004]))
    assert table["all"]["time_ratio"] == pytest.approx(1 / 3) and table["all"]["ci_low"] < table["all"]["mean_diff"]


def test_learning_rate_pilot_trains_every_model_the_study_trains_on_complete_data():
    from mmstudy.study.spec import parse_spec, trained_models

    spec = parse_spec({"name": "t", "models": ["vbpr", "LightGCN-M"], "train": {"epochs": 7, "lr": 0.001},
                       "train_by_model": {"LightGCN": {"patience": 3}}, "missing": {}}, "missing", "t")
    models = trained_models(spec.models)
    assert models == ["VBPR", "LightGCN-M", "BPR-MF", "LightGCN"]
    pilot = learning_rate.pilot_cells(spec, models, [0.001, 0.01], [0, 1])
    assert len(pilot) == 4 * 2 * 2 and len({c.fingerprint for c in pilot}) == len(pilot)
    assert all(c.missing == spec.natural_gaps and c.missing.rate == 0 for c in pilot)
    lightgcn = [c for c in pilot if c.model == "LightGCN"]
    assert {c.train["lr"] for c in lightgcn} == {0.001, 0.01}
    assert all(c.train["patience"] == 3 and c.train["epochs"] == 7 for c in lightgcn)


def test_learning_rate_choice_is_the_fastest_within_one_standard_error_of_the_best():
    runs = [{"model": m, "lr": lr, "seed": s, "best_valid": v, "best_epoch": e, "epochs_run": e + 2, "seconds": 1.0}
            for m, lr, s, v, e in (("A", 0.001, 0, 0.30, 90), ("A", 0.001, 1, 0.32, 80), ("A", 0.01, 0, 0.33, 20),
                                   ("A", 0.01, 1, 0.33, 30), ("B", 0.001, 0, 0.5, 9), ("B", 0.01, 0, 0.4, 3),
                                   ("C", 0.001, 0, 0.40, 98), ("C", 0.001, 1, 0.42, 98), ("C", 0.01, 0, 0.405, 28),
                                   ("C", 0.01, 1, 0.409, 28), ("C", 0.1, 0, 0.39, 8), ("C", 0.1, 1, 0.39, 8))]
    rows = {(r["model"], r["lr"]): r for r in learning_rate.summarise(runs)}
    assert rows[("A", 0.01)]["chosen"] and rows[("A", 0.01)]["best"] and not rows[("A", 0.001)]["chosen"]
    assert rows[("A", 0.001)]["valid_mean"] == pytest.approx(0.31) and rows[("A", 0.01)]["best_epoch"] == 25
    assert rows[("A", 0.01)]["tolerance"] == pytest.approx(math.sqrt((0.02 ** 2 / 2 + 0) / 2 / 2))
    assert rows[("B", 0.001)]["chosen"] and math.isnan(rows[("B", 0.001)]["valid_sd"])  # one seed: the best mean
    assert rows[("B", 0.001)]["tolerance"] == 0.0
    # C: 0.01 is within one standard error of the best (0.001) and trains in 30 epochs, not 100;
    # 0.1 is faster still but further than one standard error below the best
    assert rows[("C", 0.001)]["best"] and rows[("C", 0.01)]["chosen"] and not rows[("C", 0.1)]["chosen"]
    block = learning_rate.train_by_model_block(list(rows.values()), default_lr=0.001)
    assert block == "train_by_model:\n  A: {lr: 0.01}\n  C: {lr: 0.01}"
    none = learning_rate.train_by_model_block([rows[("B", 0.001)]], default_lr=0.001)
    assert none.startswith("train_by_model: {}")
