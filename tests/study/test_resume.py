"""Killing a study (SIGKILL or Ctrl-C) and running it again completes only the missing cells;
corrupted or partial cells are detected and redone."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from mmstudy.study.runner import run_study
from mmstudy.study.store import ResultStore

from .study_toys import tiny_cell, tiny_cells

# Runs the cells of a JSON file into a folder; each cell waits `delay` seconds before its result
# is written, so the test can stop the study between two cells. A shell starts background jobs
# with SIGINT ignored (and Python then installs no KeyboardInterrupt handler): Ctrl-C is restored.
STUDY = """
import json, signal, sys, time
signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal, even if started in the background
from mmstudy.study import runner, worker
from mmstudy.study.cell import Cell

cells = [Cell.from_dict(d) for d in json.load(open(sys.argv[1]))]
run_cell, delay = worker.run_cell, float(sys.argv[3])

def slowed(*args, **kwargs):
    outcome = run_cell(*args, **kwargs)
    time.sleep(delay)
    return outcome

worker.run_cell = slowed  # in this process only: pool workers run at full speed
runner.run_study(cells, sys.argv[2], threads=1, jobs=int(sys.argv[4]), progress=False)
"""


def start_study(tmp_path, cells, delay: float = 1.0, jobs: int = 1) -> subprocess.Popen:
    spec = tmp_path / "cells.json"
    spec.write_text(json.dumps([c.to_dict() for c in cells]))
    return subprocess.Popen([sys.executable, "-c", STUDY, str(spec), str(tmp_path / "out"), str(delay), str(jobs)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


def group_members(pgid: int) -> list[int]:
    """Live processes of a process group (the study and whatever it started)."""
    out = []
    for entry in os.listdir("/proc"):
        try:
            if entry.isdigit() and os.getpgid(int(entry)) == pgid and "Z" not in _state(entry):
                out.append(int(entry))
        except (ProcessLookupError, FileNotFoundError):
            continue
    return out


def _state(pid: str) -> str:
    return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]


def stop_after_first_result(proc: subprocess.Popen, out, sig: int, timeout: float = 120) -> None:
    """Send `sig` as soon as one cell's result.json exists."""
    deadline = time.time() + timeout
    while not list((out / "cells").glob("*/result.json")):
        assert proc.poll() is None, f"the study ended early: {proc.communicate()[1][-2000:]}"
        assert time.time() < deadline, "no cell finished in time"
        time.sleep(0.05)
    proc.send_signal(sig)
    proc.wait(timeout=60)


def snapshot(out) -> dict[str, tuple[int, bytes]]:
    """{fingerprint: (mtime_ns, bytes) of result.json} for every stored cell."""
    return {p.parent.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in (out / "cells").glob("*/result.json")}


def assert_complete(out, cells) -> None:
    store = ResultStore(out)
    fps = sorted(c.fingerprint for c in cells)
    assert sorted(store.fingerprints()) == fps and all(store.is_done(fp) for fp in fps)
    assert sorted(p.name for p in (out / "cells").iterdir()) == fps  # one folder per cell, no extras
    for fp in fps:
        visible = sorted(p.name for p in store.cell_dir(fp).iterdir() if not p.name.startswith("."))
        masked = ResultStore(out).manifest(fp).cell.missing.setting != "none"
        views = ["per_user_head.parquet", "per_user_tail.parquet", "segments.parquet"] if masked else []
        assert visible == sorted(["per_user.parquet", "result.json", "valid_curve.parquet", *views])  # nothing half-written


def test_sigkilled_study_resumes_with_the_remaining_cells(tmp_path):
    cells, out = tiny_cells(), tmp_path / "out"
    proc = start_study(tmp_path, cells)
    stop_after_first_result(proc, out, signal.SIGKILL)
    assert proc.returncode == -signal.SIGKILL
    finished = snapshot(out)
    assert 1 <= len(finished) < len(cells)

    summary = run_study(cells, out, threads=1, progress=False)
    assert sorted(summary.skipped) == sorted(finished)
    assert sorted(summary.done) == sorted(c.fingerprint for c in cells if c.fingerprint not in finished)
    after = snapshot(out)
    assert {fp: after[fp] for fp in finished} == finished  # finished cells were not recomputed
    assert_complete(out, cells)


def test_interrupted_study_records_progress_and_resumes(tmp_path):
    cells, out = tiny_cells(), tmp_path / "out"
    proc = start_study(tmp_path, cells)
    stop_after_first_result(proc, out, signal.SIGINT)
    stdout, stderr = proc.communicate()
    assert proc.returncode != 0 and "KeyboardInterrupt" in stderr
    assert "run the same command to resume" in stdout
    finished = snapshot(out)
    study = json.loads((out / "study.json").read_text())
    assert study["summary"]["done"] == len(finished) < len(cells)

    summary = run_study(cells, out, threads=1, progress=False)
    assert len(summary.done) == len(cells) - len(finished) and not summary.failed
    assert_complete(out, cells)


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs /proc to list processes")
def test_sigkilled_pool_study_leaves_no_worker_behind(tmp_path):
    cells = [tiny_cell("BPR-MF", seed).with_(train={"epochs": 40, "batch_size": 256}) for seed in range(8)]
    out = tmp_path / "out"
    proc = start_study(tmp_path, cells, delay=0, jobs=2)
    stop_after_first_result(proc, out, signal.SIGKILL)
    deadline = time.time() + 30
    while group_members(proc.pid) and time.time() < deadline:
        time.sleep(0.2)
    assert group_members(proc.pid) == []  # workers exit with the study instead of running on
    finished = snapshot(out)
    time.sleep(1.0)
    assert snapshot(out) == finished and len(finished) < len(cells)
    summary = run_study(cells, out, threads=1, progress=False)
    assert sorted(summary.skipped) == sorted(finished)
    assert_complete(out, cells)


@pytest.mark.parametrize("damage, why", [("truncate", "per_user.parquet"), ("no-result", "result.json is missing"),
                                         ("checksum", "per_user.parquet"),
                                         ("another-cell", "the result belongs to another cell")])
def test_corrupted_cell_is_redone(serial_run, tmp_path, capsys, damage, why):
    import shutil

    source, cells, _ = serial_run
    out = tmp_path / "out"
    shutil.copytree(source, out)
    victim = ResultStore(out).cell_dir(cells[1].fingerprint)
    parquet = victim / "per_user.parquet"
    if damage == "truncate":
        parquet.write_bytes(parquet.read_bytes()[: parquet.stat().st_size // 2])
    elif damage == "no-result":
        (victim / "result.json").unlink()
    elif damage == "another-cell":  # intact files, but another cell's result under this cell's name
        shutil.rmtree(victim)
        shutil.copytree(ResultStore(out).cell_dir(cells[0].fingerprint), victim)
    else:
        data = bytearray(parquet.read_bytes())
        data[len(data) // 2] ^= 0xFF
        parquet.write_bytes(bytes(data))
    before = snapshot(out)

    capsys.readouterr()
    summary = run_study(cells, out, threads=1, progress=False)
    assert summary.done == [cells[1].fingerprint] and len(summary.skipped) == 3
    (said,) = [line for line in capsys.readouterr().out.splitlines() if line.startswith("redo")]
    assert said.startswith(f"redo    {cells[1].fingerprint[:10]}  ") and why in said  # the reason, in one line
    after = snapshot(out)
    assert all(after[fp] == before[fp] for fp in before if fp != cells[1].fingerprint)
    assert_complete(out, cells)
