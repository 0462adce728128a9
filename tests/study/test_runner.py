"""run_study: serial and process-pool execution, failures, progress, devices, shared splits."""
from __future__ import annotations

import json

import pytest
import torch

from mmstudy.errors import ConfigError
from mmstudy.study import worker
from mmstudy.study.energy import EnergyConfig
from mmstudy.study.runner import run_study
from mmstudy.study.worker import threads_per_worker, torch_settings
from mmstudy.study.store import ResultStore

from .study_toys import assert_same_tables, per_user_tables, tiny_cell


def test_serial_run_finishes_every_cell(serial_run):
    folder, cells, summary = serial_run
    assert sorted(summary.done) == sorted(c.fingerprint for c in cells) and not summary.failed
    study = json.loads((folder / "study.json").read_text())
    assert study["summary"] == {"done": 4, "skipped": 0, "failed": {}}
    assert study["run"]["executor"] == "local" and study["device"] == "cpu"
    manifest = ResultStore(folder).load(cells[0].fingerprint)[1]
    assert manifest.environment.hardware["device"] == "cpu"
    assert manifest.environment.hardware["torch_threads"] == 1
    assert manifest.environment.torch_deterministic is True


def test_rerun_skips_finished_cells(serial_run, tmp_path, monkeypatch):
    folder, cells, _ = serial_run
    monkeypatch.setattr(worker, "run_cell", _must_not_run)
    summary = run_study(cells, folder, threads=1, progress=False, cache_dir=tmp_path)
    assert summary.done == [] and sorted(summary.skipped) == sorted(c.fingerprint for c in cells)


def _must_not_run(*args, **kwargs):
    raise AssertionError("a finished cell was run again")


def test_two_jobs_match_the_serial_run_exactly(serial_run, tmp_path):
    folder, cells, _ = serial_run
    summary = run_study(cells, tmp_path, jobs=2, progress=False, energy=EnergyConfig(enabled=False))
    assert len(summary.done) == 4 and not summary.failed
    assert_same_tables(per_user_tables(folder, cells), per_user_tables(tmp_path, cells))
    store = ResultStore(tmp_path)
    for cell in cells:
        manifest = store.load(cell.fingerprint)[1]
        assert manifest.environment.hardware["torch_threads"] == threads_per_worker(2)
        assert "reused_from" in manifest.split.extra  # made once by the runner, loaded by the workers
        assert manifest.energy.status == "off"  # the setting reaches the pool workers
    assert len(list((tmp_path / ".cache" / "splits").glob("*.npz"))) == 1
    assert json.loads((tmp_path / "study.json").read_text())["run"]["energy"] == {"enabled": False, "country": None}


def test_energy_is_measured_by_default(serial_run):
    folder, cells, _ = serial_run
    store = ResultStore(folder)
    for cell in cells:
        assert store.manifest(cell.fingerprint).energy.status in ("recorded", "unavailable")


def test_a_failing_cell_fails_alone(tmp_path, capsys):
    bad = tiny_cell("BPR-MF", 5, params={"no_such_param": 1})
    good = [tiny_cell("BPR-MF", 0), tiny_cell("BPR-MF", 1)]
    summary = run_study([good[0], bad, good[1]], tmp_path, threads=1, progress=False)
    assert sorted(summary.done) == sorted(c.fingerprint for c in good)
    assert list(summary.failed) == [bad.fingerprint] and "no_such_param" in summary.failed[bad.fingerprint]
    out = capsys.readouterr().out
    assert "1 failed cell(s):" in out and f"{bad.fingerprint[:10]}  model=BPR-MF, seed=5: ConfigError" in out
    study = json.loads((tmp_path / "study.json").read_text())
    assert "no_such_param" in study["summary"]["failed"][bad.fingerprint]
    assert not ResultStore(tmp_path).is_done(bad.fingerprint)


def test_status_lines_name_the_cell_and_its_seconds(tmp_path, capsys):
    cell = tiny_cell("BPR-MF", 3)
    run_study([cell], tmp_path, threads=1, progress=False)
    line = next(l for l in capsys.readouterr().out.splitlines() if l.startswith("done"))
    assert line.startswith(f"done    {cell.fingerprint[:10]}  model=BPR-MF, seed=3  (") and line.endswith(" s)")


def test_duplicate_cells_run_once(tmp_path):
    cell = tiny_cell("BPR-MF", 4)
    summary = run_study([cell, cell], tmp_path, threads=1, progress=False)
    assert summary.done == [cell.fingerprint]


def test_serial_run_restores_the_callers_torch_settings(tmp_path):
    before = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    run_study([tiny_cell("BPR-MF", 6)], tmp_path, threads=1, progress=False)
    assert (torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()) == before


def _gather_gradients(repeats: int = 5) -> list[torch.Tensor]:
    """Gradients of a BPR-like loss over mini-batch gathers with repeated rows."""
    gen = torch.Generator().manual_seed(0)
    table = torch.randn(1800, 128, generator=gen)
    users = torch.randint(0, 1000, (2048,), generator=gen)
    items = torch.randint(1000, 1800, (2048,), generator=gen)
    out = []
    for _ in range(repeats):
        leaf = table.clone().requires_grad_()
        (leaf[users] * leaf[items]).sum(1).sigmoid().mean().backward()
        out.append(leaf.grad)
    return out


def test_cells_train_deterministically_with_several_threads():
    # multi-threaded CPU index backward adds with atomics in a varying order unless deterministic
    # algorithms are on: the cause of run-to-run (and executor-to-executor) differences
    before = torch.are_deterministic_algorithms_enabled(), torch.get_num_threads()
    with torch_settings(2, deterministic=True):
        first, *others = _gather_gradients()
        assert torch.are_deterministic_algorithms_enabled() and torch.get_num_threads() == 2
    assert all(torch.equal(first, other) for other in others)
    assert (torch.are_deterministic_algorithms_enabled(), torch.get_num_threads()) == before


def test_second_cell_sharing_the_split_does_not_remake_it(tmp_path, monkeypatch):
    import mmstudy.data.holdout as holdout

    calls = []
    make_split = holdout.make_split
    monkeypatch.setattr(holdout, "make_split", lambda *a, **k: calls.append(1) or make_split(*a, **k))
    monkeypatch.setattr(worker, "_WORKSPACES", {})
    run_study([tiny_cell("BPR-MF", 7)], tmp_path, threads=1, progress=False)
    monkeypatch.setattr(worker, "_WORKSPACES", {})  # as if a new process: only the disk cache is left
    run_study([tiny_cell("LightGCN", 7)], tmp_path, threads=1, progress=False)
    assert len(calls) == 1


def test_derived_graphs_are_reused_from_disk_by_a_new_workspace(tmp_path, monkeypatch):
    monkeypatch.setattr(worker, "_WORKSPACES", {})
    run_study([tiny_cell("LightGCN", 8)], tmp_path, threads=1, progress=False)
    assert list((tmp_path / ".cache" / "derived").glob("*.npz"))
    monkeypatch.setattr(worker, "_WORKSPACES", {})
    run_study([tiny_cell("LightGCN", 9)], tmp_path, threads=1, progress=False)
    derived = worker._WORKSPACES[str(tmp_path / ".cache")].derived
    assert derived.hits >= 1 and derived.misses == 0


@pytest.mark.parametrize("jobs, cores, expected", [(1, 2, 2), (2, 2, 1), (3, 8, 2), (16, 2, 1)])
def test_threads_per_worker_split_the_cores(jobs, cores, expected):
    assert threads_per_worker(jobs, cores) == expected


def test_cuda_without_cuda_is_a_config_error_before_anything_runs(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ConfigError, match="CUDA is not available"):
        run_study([tiny_cell()], tmp_path, device="cuda:1", progress=False)
    assert not (tmp_path / "study.json").exists()


@pytest.mark.parametrize("kwargs, message", [({"device": "tpu"}, "expected cpu"),
                                             ({"executor": "dask"}, "unknown executor"),
                                             ({"jobs": 0}, "at least 1")])
def test_bad_settings_are_config_errors(tmp_path, kwargs, message):
    with pytest.raises(ConfigError, match=message):
        run_study([tiny_cell()], tmp_path, progress=False, **kwargs)


def test_input_errors_are_one_line_and_bugs_keep_their_traceback(tmp_path, capsys, monkeypatch):
    """A cell's input error (MMStudyError, unknown name) is said by its message alone; any other
    exception is a bug: one line on the console pointing at its traceback, kept in study.json."""
    def run_cell(cell, *args, **kwargs):
        if cell.seed == 0:
            raise ConfigError("train.lr looks wrong\nsecond line")
        raise IndexError("index 3 is out of bounds")

    monkeypatch.setattr(worker, "run_cell", run_cell)
    cells = [tiny_cell("BPR-MF", 0), tiny_cell("BPR-MF", 1)]
    summary = run_study(cells, tmp_path, threads=1, progress=False)
    bad_input, bug = (c.fingerprint for c in cells)
    assert summary.failed == {bad_input: "ConfigError: train.lr looks wrong second line",
                              bug: "IndexError: index 3 is out of bounds"}
    assert list(summary.tracebacks) == [bug] and "in run_cell" in summary.tracebacks[bug]
    out = capsys.readouterr().out
    pointer = f" (an unexpected error: its traceback is in {tmp_path / 'study.json'}, summary.tracebacks)"
    assert f"  {bad_input[:10]}  model=BPR-MF, seed=0: ConfigError: train.lr looks wrong second line\n" in out
    assert f"  {bug[:10]}  model=BPR-MF, seed=1: IndexError: index 3 is out of bounds{pointer}\n" in out
    assert "Traceback" not in out
    study = json.loads((tmp_path / "study.json").read_text())["summary"]
    assert study["failed"] == summary.failed and study["tracebacks"] == summary.tracebacks
