"""The missing study's report pieces that read the study file: the first page's protocol."""
from types import SimpleNamespace

from mmstudy.study.spec import AnalysisConfig
from mmstudy.studies.missing.report import protocol


def results(section):
    study = SimpleNamespace(spec={"models": ["VBPR"], "seeds": [0, 1], "train": {"epochs": 5}}, section=section)
    return SimpleNamespace(study=study, analysis=AnalysisConfig())


def test_protocol_states_the_defaults_a_study_file_left_out():
    lines = protocol(results({"rates": [0.5]}))
    assert lines[1] == "masking: same at rates [0.5]; strategies: dropped, zeros, mean, propagation (reference zeros)"
    assert lines[2].startswith("mechanisms: mcar (")
    assert lines[3] == ("phases: train_and_test; imputer grids decided by retrain; complete-data cells at 0% for "
                        "every model")


def test_protocol_follows_the_study_file():
    lines = protocol(results({"settings": ["independent"], "rates": [0.3, 0.6], "strategies": ["zeros", "mean"],
                              "phases": ["serving", "new_items"], "new_items_share": 0.1,
                              "select": "reconstruction", "complete": False}))
    assert lines[1] == "masking: independent at rates [0.3, 0.6]; strategies: zeros, mean (reference zeros)"
    assert lines[3] == ("phases: serving, new_items (new items: 10% of the items held out of training); imputer "
                        "grids decided by reconstruction")
