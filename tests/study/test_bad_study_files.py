"""Every bad study file is one `error:` line naming the file and the key, and nothing is written:
the whole file is checked before any cell runs (each case would otherwise run cells or crash)."""
from __future__ import annotations

import pytest
import yaml

from mmstudy.features import PRESETS
from mmstudy.features.apply import SOURCES
from mmstudy.models import MODELS
from mmstudy.studies.command import run_kind_command
from mmstudy.study.kinds import study_kind

TRAIN_KEYS = ("['batch_size', 'epochs', 'eval_every', 'eval_memory_mb', 'lr', 'max_seconds', "
              "'patience', 'seed_batch', 'valid_metric', 'weight_decay']")  # not seed, device: set elsewhere
METRICS = "APLT, ARP, EFD, HitRate, MAP, MAPcut, MRR, nDCG, Precision, Recall"


def study(kind: str, **changes) -> dict:
    """A small valid study of `kind` with `changes` applied to its top-level keys."""
    base = {"name": "tiny", "data": {"name": "synthetic", "options": {"n_users": 80, "n_items": 60}},
            "models": ["VBPR"] if kind == "missing" else ["BPR-MF", "VBPR"], "train": {"epochs": 1},
            "seeds": [0, 1], kind: {"rates": [0.5], "strategies": ["zeros"], "reference": "zeros"}
            if kind == "missing" else {}}
    return {**base, **changes}


def run_study_file(tmp_path, capsys, kind: str, mapping: dict, *flags: str) -> tuple[int, str, str]:
    """(exit code, stderr, the study file's path) of the kind's command on `mapping`."""
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(mapping))
    out = tmp_path / "out"
    code = run_kind_command(study_kind(kind), ["--config", str(path), "--output", str(out), "--quiet", *flags])
    assert not out.exists()  # nothing ran, nothing was written
    return code, capsys.readouterr().err, str(path)


CASES = [  # (kind, changes to the study, message after "error: <file>: ")
    ("compare", {"train": {"epochs": "five"}}, "train.epochs must be an integer, got 'five'"),
    ("compare", {"train": {"epochs": True}}, "train.epochs must be an integer, got True"),
    ("compare", {"train": {"epochs": 0}}, "train.epochs must be at least 1, got 0"),
    ("compare", {"train": {"lr": -1}}, "train.lr must be a finite number > 0, got -1"),
    ("compare", {"train": {"lr": float("nan")}}, "train.lr must be a finite number, got nan"),
    ("compare", {"train": {"patience": 2.5}}, "train.patience must be an integer, got 2.5"),
    ("compare", {"train": {"eval_memory_mb": 0}}, "train.eval_memory_mb must be a finite number > 0, got 0"),
    ("compare", {"train": {"eval_memory_mb": float("inf")}}, "train.eval_memory_mb must be a finite number, got inf"),
    ("compare", {"train": {"valid_metric": "Recal@20"}},
     "train.valid_metric: unknown metric 'Recal'. Did you mean 'Recall'? Known: HitRate, MAP, MAPcut, MRR, nDCG, Precision, "
     "Recall."),
    ("compare", {"train": {"epoch": 3}}, f"unknown key 'epoch' in train. Did you mean 'epochs'? Known keys: {TRAIN_KEYS}"),
    ("compare", {"train": {"seed": 3}},
     "train.seed cannot be set here: it is the cell's seed ('seeds' in a study file, --set seed=N for `run`)"),
    ("compare", {"train": {"device": "cuda"}}, "train.device cannot be set here: it is --device"),
    ("compare", {"train": {"seed_batch": "yes"}}, "train.seed_batch must be true or false, got 'yes'"),
    ("compare", {"train": {"seed_batch": 1}}, "train.seed_batch must be true or false, got 1"),
    ("compare", {"train": 5}, "train must be a mapping (key: value), got 5"),
    ("compare", {"seeds": [0, 1.5]}, "seeds[1] must be an integer, got 1.5"),
    ("compare", {"seeds": ["0"]}, "seeds[0] must be an integer, got '0'"),
    ("compare", {"seeds": [True]}, "seeds[0] must be an integer, got True"),
    ("compare", {"seeds": [0, 1, 1, 0]}, "seeds lists 1, 0 more than once; list each once"),
    ("compare", {"seeds": []}, "seeds is empty"),
    ("compare", {"seeds": [0, -1]}, "seeds must be non-negative integers (numpy refuses negative seeds), got [0, -1]"),
    ("compare", {"seeds": 3}, "seeds must be a list of integers, got 3"),
    ("compare", {"models": "BPR-MF"}, "models must be a list of strings, got 'BPR-MF'"),
    ("compare", {"models": {"BPR-MF": 1}}, "models must be a list of strings, got {'BPR-MF': 1}"),
    ("compare", {"models": ["VBPR", "VBPR"]}, "models lists 'VBPR' more than once; list each once"),
    ("compare", {"cutoffs": [0, 20]}, "cutoffs must be positive integers, got [0, 20]"),
    ("compare", {"data": "synthetic"}, "data must be a mapping (key: value), got 'synthetic'"),
    ("compare", {"data": {"name": "synthetic", "features": {"image": "efficientnet-lite1"}}},
     "unknown extractor preset 'efficientnet-lite1'. Did you mean 'efficientnet-lite2', 'efficientnet-lite0'? "
     "Known: {presets}."),
    ("compare", {"data": {"name": "synthetic", "features": {"image": {"preset": "minilm-l6", "file": "x.npy"}}}},
     "data.features.image: give exactly one of {sources} (got ['preset', 'file'] in ['file', 'preset'])"),
    ("compare", {"data": {"name": "synthetic", "split_seed": "1"}}, "data.split_seed must be an integer, got '1'"),
    ("compare", {"params": {"VBPR": 3}}, "params.VBPR must be a mapping (key: value), got 3"),
    ("compare", {"grids": {"VBPR": {"reg_weight": 0.1}}}, "grids.VBPR.reg_weight must be a list, got 0.1"),
    ("compare", {"train_by_model": {"VBPR": {"lr": 0}}}, "train_by_model.VBPR.lr must be a finite number > 0, got 0"),
    ("compare", {"train_by_model": {"VBPR": {"epoch": 3}}},
     f"unknown key 'epoch' in train_by_model.VBPR. Did you mean 'epochs'? Known keys: {TRAIN_KEYS}"),
    ("compare", {"train_by_model": {"VBPRR": {"lr": 0.1}}},
     "train_by_model.VBPRR: unknown model 'VBPRR'. Did you mean 'VBPR', 'BPR-MF', 'MF-Fusion'? Known: {models}."),
    ("compare", {"train_by_model": {"FREEDOM": {"lr": 0.1}}},
     "train_by_model.FREEDOM: model 'FREEDOM' is not trained by this study (its models and their CF counterparts: "
     "['BPR-MF', 'VBPR'])"),
    ("compare", {"train_by_model": {"VBPR": {"lr": 0.1}, "vbpr": {"lr": 0.2}}}, "train_by_model names model 'VBPR' twice"),
    ("compare", {"train_by_model": {"VBPR": 0.1}}, "train_by_model.VBPR must be a mapping (key: value), got 0.1"),
    ("compare", {"train_by_model": {"VBPR": {"seed": 1}}},
     "train_by_model.VBPR.seed cannot be set here: it is the cell's seed ('seeds' in a study file, --set seed=N for `run`)"),
    ("compare", {"question": 5}, "question must be a string, got 5"),
    ("compare", {"analysis": {"metric": "Recal@20"}},
     f"analysis.metric 'Recal@20': unknown metric 'Recal'. Did you mean 'Recall'? Known: {METRICS}."),
    ("compare", {"analysis": {"metric": "Recall"}}, "analysis.metric: metric 'Recall' must look like 'Recall@20' (name@cutoff)"),
    ("compare", {"analysis": {"metrics": ["Recall@20", "nDCG@30"]}},
     "analysis.metrics 'nDCG@30': the study computes cutoffs [10, 20, 50] only; add 30 to 'cutoffs' or use one of them"),
    ("compare", {"analysis": {"alpha": "0.05"}}, "analysis.alpha must be a finite number, got '0.05'"),
    ("compare", {"analysis": "holm"}, "analysis must be a mapping (key: value), got 'holm'"),
    ("compare", {"name": "../../escape"}, "name '../../escape' must be a simple name (letters, digits, '.', '_', '-', "
                                         "starting with a letter or digit): it names the results folder"),
    ("compare", {"name": "a/b"}, "name 'a/b' must be a simple name (letters, digits, '.', '_', '-', "
                                 "starting with a letter or digit): it names the results folder"),
    ("compare", {"compare": ["VBPR"]}, "compare must be a mapping (key: value), got ['VBPR']"),
    ("compare", {"compare": {"reference": 3}}, "compare.reference must be a string, got 3"),
    ("missing", {"missing": {"rates": [], "strategies": ["zeros"]}}, "missing.rates is empty"),
    ("missing", {"missing": {"rates": "0.5"}}, "missing.rates must be a list of finite numbers, got '0.5'"),
    ("missing", {"missing": {"rates": [0.5, 0.5]}}, "missing.rates lists 0.5 more than once; list each once"),
    ("missing", {"missing": ["a", "b"]}, "missing must be a mapping (key: value), got ['a', 'b']"),
    ("missing", {"missing": {"graph_k": "20"}}, "missing.graph_k must be an integer, got '20'"),
    ("missing", {"missing": {"natural": "yes"}}, "missing.natural must be true or false, got 'yes'"),
    ("missing", {"missing": {"strategies": []}}, "missing.strategies is empty"),
    ("fusion", {"fusion": {"variants": {"a": {"point": "early"}}, "cross": {"rates": 0.3}}},
     "fusion.cross.rates must be a list of finite numbers, got 0.3"),
    ("extractors", {"extractors": {"modalities": {"text": ["precomputed"]}, "graph_k": 1.5}},
     "extractors.graph_k must be an integer, got 1.5"),
]


@pytest.mark.parametrize("kind, changes, message", CASES, ids=[f"{k}-{m[:40]}" for k, _, m in CASES])
def test_bad_study_file_is_one_line_and_writes_nothing(tmp_path, capsys, kind, changes, message):
    code, err, path = run_study_file(tmp_path, capsys, kind, study(kind, **changes))
    assert code == 2
    message = message.replace("{presets}", ", ".join(PRESETS.names())).replace("{sources}", str(SOURCES))
    message = message.replace("{models}", ", ".join(MODELS.names()))
    assert err == f"error: {path}: {message}\n"


FLAGS = [
    (["--epochs", "0"], "--epochs must be at least 1, got 0"),
    (["--jobs", "0"], "--jobs must be at least 1, got 0"),
    (["--threads", "-1"], "--threads must be at least 1, got -1"),
    (["--seeds", "1", "2", "1"], "--seeds lists 1 more than once; list each once"),
    (["--models", "VBPR", "vbpr-x"], "--models: unknown model 'vbpr-x'. Did you mean 'VBPR', 'BPR-MF', "
                                     "'MF-Fusion'? Known: {models}."),  # every registered model
    (["--plan-sample", "-1"], "--plan-sample must be at least 0, got -1"),
    (["--plan-max-seconds", "nan"], "--plan-max-seconds must be a finite number > 0, got nan"),
    (["--epochs", "five"], "python -m mmstudy.studies.compare: argument --epochs: invalid int value: 'five' "
                           "(see --help)"),
]


@pytest.mark.parametrize("flags, message", FLAGS, ids=[" ".join(f) for f, _ in FLAGS])
def test_bad_flags_are_one_line_and_write_nothing(tmp_path, capsys, flags, message):
    try:
        code, err, _ = run_study_file(tmp_path, capsys, "compare", study("compare"), *flags)
    except SystemExit as exc:  # argparse's own type errors
        code, err = exc.code, capsys.readouterr().err
        assert not (tmp_path / "out").exists()
    assert code == 2
    assert err == f"error: {message}\n".replace("{models}", ", ".join(MODELS.names()))


def test_epochs_flag_is_applied_even_when_small(tmp_path):
    """`--epochs 1` used to be ignored only when 0; any given value now reaches the cells."""
    from mmstudy.studies.command import apply_common_overrides, study_parser
    from mmstudy.study.spec import parse_spec

    spec = parse_spec(study("compare", train={"epochs": 5}), "compare", "t")
    args = study_parser("compare", "compare-quick.yaml").parse_args(["--epochs", "1"])
    assert apply_common_overrides(spec, args).train == {"epochs": 1}


def test_train_by_model_reaches_its_models_cells_and_follows_the_flags():
    """Per-model changes land in that model's cells only; --models keeps the entries of the models
    (and CF counterparts) still trained; --epochs sets every model's budget."""
    from mmstudy.studies.command import apply_common_overrides, study_parser
    from mmstudy.study.spec import parse_spec

    mapping = study("compare", train={"epochs": 5, "lr": 0.001}, train_by_model={"vbpr": {"lr": 0.005, "epochs": 9}})
    spec = parse_spec(mapping, "compare", "t")
    cells = study_kind("compare").expand(spec)
    assert {c.model: dict(c.train) for c in cells} == {"BPR-MF": {"epochs": 5, "lr": 0.001},
                                                        "VBPR": {"epochs": 9, "lr": 0.005}}
    parser = study_parser("compare", "compare-quick.yaml")
    kept = apply_common_overrides(spec, parser.parse_args(["--models", "BPR-MF", "--epochs", "2"]))
    assert kept.train_by_model == {} and kept.train == {"epochs": 2, "lr": 0.001}
    both = apply_common_overrides(spec, parser.parse_args(["--epochs", "2"]))
    assert both.model_settings("VBPR")["train"] == {"epochs": 2, "lr": 0.005}


def test_train_by_model_reaches_cf_counterparts_and_noise_controls():
    from mmstudy.study.spec import parse_spec

    mapping = study("missing", train={"epochs": 3}, train_by_model={"BPR-MF": {"lr": 0.01}},
                    controls={"aa": True, "noise": True},
                    data={"name": "synthetic", "options": {"n_users": 80, "n_items": 60, "n_interactions": 1000}})
    cells = study_kind("missing").expand(parse_spec(mapping, "missing", "t"))
    trains = {(c.model, c.control or c.labels.get("control", "")): dict(c.train) for c in cells}
    assert trains[("BPR-MF", "cf")] == {"epochs": 3, "lr": 0.01}
    assert all(t == {"epochs": 3} for (model, _), t in trains.items() if model == "VBPR")
    assert all(t == {"epochs": 3, "lr": 0.01} for (model, _), t in trains.items() if model == "BPR-MF")


@pytest.mark.parametrize("text, message", [
    ("name: tiny\n\n\ndata: {name: synthetic\nmodels: [BPR-MF]\n",  # blank lines count
     "invalid YAML: line 5, column 7: expected ',' or '}', but got ':' (while parsing a flow mapping that starts "
     "at line 4, column 7)"),
    ("name: tiny\n  models: [BPR-MF]\n", "invalid YAML: line 2, column 9: mapping values are not allowed here"),
    ("- name\n- tiny\n", "expected a mapping at the top level"),
])
def test_yaml_syntax_errors_are_one_line_with_line_and_column(tmp_path, capsys, text, message):
    path = tmp_path / "study.yaml"
    path.write_text(text)
    out = tmp_path / "out"
    assert run_kind_command(study_kind("compare"), ["--config", str(path), "--output", str(out), "--quiet"]) == 2
    assert capsys.readouterr().err == f"error: {path}: {message}\n"
    assert not out.exists()
