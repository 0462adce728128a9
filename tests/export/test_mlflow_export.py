"""`python -m mmstudy export mlflow`: the study as a parent run and each cell as a child run (params,
metrics, tags, artifacts) in a local tracking store; re-exporting adds only what is missing; bad
folders, URIs and a missing MLflow are one error line."""
import json
import shutil
import sys

import pandas as pd
import pytest

from mmstudy.cli import main
from mmstudy.errors import ConfigError
from mmstudy.export.mlflow_export import (INSTALL_HINT, MAX_VALUE, cell_params, export_mlflow, flatten, mlflow_name,
                                          param_value)
from mmstudy.study.results import StudyResults


@pytest.fixture
def study(tiny_energy_study, tmp_path):
    folder = tmp_path / "study"
    shutil.copytree(tiny_energy_study, folder)
    return folder


@pytest.fixture
def store(tmp_path, monkeypatch):
    """A local SQLite tracking store; the current folder is elsewhere, to catch stray files."""
    pytest.importorskip("mlflow")
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    return f"sqlite:///{tmp_path / 'tracking' / 'mlflow.db'}"


def runs(uri, experiment, role):
    from mlflow.tracking import MlflowClient

    client = MlflowClient(uri)
    exp = client.get_experiment_by_name(experiment)
    return client, client.search_runs([exp.experiment_id], filter_string=f"tags.`mmstudy.role` = '{role}'")


def test_flatten_names_and_values_fit_mlflow():
    assert flatten({"data": {"name": "x", "options": {"k": 1}}, "grid": {}, "cutoffs": [10]}) == {
        "data.name": "x", "data.options.k": 1, "grid": {}, "cutoffs": [10]}
    assert [param_value(v) for v in ("VBPR", 0.5, None, {}, [10, 20], True)] == [
        "VBPR", "0.5", "null", "{}", "[10, 20]", "true"]
    long = param_value("x" * (MAX_VALUE + 10))
    assert len(long) == MAX_VALUE and long.endswith("... (truncated)")
    assert mlflow_name("test.Recall@20") == "test.Recall_at_20" and mlflow_name("a:b*c") == "a_b_c"
    assert len(mlflow_name("k" * 300)) == 250


def test_export_logs_the_study_and_every_cell(study, store, tmp_path, capfd):
    summary = export_mlflow(study, tracking_uri=store, experiment="energy-demo")
    results = StudyResults.load(study)
    assert len(results.all_manifests) > len(results.manifests) == 4  # the design's cells and its controls
    assert (summary.added, summary.present, summary.experiment) == (len(results.all_manifests), 0, "energy-demo")
    client, (parent,) = runs(store, "energy-demo", "study")
    assert parent.info.run_id == summary.parent_run_id and parent.data.tags["mmstudy.chain"] == results.study.chain
    assert {a.path for a in client.list_artifacts(parent.info.run_id)} == {"study.json", "report.pdf"}
    _, cells = runs(store, "energy-demo", "cell")
    assert {r.data.tags["mmstudy.fingerprint"] for r in cells} == set(results.all_manifests)
    for run in cells:
        manifest = results.all_manifests[run.data.tags["mmstudy.fingerprint"]]
        assert run.data.tags["mlflow.parentRunId"] == parent.info.run_id and run.info.status == "FINISHED"
        assert run.data.params == cell_params(manifest) and run.data.params["model"] == manifest.model
        assert run.data.metrics["test.Recall_at_20"] == manifest.test.mean["Recall@20"]
        assert run.data.metrics["energy.kwh"] == manifest.energy.kwh
        assert {a.path for a in client.list_artifacts(run.info.run_id)} == {"per_user.parquet", "result.json"}
    assert list((tmp_path / "cwd").iterdir()) == []  # artifacts beside the database, not in the current folder
    assert (tmp_path / "tracking" / "mlartifacts" / "energy-demo").is_dir()
    assert "INFO" not in capfd.readouterr().err


def test_exporting_again_adds_only_the_cells_not_there_yet(study, store, capsys):
    total = len(StudyResults.load(study).all_manifests)
    held_back = next((study / "cells").iterdir())
    shutil.move(held_back / "result.json", study / "held-back.json")  # an unfinished cell
    assert main(["export", "mlflow", str(study), "--tracking-uri", store]) == 0
    assert capsys.readouterr().out.rstrip().endswith(f"{total - 1} cell run(s) added, 0 already present")
    shutil.move(study / "held-back.json", held_back / "result.json")  # the study resumed and finished it
    assert export_mlflow(study, tracking_uri=store).added == 1
    again = export_mlflow(study, tracking_uri=store)
    assert (again.added, again.present) == (0, total)
    assert len(runs(store, "tiny-energy", "cell")[1]) == total and len(runs(store, "tiny-energy", "study")[1]) == 1


def test_a_file_store_works_where_mlflow_allows_it(study, store, tmp_path, monkeypatch):
    uri = (tmp_path / "mlruns").as_uri()
    with pytest.raises(ConfigError, match="refuses file stores unless MLFLOW_ALLOW_FILE_STORE=true"):
        export_mlflow(study, tracking_uri=uri)
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    total = len(StudyResults.load(study).all_manifests)
    assert export_mlflow(study, tracking_uri=uri).added == total
    assert export_mlflow(study, tracking_uri=uri).present == total


def test_the_default_store_is_mlflows_sqlite_file_in_the_current_folder(study, store, tmp_path):
    summary = export_mlflow(study)
    assert summary.tracking_uri.startswith("sqlite:///") and (tmp_path / "cwd" / "mlflow.db").exists()


def test_a_deleted_experiment_is_refused(study, store):
    export_mlflow(study, tracking_uri=store, experiment="gone")
    client, _ = runs(store, "gone", "study")
    client.delete_experiment(client.get_experiment_by_name("gone").experiment_id)
    with pytest.raises(ConfigError, match="experiment 'gone' is deleted in .*pass another --experiment"):
        export_mlflow(study, tracking_uri=store, experiment="gone")


@pytest.mark.parametrize("case, message", [
    ("not-results", "no study.json — not a results folder written by mmstudy"),
    ("broken-json", "study.json: unreadable (JSONDecodeError"),
    ("tampered", "checksum"),
    ("bad-scheme", "--tracking-uri foo://nowhere: MLflow has no tracking store for the scheme 'foo'"),
    ("unreachable", "--tracking-uri http://127.0.0.1:9: API request to http://127.0.0.1:9"),
])
def test_bad_input_is_one_error_line(study, store, tmp_path, monkeypatch, capsys, case, message):
    uri, folder = store, study
    if case == "not-results":
        folder = tmp_path / "cwd"
    elif case == "broken-json":
        (study / "study.json").write_text("{not json")
    elif case == "tampered":
        path = next((study / "cells").glob("*/per_user.parquet"))
        table = pd.read_parquet(path)
        table.iloc[0, 0] += 1
        table.to_parquet(path)
    elif case == "bad-scheme":
        uri = "foo://nowhere"
    else:  # nothing listens on the discard port of the loopback address; no retries
        uri = "http://127.0.0.1:9"
        monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    assert main(["export", "mlflow", str(folder), "--tracking-uri", uri]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


def test_without_mlflow_the_command_says_how_to_install_it(study, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "mlflow", None)
    assert main(["export", "mlflow", str(study)]) == 2
    assert capsys.readouterr().err == f"error: {INSTALL_HINT}\n"
    assert json.loads((study / "study.json").read_text())["kind"] == "compare"  # nothing touched
