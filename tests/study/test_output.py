"""Results folders are safe: a study writes only into a new or empty folder or its own results
folder, and one process at a time (an OS lock; a second process is refused at once)."""
from __future__ import annotations

import json
import os
import time

import pytest
import yaml

from mmstudy.errors import ConfigError
from mmstudy.studies.command import run_kind_command
from mmstudy.study import worker
from mmstudy.study.kinds import StudyKind, study_kind
from mmstudy.study.output import check_output, locked
from mmstudy.study.runner import run_study

from .study_toys import tiny_cell
from .test_resume import start_study

META = {"kind": "compare", "spec": {"name": "mine"}}


def must_not_run(*args, **kwargs):
    raise AssertionError("a cell ran although the folder was refused")


def listing(folder) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_file_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(worker, "run_cell", must_not_run)
    path = tmp_path / "notes.txt"
    path.write_text("mine")
    with pytest.raises(ConfigError) as err:
        run_study([tiny_cell()], path, progress=False, meta=META)
    assert str(err.value) == (f"output {path} is a file; give a folder: a new or empty one, or the study's own "
                              "results folder to resume it")
    assert path.read_text() == "mine"


def test_a_folder_of_other_files_is_refused_untouched(tmp_path, monkeypatch):
    monkeypatch.setattr(worker, "run_cell", must_not_run)
    folder = tmp_path / "thesis"
    (folder / "figures").mkdir(parents=True)
    (folder / "figures" / "plot.png").write_bytes(b"png")
    for name in ("report.pdf", "chapter1.tex", "data.csv", "notes.md"):
        (folder / name).write_text(name)
    before = listing(folder)
    with pytest.raises(ConfigError) as err:
        run_study([tiny_cell()], folder, progress=False, meta=META)
    assert str(err.value) == (f"output folder {folder} is not empty and is not a results folder (it holds "
                              "chapter1.tex, data.csv, figures and 2 more); choose a new or empty folder, so that "
                              "no file of yours is overwritten")
    assert listing(folder) == before and not (folder / ".lock").exists()


@pytest.mark.parametrize("recorded, described", [
    ({"kind": "compare", "spec": {"name": "theirs"}}, "study 'theirs' (kind 'compare')"),
    ({"kind": "missing", "spec": {"name": "mine"}}, "study 'mine' (kind 'missing')"),
    ({"kind": "run"}, "an unnamed study (kind 'run')"),
])
def test_another_studys_folder_is_refused(tmp_path, monkeypatch, recorded, described):
    monkeypatch.setattr(worker, "run_cell", must_not_run)
    (tmp_path / "study.json").write_text(json.dumps(recorded))
    before = listing(tmp_path)
    with pytest.raises(ConfigError) as err:
        run_study([tiny_cell()], tmp_path, progress=False, meta=META)
    assert str(err.value) == (f"output folder {tmp_path} holds the results of {described}, not of study 'mine' "
                              "(kind 'compare'); a study resumes only into its own folder: choose another --output")
    assert listing(tmp_path) == before


def test_an_unreadable_study_json_is_refused(tmp_path):
    (tmp_path / "study.json").write_text('{"kind": "comp')
    with pytest.raises(ConfigError, match=r"its study.json is unreadable \(JSONDecodeError: Unterminated string"):
        check_output(tmp_path, META)


def test_new_empty_own_and_unfinished_folders_are_accepted(tmp_path):
    check_output(tmp_path / "new", META)
    check_output(tmp_path, META)  # empty
    own = tmp_path / "own"
    own.mkdir()
    (own / "study.json").write_text(json.dumps({**META, "cells": []}))
    (own / "notes.txt").write_text("a results folder may hold anything once it is one")
    check_output(own, META)
    killed = tmp_path / "killed"  # SIGKILLed before its study.json: cells, cache, lock, a temporary file
    for name in ("cells", ".cache"):
        (killed / name).mkdir(parents=True)
    (killed / ".lock").write_text("123\n")
    (killed / ".study.json.x1y2z3.tmp").write_text("{")
    check_output(killed, META)


def test_the_same_study_resumes_into_its_own_folder(tmp_path, monkeypatch):
    cell = tiny_cell()
    run_study([cell], tmp_path, threads=1, progress=False, meta=META)
    monkeypatch.setattr(worker, "run_cell", must_not_run)
    summary = run_study([cell], tmp_path, threads=1, progress=False, meta=META)
    assert summary.skipped == [cell.fingerprint]
    assert (tmp_path / ".lock").read_text() == f"{os.getpid()}\n"


def test_the_command_refuses_a_foreign_output_before_expanding(tmp_path, capsys, monkeypatch):
    study = tmp_path / "study.yaml"
    study.write_text(yaml.safe_dump({"name": "mine", "models": ["BPR-MF"], "seeds": [0], "train": {"epochs": 1}}))
    folder = tmp_path / "papers"
    folder.mkdir()
    (folder / "draft.docx").write_text("x")
    monkeypatch.setattr(StudyKind, "expand", must_not_run)  # the cells are not even listed
    assert run_kind_command(study_kind("compare"), ["--config", str(study), "--output", str(folder), "--quiet"]) == 2
    assert capsys.readouterr().err == (f"error: output folder {folder} is not empty and is not a results folder "
                                       "(it holds draft.docx); choose a new or empty folder, so that no file of "
                                       "yours is overwritten\n")
    assert sorted(p.name for p in folder.iterdir()) == ["draft.docx"]


def test_a_held_folder_names_its_holder(tmp_path):
    with locked(tmp_path):
        assert (tmp_path / ".lock").read_text() == f"{os.getpid()}\n"
    with locked(tmp_path):  # released when the block ends
        pass


def test_a_second_process_on_the_same_folder_stops_at_once(tmp_path, monkeypatch):
    """Process 1 runs a study; process 2 (this one) starts the same study on the same folder and
    is refused, naming process 1, without computing any cell; process 1 finishes every cell once."""
    cells = [tiny_cell("BPR-MF", seed) for seed in range(3)]
    out = tmp_path / "out"
    proc = start_study(tmp_path, cells, delay=1.0)
    deadline = time.time() + 120
    while not ((out / ".lock").exists() and (out / ".lock").read_text() == f"{proc.pid}\n"):
        assert proc.poll() is None, proc.communicate()[1][-2000:]
        assert time.time() < deadline, "the study did not take its lock"
        time.sleep(0.05)
    monkeypatch.setattr(worker, "run_cell", must_not_run)
    with pytest.raises(ConfigError) as err:
        run_study(cells, out, threads=1, progress=False)
    assert str(err.value) == (f"output folder {out} is in use by another mmstudy process (pid {proc.pid}); wait "
                              "for it to finish, or choose another --output")
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr[-2000:]
    study = json.loads((out / "study.json").read_text())
    assert study["summary"] == {"done": 3, "skipped": 0, "failed": {}}  # every cell computed once, by process 1
    results = sorted((out / "cells").glob("*/result.json"))
    assert len(results) == 3
