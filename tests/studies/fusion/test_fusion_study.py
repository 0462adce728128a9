"""The fusion study: its design (cells from a study file), bad study files, and a tiny study end to
end through `python -m mmstudy.studies.fusion` to a verified PDF report."""
import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from mmstudy.errors import ConfigError
from mmstudy.registry import UnknownNameError
from mmstudy.report.verify import verify
from mmstudy.studies.fusion import KIND, main
from mmstudy.studies.fusion.design import fusion_cells
from mmstudy.study.kinds import study_kind
from mmstudy.study.spec import parse_spec

MODS = {"synthetic": ["image", "text"]}
VARIANTS = {"early-concat": {"point": "early", "operator": "concat"},
            "coord-attention": {"point": "intermediate", "representation": "coordinated", "operator": "attention",
                                "align_weight": 0.1},
            "late-normsum": {"point": "late", "method": "normsum", "grid_step": 0.5}}


def study(**fusion):
    section = {"variants": VARIANTS, **fusion}
    return {"name": "tiny", "data": {"name": "synthetic"}, "models": ["MF-Fusion", "LightGCN-Fusion"],
            "seeds": [0, 1], "train": {"epochs": 1}, "fusion": section}


def cells_of(mapping):
    spec = parse_spec(mapping, "fusion", "test")
    return fusion_cells(spec, KIND.parse_section(spec), MODS)


def test_cells_cross_backbones_variants_and_seeds():
    cells = cells_of(study())
    assert len(cells) == 2 * 3 * 2 and len({c.fingerprint for c in cells}) == len(cells)
    late = [c for c in cells if c.labels["variant"] == "late-normsum"]
    assert {c.fusion["point"] for c in late} == {"late"} and late[0].labels["point"] == "late"
    mid = next(c for c in cells if c.labels["variant"] == "coord-attention")
    assert mid.fusion == {"point": "intermediate", "representation": "coordinated", "operator": "attention",
                          "attention": "item", "align_weight": 0.1, "temperature": 0.2}
    assert mid.labels["representation"] == "coordinated" and mid.params == {}
    assert all(c.missing.setting == "none" and c.labels["rate"] == 0.0 for c in cells)


def test_cross_study_masks_the_chosen_variants_with_the_missing_machinery():
    cells = cells_of(study(cross={"rates": [0.3, 0.6], "setting": "single:text", "variants": ["late-normsum"]}))
    masked = [c for c in cells if c.missing.setting != "none"]
    assert len(masked) == 2 * 2 * 1 * 2
    assert {(c.missing.setting, c.missing.target, c.missing.strategy) for c in masked} == {("single", "text", "zeros")}
    assert {c.labels["rate"] for c in masked} == {0.3, 0.6}
    assert all(c.missing.mask_seed == c.seed for c in masked)


@pytest.mark.parametrize("fusion, message", [
    ({"reference": "early-concta"}, "Did you mean 'early-concat'"),
    ({"variants": {"x": {"point": "middle"}}}, "unknown fusion point 'middle'"),
    ({"variants": {"x": {"point": "late", "operator": "sum"}}}, "unknown key 'operator'"),
    ({"variants": {}}, "at least one variant"),
    ({"cross": {"rates": [0.3], "variants": ["late"]}}, "Did you mean 'late-normsum'"),
    ({"cross": {"rates": [0.3], "strategy": "dropped"}}, "strategy 'dropped'"),
    ({"cross": {"rates": [1.5]}}, "in \\(0, 1\\)"),
    ({"cross": {"rates": [0.3], "setting": "single:audio"}}, "names modality 'audio'"),
    ({"cross": {"rates": [0.3], "strategy": "zeroes"}}, "zeros"),
    ({"colour": 1}, "unknown key 'colour'"),
])
def test_bad_fusion_sections_name_the_problem(fusion, message):
    with pytest.raises((ConfigError, UnknownNameError), match=message):
        cells_of(study(**fusion))


def test_backbones_must_support_the_fusion_point():
    with pytest.raises(ConfigError, match="has no fusion parameters"):
        cells_of({**study(), "models": ["VBPR"]})
    with pytest.raises(ConfigError, match="no 'id_embedding' switch"):
        cells_of({**study(variants={"late": {"point": "late"}}), "models": ["VBPR"]})
    early_only = cells_of({**study(variants={"early": {"point": "early"}}), "models": ["VBPR", "LightGCN-M"]})
    assert {c.model for c in early_only} == {"VBPR", "LightGCN-M"}


def test_fusion_is_registered_for_report_and_verify():
    assert study_kind("fusion") is KIND


TINY_STUDY = {
    "name": "fusion-tiny", "question": "Does the pipeline hold together?",
    "data": {"name": "synthetic", "options": {"n_users": 200, "n_items": 150, "n_interactions": 3000}},
    "models": ["MF-Fusion"], "train": {"epochs": 2, "lr": 0.01}, "seeds": [0, 1, 2],
    "fusion": {"variants": VARIANTS, "reference": "early-concat",
               "cross": {"rates": [0.5], "setting": "single:text", "variants": ["early-concat", "late-normsum"]}},
    "analysis": {"metric": "Recall@20", "metrics": ["Recall@20"], "min_seeds": 3},
}


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("fusion")
    config = folder / "study.yaml"
    config.write_text(yaml.safe_dump(TINY_STUDY))
    assert main(["--config", str(config), "--output", str(folder / "out"), "--quiet"]) == 0
    return folder / "out"


@pytest.mark.slow
def test_tiny_study_ends_in_a_report_that_verifies(finished):
    assert (finished / "report.pdf").stat().st_size > 10_000
    study = json.loads((finished / "study.json").read_text())
    controls = [c["labels"]["control"] for c in study["cells"] if "control" in c["labels"]]
    assert study["kind"] == "fusion" and len(study["cells"]) - len(controls) == 3 * 3 + 2 * 3
    assert sorted(controls) == ["aa"] * 3 + ["cf"] * 3 + ["noise"] * 3  # A/A, CF counterpart, noise
    tables = {p.stem for p in (finished / "tables").glob("*.csv")}
    assert {"accuracy", "variant_vs_reference", "ranks", "ranking_tests", "cost", "robustness", "retention",
            "cross_vs_reference", "drop_vs_reference", "late_weights", "audit"} <= tables
    ranks = pd.read_csv(finished / "tables" / "ranks.csv")
    assert sorted(ranks["variant"]) == sorted(VARIANTS)  # 3 seeds = 3 blocks: the CD view is drawn
    assert (finished / "figures" / "critical_difference_mf-fusion.png").exists()
    weights = pd.read_csv(finished / "tables" / "late_weights.csv")
    assert len(weights) == 3 + 3 and weights["argmax_on_valid"].all()
    problems, checked = verify(finished)
    assert problems == [] and checked > 1000


@pytest.mark.slow
def test_verify_catches_a_changed_analysis_number(finished, tmp_path):
    import shutil
    copy = tmp_path / "copy"
    shutil.copytree(finished, copy)
    path = copy / "tables" / "cost.csv"
    table = pd.read_csv(path)
    table.loc[0, "n_parameters"] += 1
    table.to_csv(path, index=False)
    problems, _ = verify(copy)
    assert any("table cost" in p and "n_parameters" in p for p in problems)
