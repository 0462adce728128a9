"""The model-comparison study (the README's worked example of a study kind): its cells, a bad
reference, and a tiny study end to end through its command to a report that `verify` recomputes."""
import pandas as pd
import pytest
import yaml

from mmstudy.errors import ConfigError
from mmstudy.report.verify import verify
from mmstudy.studies.compare import KIND, main
from mmstudy.study.results import StudyResults
from mmstudy.study.spec import parse_spec

TINY = {"name": "synthetic", "options": {"n_users": 120, "n_items": 90, "n_interactions": 1800, "seed": 3}}


def study(**compare):
    return {"name": "tiny-compare", "data": TINY, "models": ["BPR-MF", "VBPR"], "seeds": [0, 1],
            "train": {"epochs": 2, "lr": 0.01}, "analysis": {"min_seeds": 2}, "compare": compare}


def test_cells_differ_only_in_model_and_seed():
    everything = KIND.expand(parse_spec(study(), "compare", "t"))
    cells = [c for c in everything if "control" not in c.labels]
    assert [(c.model, c.seed) for c in cells] == [("BPR-MF", 0), ("BPR-MF", 1), ("VBPR", 0), ("VBPR", 1)]
    assert everything[:4] == cells and len(everything) == 4 + 4 + 2 * 2  # then A/A, noise and its CF cells
    assert len({c.fingerprint for c in cells}) == 4 and all(c.data == cells[0].data for c in cells)


def test_a_reference_outside_the_models_is_refused():
    with pytest.raises(ConfigError, match="compare.reference 'LightGCN' is not among the models"):
        KIND.expand(parse_spec(study(reference="LightGCN"), "compare", "t"))


def test_a_tiny_study_runs_reports_and_verifies(tmp_path):
    config = tmp_path / "study.yaml"
    config.write_text(yaml.safe_dump(study(reference="VBPR")))
    assert main(["--config", str(config), "--output", str(tmp_path / "out"), "--quiet", "--threads", "1"]) == 0
    results = StudyResults.load(tmp_path / "out")
    assert results.kind == "compare" and len(results.manifests) == 4  # the design; controls apart
    assert {e["labels"]["control"] for e in results.controls} == {"aa", "noise", "cf"}
    controls = pd.read_csv(tmp_path / "out" / "tables" / "controls.csv")
    assert sorted(zip(controls["control"], controls["model"])) == [("aa", "BPR-MF"), ("aa", "VBPR"), ("noise", "VBPR")]
    assert set(controls["passed"]) <= {True, False} and (controls["n_seeds"] == 2).all()
    tests = (tmp_path / "out" / "tables" / "vs_reference.csv").read_text()
    assert "BPR-MF vs VBPR" in tests
    problems, checked = verify(tmp_path / "out")
    assert problems == [] and checked > 100
