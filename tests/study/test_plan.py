"""--plan: cell counts by factor, finished cells, cache contents and a time estimate from recorded
or sampled timings, without training anything for the counts (fast even at paper scale)."""
from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import pytest

from mmstudy.study import plan as plan_module
from mmstudy.study.manifest import CellManifest, Timing
from mmstudy.study.plan import (ModelTiming, _timing_from_sample, cell_trainings, duration, factor_counts, make_plan,
                                makespan, trials)

from .study_toys import TINY_DATA, tiny_cell, tiny_cells

ROOT = Path(__file__).resolve().parents[2]


def _no_training(*args, **kwargs):
    raise AssertionError("planning trained a cell")


def test_factor_counts_and_trials():
    cells = tiny_cells()
    counts = factor_counts(cells)
    assert counts["model"] == {"VBPR": 2, "BPR-MF": 2} and counts["seed"] == {"0": 2, "1": 2}
    assert counts["strategy"] == {"mean": 2}
    grid = tiny_cell(grid={"embedding_size": (8, 16, 32)})
    assert trials(grid) == 3 and trials(cells[0]) == 1
    assert trials(replace(grid, missing=replace(grid.missing, grid={"hops": (1, 2)}))) == 6


def test_reconstruction_and_serving_count_the_trainings_they_save():
    hops = {"hops": (1, 2, 3)}
    retrain = tiny_cell("VBPR", 0, "propagation")
    retrain = replace(retrain, missing=replace(retrain.missing, grid=hops))
    assert trials(retrain) == 3
    assert trials(replace(retrain, missing=replace(retrain.missing, select="reconstruction"))) == 1
    served = [replace(retrain, seed=seed, missing=replace(retrain.missing, phase="serving", strategy=strategy,
                                                          rate=rate))
              for seed in (0, 1) for strategy in ("zeros", "mean", "modality_dropout") for rate in (0.3, 0.6)]
    assert all(trials(c) == 0 for c in served)
    # one stored training per seed, and one more per seed for modality_dropout (trained with dropout)
    assert sum(cell_trainings(served)) == 4 and cell_trainings(served)[:3] == [1, 0, 0]
    grid = [replace(c, grid={"embedding_size": (8, 16)}) for c in served]
    assert sum(cell_trainings(grid)) == 8


def test_a_label_unique_to_each_cell_is_not_a_factor():
    cells = [replace(c, labels={**c.labels, "pairs_with": str(i)}) for i, c in enumerate(tiny_cells() * 4)]
    assert "pairs_with" not in factor_counts(cells) and "seed" in factor_counts(cells)


def test_makespan_and_duration():
    assert makespan([4, 3, 3, 2], 2) == 6 and makespan([5, 1], 4) == 5 and makespan([1, 2, 3], 1) == 6
    assert duration(30) == "30 s" and duration(600) == "10.0 min" and duration(7200) == "2.0 h"


def test_fresh_study_plans_without_training(tmp_path, monkeypatch):
    monkeypatch.setattr(plan_module, "run_cell", _no_training)
    plan = make_plan(tiny_cells(), tmp_path / "out", name="tiny", sample=0)
    text = plan.text()
    assert "study tiny: 4 cells" in text and "by model     VBPR 2, BPR-MF 2" in text
    assert "finished: 0 of 4 (4 to run)" in text and "split of synthetic (random, seed 0): not yet made" in text
    assert "estimate: none" in text and not (tmp_path / "out").exists()


def test_finished_cells_give_counts_cache_and_recorded_timing(serial_run, monkeypatch):
    folder, cells, _ = serial_run
    monkeypatch.setattr(plan_module, "run_cell", _no_training)
    more = cells + [tiny_cell("VBPR", 2, "mean"), tiny_cell("BPR-MF", 2)]
    plan = make_plan(more, folder, name="tiny", jobs=2, sample=2)
    text = plan.text()
    assert "finished: 4 of 6 (2 to run)" in text and "split of synthetic (random, seed 0): present" in text
    assert plan.timings["VBPR"].source == "recorded, 2 finished cells"
    assert "with --jobs 2:" in text and "serial:" in text
    expected = plan.timings["VBPR"].per_trial + plan.timings["BPR-MF"].per_trial
    assert sum(plan.cell_seconds()) == pytest.approx(expected)


def test_derived_graphs_in_the_cache_are_listed(tmp_path):
    derived = tmp_path / "out" / ".cache" / "derived"
    derived.mkdir(parents=True)
    (derived / "item-knn-0123.npz").write_bytes(b"x" * 1024)
    (derived / "ui-sym-4567.npz").write_bytes(b"x" * 1024)
    text = make_plan([tiny_cell()], tmp_path / "out", sample=0).text()
    assert "derived graphs: 2 (item-knn 1, ui-sym 1;" in text


def test_unfinished_models_are_sampled_in_a_temporary_folder(tmp_path, monkeypatch):
    sampled = []
    real = plan_module.run_cell
    monkeypatch.setattr(plan_module, "run_cell", lambda cell, *a, **k: sampled.append(cell) or real(cell, *a, **k))
    plan = make_plan(tiny_cells(), tmp_path / "out", sample=1, max_seconds=30)
    assert len(sampled) == 1 and sampled[0].train["max_seconds"] == 30  # one model sampled, budget given
    assert plan.timings["VBPR"].source == "sampled, ran to the end"
    assert plan.timings["BPR-MF"].source == "guessed from the other models"
    assert not (tmp_path / "out").exists()


def test_failed_sample_is_reported(tmp_path):
    plan = make_plan([tiny_cell(params={"no_such_param": 1})], tmp_path / "out", sample=1)
    assert "sample cell of BPR-MF failed: ConfigError" in plan.text()
    assert "estimate: none" in plan.text()


def test_budget_cut_sample_is_extrapolated_to_all_epochs():
    cell = tiny_cell().with_(train={"epochs": 100})
    manifest = CellManifest(timing=Timing(total_seconds=12.0, train_seconds=10.0, epochs_run=5))
    timing = _timing_from_sample(manifest, cell, budget=10.0)
    assert timing.per_trial == pytest.approx(2.0 + 100 * 2.0) and "upper bound" in timing.source
    done = _timing_from_sample(CellManifest(timing=replace(manifest.timing, train_seconds=3.0)), cell, budget=10.0)
    assert done == ModelTiming(12.0, "sampled, ran to the end")


def test_paper_scale_study_plans_in_seconds(tmp_path, monkeypatch):
    from mmstudy.studies.missing import KIND
    from mmstudy.studies.missing.design import missing_cells
    from mmstudy.study.spec import load_spec

    monkeypatch.setattr(plan_module, "run_cell", _no_training)
    started = time.perf_counter()
    spec = replace(load_spec(ROOT / "studies" / "missing-paper.yaml", "missing"), data=TINY_DATA)
    cells = missing_cells(spec, KIND.parse_section(spec), ["image", "text"])
    text = make_plan(cells, tmp_path / "out", name=spec.name, sample=0).text()
    assert len(cells) > 2000 and f"{len(cells)} cells" in text
    assert time.perf_counter() - started < 20


def test_plan_command_prints_the_plan(tmp_path, capsys):
    from mmstudy.studies.missing import main

    code = main(["--plan", "--plan-sample", "0", "--output", str(tmp_path / "out"), "--models", "VBPR",
                 "--seeds", "0", "1", "--rates", "0.5", "--strategies", "zeros", "mean"])
    out = capsys.readouterr().out
    assert code == 0 and "cells ->" in out and "by strategy" in out and "finished: 0 of" in out
    assert not (tmp_path / "out").exists()
