"""Study-level benchmark plumbing: stratified cell picks, the whole-study estimate with its
interval, and the retrain-vs-reconstruction summary (pure functions on tiny inputs)."""
import math
from dataclasses import replace

import numpy as np
import pytest
from scipy import stats

from benchmarks.contention import stratified
from benchmarks.imputer_selection import summarise
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
