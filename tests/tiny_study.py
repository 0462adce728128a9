"""Tiny study specs shared by tests (importable as `tiny_study`)."""
from mmstudy.study.spec import parse_spec

TINY_DATA = {"name": "synthetic", "options": {"n_users": 200, "n_items": 150, "n_interactions": 3000, "seed": 3}}


def tiny_missing_spec(**section):
    """A small but complete missing-modality study spec on tiny synthetic data."""
    missing = {"settings": ["same"], "rates": [0.5], "strategies": ["zeros", "dropped", "propagation"],
               "reference": "zeros", "grids": {"propagation": {"hops": [1, 3]}}, "graph_k": 10}
    missing.update(section)
    return parse_spec({"name": "tiny", "question": "Does it work?", "data": TINY_DATA, "models": ["VBPR"],
                       "train": {"epochs": 3, "patience": 2, "lr": 0.01}, "seeds": [0, 1],
                       "analysis": {"min_seeds": 2}, "missing": missing}, "missing", "tiny")


def run_missing_study(spec, folder):
    """Run a missing-modality study's own cells (no controls) into `folder` and build its report."""
    from mmstudy.config import as_plain
    from mmstudy.report.study_report import build_report
    from mmstudy.studies.missing import KIND
    from mmstudy.studies.missing.design import missing_cells
    from mmstudy.study.runner import run_study

    cells = missing_cells(spec, KIND.parse_section(spec), ["image", "text"])
    summary = run_study(cells, folder, progress=False, meta={"kind": "missing", "spec": as_plain(spec)})
    assert not summary.failed, summary.failed
    build_report(folder)
    return folder
