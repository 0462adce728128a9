"""Seed batching in studies: the setting and its fingerprint, grouping into jobs, the executor's
batched and separate paths (modes recorded, one test pass per cell, per-cell failures, energy
shares), and the runner's resume per cell."""
from __future__ import annotations

import pytest

from energy_toys import faked_tracker
from mmstudy.errors import ConfigError
from mmstudy.study import executor, worker
from mmstudy.study.cell import Cell, MissingConfig
from mmstudy.study.energy import EnergyConfig
from mmstudy.study.executor import run_cell, run_cells
from mmstudy.study.runner import run_study
from mmstudy.study.seed_batch import seed_batches, separate_reason
from mmstudy.study.store import ResultStore
from mmstudy.study.workspace import Workspace
from mmstudy.training import DivergenceError

from .study_toys import tiny_cell

BATCHED = {"epochs": 3, "batch_size": 512, "seed_batch": True}


def batched(model="VBPR", seeds=(0, 1, 2), strategy="mean", **changes) -> list[Cell]:
    return [tiny_cell(model, s, strategy if model in ("VBPR", "LightGCN-M", "FREEDOM") else None, **changes)
            .with_(train=BATCHED) for s in seeds]


def test_the_setting_is_in_the_fingerprint_only_when_on():
    cell = tiny_cell()
    off = cell.with_(train={**cell.train, "seed_batch": False})
    on = cell.with_(train={**cell.train, "seed_batch": True})
    assert off.fingerprint == cell.fingerprint and "seed_batch" not in off.to_dict()["train"]
    assert on.fingerprint != cell.fingerprint and on.to_dict()["train"]["seed_batch"] is True


@pytest.mark.parametrize("train, message", [
    ({"seed_batch": "yes"}, "train.seed_batch must be true or false, got 'yes'"),
    ({"seed_batch": 1}, "train.seed_batch must be true or false, got 1"),
])
def test_bad_setting_is_one_clear_error(train, message):
    with pytest.raises(ConfigError, match=message):
        Cell.from_dict({"train": train})


def test_jobs_group_a_configurations_seeds_and_keep_the_rest_alone():
    vbpr, bpr = batched("VBPR"), batched("BPR-MF", seeds=(0, 1))
    other_lr = [c.with_(train={**BATCHED, "lr": 0.01}) for c in batched("VBPR", seeds=(0, 1))]
    plain = [tiny_cell("VBPR", s, "mean") for s in (0, 1)]
    cells = [vbpr[0], bpr[0], plain[0], vbpr[1], other_lr[0], plain[1], bpr[1], vbpr[2], other_lr[1]]
    jobs = seed_batches(cells)
    assert jobs == [vbpr, bpr, [plain[0]], other_lr, [plain[1]]]


@pytest.mark.parametrize("cell, reason", [
    (tiny_cell("VBPR", 0, "mean"), None),
    (tiny_cell("lgn"), None),
    (tiny_cell("FREEDOM", 0, "mean"), "model FREEDOM has no seed-batched implementation (models.seed_batch)"),
    (tiny_cell("VBPR", 0, "mean", control="noise"), "the noise control gives every seed its own noise features"),
    (tiny_cell("VBPR", 0, "modality_dropout"), "modality_dropout gives every seed its own content-dropout draws"),
    (tiny_cell("BPR-MF", 0, "modality_dropout"), None),  # reads no content: nothing to drop
    (tiny_cell("VBPR", 0, "mean", fusion={"point": "late"}), "late fusion trains and stores per-modality components"),
    (tiny_cell("VBPR").with_(missing=MissingConfig(setting="same", rate=0.5, strategy="mean", phase="serving")),
     "the serving phase serves one stored training"),
])
def test_separate_reasons(cell, reason):
    assert separate_reason(cell) == reason


def test_a_batch_trains_each_seed_as_its_own_cell(monkeypatch):
    tests = []
    real = executor.evaluate
    monkeypatch.setattr(executor, "evaluate", lambda scorer, split, part, **kw: tests.append((scorer, part))
                        or real(scorer, split, part, **kw))
    cells = batched("VBPR", grid={"reg_weight": [1e-4, 1e-1]})
    outcomes = run_cells(cells, Workspace())
    assert [part for _, part in tests] == ["test"] * 3 and len({id(s) for s, _ in tests}) == 3  # one pass each
    separate = [run_cell(c.with_(train={**BATCHED, "seed_batch": False}), Workspace()) for c in cells]
    for cell, outcome, alone in zip(cells, outcomes, separate):
        manifest = outcome.manifest
        assert manifest.training.mode == "seed_batch" and manifest.training.seeds == [0, 1, 2]
        assert manifest.cell == cell and manifest.seeds.training == cell.seed
        assert manifest.test.evaluations == 1 and len(manifest.selection.trials) == 2
        assert manifest.selection.selected_params == alone.manifest.selection.selected_params
        assert manifest.selection.best_epoch == alone.manifest.selection.best_epoch
        assert outcome.per_user["Recall@20"].mean() == pytest.approx(alone.per_user["Recall@20"].mean(), abs=1e-6)
        assert list(outcome.tables["valid_curve"].columns) == list(alone.tables["valid_curve"].columns)
        assert "training" not in alone.manifest.to_dict()  # a cell not asking for it: manifests as before
    assert outcomes[0].per_user["Recall@20"].mean() != outcomes[1].per_user["Recall@20"].mean()


def test_unbatchable_cells_train_separately_and_say_why():
    cells = batched("FREEDOM", seeds=(0, 1))
    for cell, outcome in zip(cells, run_cells(cells, Workspace())):
        record = outcome.manifest.training
        assert (record.mode, record.seeds) == ("separate", [cell.seed])
        assert record.reason == "model FREEDOM has no seed-batched implementation (models.seed_batch)"


def test_run_cell_of_a_cell_asking_for_it_is_a_batch_of_one():
    assert run_cell(batched("BPR-MF", seeds=(4,))[0], Workspace()).manifest.training.seeds == [4]


def test_a_diverging_seed_fails_its_cell_only(monkeypatch):
    from mmstudy.study import seed_batch

    real = seed_batch.fit_seeds

    def fit_seeds(batch, split, config, seeds, progress=False):
        results = real(batch, split, config, seeds, progress)
        return [DivergenceError("training loss became nan at epoch 2 of BPRMF") if s == 1 else r
                for s, r in zip(seeds, results)]

    monkeypatch.setattr(seed_batch, "fit_seeds", fit_seeds)
    outcomes = run_cells(batched("BPR-MF"), Workspace())
    assert isinstance(outcomes[1], DivergenceError)
    assert [o.manifest.seeds.training for o in (outcomes[0], outcomes[2])] == [0, 2]


def test_a_failing_shared_part_fails_every_cell_of_the_batch():
    outcomes = run_cells(batched("BPR-MF", seeds=(0, 1), params={"no_such_param": 1}), Workspace())
    assert all(isinstance(o, ConfigError) and "no_such_param" in str(o) for o in outcomes)


@pytest.mark.parametrize("cells, message", [
    (batched("BPR-MF", seeds=(0, 0)), r"one per seed; got seeds \[0, 0\] of 1 configuration"),
    (batched("BPR-MF", seeds=(0,)) + batched("VBPR", seeds=(1,)), r"got seeds \[0, 1\] of 2 configuration"),
])
def test_a_batch_is_one_configuration_one_cell_per_seed(cells, message):
    with pytest.raises(ValueError, match=message):
        run_cells(cells, Workspace())


def test_shared_energy_is_divided_among_the_batch():
    with faked_tracker():  # task i uses i mWh: data 1, training 2, then each cell's test 3 and 4
        outcomes = run_cells(batched("BPR-MF", seeds=(0, 1)), Workspace(), energy=EnergyConfig())
    first, second = (o.manifest.energy for o in outcomes)
    assert first.phases["data"].kwh == pytest.approx(0.5e-3) and first.phases["training"].kwh == pytest.approx(1e-3)
    assert (first.phases["test"].kwh, second.phases["test"].kwh) == pytest.approx((3e-3, 4e-3))
    assert first.kwh + second.kwh == pytest.approx(10e-3)  # every measured task counted once
    shared = outcomes[0].manifest.training.shared_seconds
    assert all(shared / 2 < o.manifest.timing.total_seconds for o in outcomes)


def test_the_runner_batches_pending_seeds_and_resumes_per_cell(tmp_path, monkeypatch):
    cells = batched("VBPR", seeds=(0, 1, 2)) + batched("FREEDOM", seeds=(0,))
    run_study([cells[1]], tmp_path, threads=1, progress=False, energy=None)  # one seed already finished
    jobs = []
    real = worker.run_cells
    monkeypatch.setattr(worker, "run_cells", lambda cs, *a, **kw: jobs.append([c.seed for c in cs]) or real(cs, *a, **kw))
    summary = run_study(cells, tmp_path, threads=1, progress=False, energy=None)
    assert jobs == [[0, 2], [0]] and summary.skipped == [cells[1].fingerprint] and len(summary.done) == 3
    store = ResultStore(tmp_path)
    assert store.manifest(cells[0].fingerprint).training.seeds == [0, 2]
    assert store.manifest(cells[1].fingerprint).training.seeds == [1]
    curve = store.table(cells[2].fingerprint, "valid_curve")
    assert list(curve["epoch"]) == [1, 2, 3] and "Recall@20" in curve


def test_a_pool_run_stores_what_the_serial_run_stores(tmp_path):
    cells = batched("BPR-MF", seeds=(0, 1, 2))
    run_study(cells, tmp_path / "serial", threads=1, progress=False, energy=None)
    summary = run_study(cells, tmp_path / "pool", jobs=2, threads=1, progress=False, energy=None)
    assert len(summary.done) == 3 and not summary.failed
    serial, pool = ResultStore(tmp_path / "serial"), ResultStore(tmp_path / "pool")
    for cell in cells:
        assert serial.load(cell.fingerprint)[0].equals(pool.load(cell.fingerprint)[0])
        assert pool.manifest(cell.fingerprint).training.seeds == [0, 1, 2]
