"""A results folder in MLflow: the study as a parent run, each finished cell as a child run.

A cell's run carries its canonical configuration as params (flattened to dotted keys, values as
JSON, cut to MLflow's length limits) with the hyper-parameters selected on validation
(`selected.*`); its test means as metrics (`test.Recall_at_20`: MLflow names take no '@'), with
the validation score, timings and recorded energy; its fingerprint and the study's chain as tags;
`per_user.parquet` and `result.json` as artifacts (checksums verified first). The parent run is
found again by the study's chain and its cells by their fingerprints (tagged last, once a run is
complete), so exporting again adds only the cells not there yet, e.g. after a resumed study.
"""
from __future__ import annotations

import json
import logging
import math
import os
import re
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping

from ..errors import ConfigError
from ..study.manifest import CellManifest
from ..study.results import StudyResults

INSTALL_HINT = 'the MLflow export needs MLflow; install it with: pip install "mmstudy[mlflow]"'
MAX_KEY, MAX_VALUE, BATCH = 250, 6000, 100  # MLflow's limits: name and param value length, params per call
TRUNCATED = "... (truncated)"
TAG_ROLE, TAG_CHAIN, TAG_FINGERPRINT, TAG_KIND = "mmstudy.role", "mmstudy.chain", "mmstudy.fingerprint", "mmstudy.kind"
ARTIFACTS = ("per_user.parquet", "result.json")
HTTP_LIMITS = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2", "MLFLOW_HTTP_REQUEST_TIMEOUT": "30"}


@dataclass(frozen=True)
class ExportSummary:
    """What an export did: where to, the parent run, and the cell runs added or found."""

    study: str
    tracking_uri: str
    experiment: str
    parent_run_id: str
    added: int
    present: int

    def line(self) -> str:
        return (f"exported study {self.study!r} to {self.tracking_uri} (experiment {self.experiment!r}, parent "
                f"run {self.parent_run_id}): {self.added} cell run(s) added, {self.present} already present")


def import_mlflow():
    """The `mlflow` module, or a ConfigError telling how to install it."""
    try:
        import mlflow
    except ImportError as exc:
        raise ConfigError(INSTALL_HINT) from exc
    return mlflow


def export_mlflow(folder: str | Path, tracking_uri: str | None = None, experiment: str | None = None) -> ExportSummary:
    """Log the finished cells of results folder `folder` to MLflow (see the module docstring).

    Parameters
    ----------
    tracking_uri : where to log (default: MLflow's: $MLFLOW_TRACKING_URI, else sqlite:///mlflow.db).
    experiment : the experiment's name, created if absent (default: the study's name).
    """
    results = StudyResults.load(folder)  # DataError when it is not a results folder
    mlflow = import_mlflow()
    uri = tracking_uri or mlflow.get_tracking_uri()
    name = experiment or results.study.name or results.folder.resolve().name
    try:
        with quiet_mlflow():
            client = mlflow.tracking.MlflowClient(tracking_uri=uri, registry_uri=uri)
            experiment_id = find_or_create_experiment(client, name, uri)
            parent = find_or_create_parent(client, experiment_id, results)
            present = logged_fingerprints(client, experiment_id, parent)
            todo = [fp for fp in results.all_manifests if fp not in present]  # controls too
            for fp in todo:
                log_cell(client, experiment_id, parent, results, fp)
    except mlflow.exceptions.MlflowException as exc:
        raise ConfigError(tracking_error(uri, exc)) from None
    return ExportSummary(results.study.name, uri, name, parent, len(todo), len(results.all_manifests) - len(todo))


def tracking_error(uri: str, exc: Exception) -> str:
    """One line saying why MLflow refused `uri`."""
    text = str(exc)
    if "MLFLOW_ALLOW_FILE_STORE" in text:
        return (f"--tracking-uri {uri}: MLflow refuses file stores unless MLFLOW_ALLOW_FILE_STORE=true is set; "
                "use a database, e.g. sqlite:///PATH/mlflow.db")
    if type(exc).__name__ == "UnsupportedModelRegistryStoreURIException":
        return (f"--tracking-uri {uri}: MLflow has no tracking store for the scheme {uri.split(':', 1)[0]!r}; "
                "use e.g. sqlite:///PATH/mlflow.db or http://HOST:PORT")
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return f"--tracking-uri {uri}: {first[:400]}"


@contextmanager
def quiet_mlflow() -> Iterator[None]:
    """MLflow and its database migrations log at WARNING and above only; an unreachable server
    fails after 2 retries of at most 30 s, unless MLflow's own variables say otherwise."""
    loggers = [logging.getLogger(name) for name in ("mlflow", "alembic")]
    levels = [lg.level for lg in loggers]
    added = [key for key in HTTP_LIMITS if key not in os.environ]
    for lg in loggers:
        lg.setLevel(max(lg.getEffectiveLevel(), logging.WARNING))
    os.environ.update({key: HTTP_LIMITS[key] for key in added})
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)
        for key in added:
            os.environ.pop(key, None)


def find_or_create_experiment(client, name: str, uri: str) -> str:
    """The id of experiment `name`; a new one keeps a local SQLite store's artifacts beside its
    database (MLflow would put them under the current folder)."""
    found = client.get_experiment_by_name(name)
    if found is not None:
        if found.lifecycle_stage != "active":
            raise ConfigError(f"experiment {name!r} is deleted in {uri}; restore it or pass another --experiment")
        return found.experiment_id
    location = None
    if uri.startswith("sqlite:///") and ":memory:" not in uri:
        database = Path(uri[len("sqlite:///"):]).resolve()
        location = (database.parent / "mlartifacts" / slug(name)).as_uri()
    return client.create_experiment(name, artifact_location=location)


def slug(text: str) -> str:
    return re.sub(r"[^\w.-]+", "-", text).strip("-") or "experiment"


def find_or_create_parent(client, experiment_id: str, results: StudyResults) -> str:
    """The study's run (found by its chain), created with study.json and report.pdf the first time."""
    study = results.study
    found = client.search_runs([experiment_id], max_results=1, order_by=["attributes.start_time ASC"],
                               filter_string=f"tags.`{TAG_ROLE}` = 'study' and tags.`{TAG_CHAIN}` = '{study.chain}'")
    if found:
        return found[0].info.run_id
    run_id = client.create_run(experiment_id, run_name=study.name or results.folder.name, tags={
        TAG_ROLE: "study", TAG_CHAIN: study.chain, TAG_KIND: study.kind,
        "mmstudy.results": str(results.folder.resolve())}).info.run_id
    log_params(client, run_id, {"kind": study.kind, "cells": str(len(study.cells)), "question": study.question})
    for name in ("study.json", "report.pdf"):
        if (results.folder / name).exists():
            client.log_artifact(run_id, str(results.folder / name))
    client.set_terminated(run_id)
    return run_id


def logged_fingerprints(client, experiment_id: str, parent: str) -> set[str]:
    """Fingerprints of the complete cell runs under `parent` (every page of the search)."""
    found, token = set(), None
    while True:
        page = client.search_runs([experiment_id], max_results=1000, page_token=token,
                                  filter_string=f"tags.`mlflow.parentRunId` = '{parent}' and tags.`{TAG_ROLE}` = 'cell'")
        found |= {run.data.tags[TAG_FINGERPRINT] for run in page if TAG_FINGERPRINT in run.data.tags}
        token = page.token
        if not token:
            return found


def log_cell(client, experiment_id: str, parent: str, results: StudyResults, fp: str) -> None:
    """One cell as a child run of `parent`; its fingerprint tag comes last, so a run cut short
    (marked FAILED) is not taken for an exported cell next time."""
    _, manifest = results.store.load(fp)  # verifies the stored files' checksums first
    label = ", ".join(f"{k}={v}" for k, v in manifest.labels.items()) or manifest.model
    run_id = client.create_run(experiment_id, run_name=label, tags={
        "mlflow.parentRunId": parent, TAG_ROLE: "cell", TAG_CHAIN: results.study.chain, TAG_KIND: results.study.kind,
        **({"mmstudy.energy": manifest.energy.status} if manifest.energy is not None else {})}).info.run_id
    try:
        log_params(client, run_id, cell_params(manifest))
        client.log_batch(run_id, metrics=metric_entities(cell_metrics(manifest)))
        for name in ARTIFACTS:
            client.log_artifact(run_id, str(results.store.cell_dir(fp) / name))
        client.set_tag(run_id, TAG_FINGERPRINT, fp)
        client.set_terminated(run_id)
    except BaseException:
        client.set_terminated(run_id, status="FAILED")
        raise


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested mappings as {dotted key: leaf}; an empty mapping is a leaf."""
    if isinstance(value, Mapping) and value:
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: value}


def param_value(value: Any) -> str:
    """A param's text: strings as they are, anything else as JSON; cut to MLflow's limit."""
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= MAX_VALUE else text[:MAX_VALUE - len(TRUNCATED)] + TRUNCATED


def mlflow_name(key: str) -> str:
    """A param or metric name MLflow accepts (letters, digits, _ - . / and spaces; '@' -> '_at_')."""
    return re.sub(r"[^\w./ -]", "_", key.replace("@", "_at_"))[:MAX_KEY]


def cell_params(manifest: CellManifest) -> dict[str, str]:
    """The canonical cell configuration, then the selected hyper-parameters, as MLflow params."""
    params = {**flatten(manifest.cell.to_dict()),
              **flatten({"selected": {**manifest.selection.selected_params,
                                      **manifest.selection.selected_imputer_params}})}
    return {mlflow_name(k): param_value(v) for k, v in params.items()}


def cell_metrics(manifest: CellManifest) -> dict[str, float]:
    """Test means, the validation score, timings, parameter count and recorded energy."""
    sel, timing, energy = manifest.selection, manifest.timing, manifest.energy
    values = {**{f"test.{k}": v for k, v in manifest.test.mean.items()}, f"valid.{sel.metric}": sel.best_valid,
              "timing.total_seconds": timing.total_seconds, "timing.train_seconds": timing.train_seconds,
              "n_parameters": manifest.n_parameters}
    if energy is not None and energy.recorded:
        values.update({"energy.kwh": energy.kwh, "energy.co2_kg": energy.co2_kg, "energy.seconds": energy.seconds,
                       **{f"energy.{phase}.kwh": p.kwh for phase, p in (energy.phases or {}).items()}})
    return {mlflow_name(k): float(v) for k, v in values.items()
            if isinstance(v, (int, float)) and math.isfinite(v)}


def metric_entities(values: dict[str, float]) -> list:
    from mlflow.entities import Metric

    now = int(time.time() * 1000)
    return [Metric(key, value, now, 0) for key, value in values.items()]


def log_params(client, run_id: str, params: dict[str, str]) -> None:
    """Log params in batches of MLflow's per-call limit."""
    from mlflow.entities import Param

    items = [Param(k, v) for k, v in params.items()]
    for start in range(0, len(items), BATCH):
        client.log_batch(run_id, params=items[start:start + BATCH])
