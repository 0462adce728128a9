"""The common report: a study none of whose cells finished still gets a report, for every kind,
saying what failed; `verify` then has nothing to recompute and finds nothing wrong."""
from __future__ import annotations

import json

import pytest
import yaml

from mmstudy.config import as_plain
from mmstudy.errors import DataError
from mmstudy.report.study_report import build_report
from mmstudy.report.verify import verify
from mmstudy.studies.command import run_kind_command
from mmstudy.study import worker
from mmstudy.study.kinds import study_kind
from mmstudy.study.runner import run_study
from mmstudy.study.spec import parse_spec

from .test_pdf import page_count, pdf_text

DATA = {"name": "synthetic", "options": {"n_users": 80, "n_items": 60, "n_interactions": 900}}
SECTIONS = {
    "compare": {},
    "missing": {"rates": [0.5], "strategies": ["zeros", "dropped"], "reference": "zeros"},
    "fusion": {"variants": {"early": {"point": "early"}, "late": {"point": "late"}},
               "cross": {"rates": [0.5], "setting": "single:text"}},
    "extractors": {"modalities": {"image": ["precomputed"], "text": ["precomputed"]}},
}
MODELS = {"compare": ["BPR-MF", "VBPR"], "missing": ["VBPR"], "fusion": ["LightGCN-Fusion"], "extractors": ["VBPR"]}


def failing(*args, **kwargs):
    raise DataError("the data went away")


def spec_of(kind: str):
    return parse_spec({"name": f"doomed-{kind}", "question": "Does anything finish?", "data": DATA,
                       "models": MODELS[kind], "train": {"epochs": 1}, "seeds": [0, 1], kind: SECTIONS[kind]},
                      kind, "test")


@pytest.mark.parametrize("kind", sorted(SECTIONS))
def test_a_study_whose_every_cell_failed_still_reports(kind, tmp_path, monkeypatch):
    spec = spec_of(kind)
    cells = study_kind(kind).expand(spec)
    monkeypatch.setattr(worker, "run_cell", failing)
    summary = run_study(cells, tmp_path, threads=1, progress=False, meta={"kind": kind, "spec": as_plain(spec)})
    assert not summary.done and len(summary.failed) == len({c.fingerprint for c in cells})
    pdf = build_report(tmp_path)
    assert pdf == tmp_path / "report.pdf" and page_count(pdf) >= 3
    text = pdf_text(pdf)
    n = len(summary.failed)
    assert f"No cell finished: {n} of {n} cells failed and 0 did not run" in text
    assert "DataError: the data went away" in text and "Does anything finish?" in text
    assert verify(tmp_path) == ([], 0)


def test_the_command_reports_a_study_whose_every_cell_failed(tmp_path, capsys, monkeypatch):
    config = tmp_path / "study.yaml"
    config.write_text(yaml.safe_dump({"name": "doomed", "data": DATA, "models": ["BPR-MF"], "seeds": [0, 1],
                                      "train": {"epochs": 1}}))
    monkeypatch.setattr(worker, "run_cell", failing)
    out = tmp_path / "out"
    assert run_kind_command(study_kind("compare"), ["--config", str(config), "--output", str(out), "--quiet"]) == 1
    printed = capsys.readouterr().out
    # two cells and their two A/A controls
    assert "0 done, 0 skipped (already finished), 4 failed" in printed and f"report: {out / 'report.pdf'}" in printed
    assert printed.count("DataError: the data went away") == 8  # as each cell fails, and in the final list
    study = json.loads((out / "study.json").read_text())
    assert "tracebacks" not in study["summary"]  # an input error is said by its message alone


@pytest.mark.parametrize("setting, how", [
    ("none", "filled by zeros (the study's natural_gaps)"),
    ("same", "masked together with the synthetic gaps and handled by each strategy")])
def test_declared_defaults_say_how_many_items_lacked_content_and_what_was_done(setting, how):
    from types import SimpleNamespace

    from mmstudy.report.study_report import declared_defaults
    from mmstudy.study.manifest import CellManifest, DatasetRecord, MissingRecord

    manifest = CellManifest(dataset=DatasetRecord(name="movies", items=2080, meta={}),
                            missing=MissingRecord(setting=setting, strategy="zeros",
                                                  natural_missing={"image": 682, "text": 0}))
    lines = declared_defaults(SimpleNamespace(manifests={"a": manifest}))
    assert lines == [f"items that lack a modality in the data itself (of 2,080 items): image 682, text 0; {how}"]
