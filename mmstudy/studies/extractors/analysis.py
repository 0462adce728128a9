"""The extractor study's numbers: accuracy and beyond-accuracy per extractor combination, paired
tests against the reference combination and against the CF counterpart, single-modality
ablations, extraction cost, and the feature spaces' similarity (CKA) and graph homophily.

Cell labels carry the factors: `combination` ("image:efficientnet-lite0 + text:minilm-l6"),
`role` (full | ablation | cf), `counterpart` (for an ablation: the full combination it is compared
with) and `extractor_<modality>`. CKA and homophily are computed once at study time from the
extracted features and stored in the results folder's features.json (see
mmstudy.studies.extractors); every table here is a deterministic function of the manifests, the
per-user files and features.json, so `python -m mmstudy verify` recomputes it exactly.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from ...analysis.groups import PER_USER_BEYOND, reported_metrics, seed_groups, summary_table
from ...analysis.pairing import GroupPair, compare_groups
from ...hashing import canonical_json
from ...study.manifest import CellManifest
from ...study.results import StudyResults
from ...study.spec import AnalysisConfig

FEATURES_FILE = "features.json"
ROLE_ORDER = {"full": 0, "ablation": 1, "cf": 2}
RECORD_KEYS = ("backend", "model", "layer", "n_extracted", "seconds_per_item", "batch_size", "device",
               "weights_sha256")


def combination_label(assignment: Mapping[str, str]) -> str:
    """"image:efficientnet-lite0 + text:minilm-l6" for {modality: extractor name}, modalities sorted
    (so the label survives study.json, whose keys are sorted)."""
    return " + ".join(f"{modality}:{assignment[modality]}" for modality in sorted(assignment))


def accuracy(cells: pd.DataFrame, metrics: list[str]) -> pd.DataFrame:
    """Mean and seed-level 95% CI of each metric per (model, role, combination)."""
    table = summary_table(cells, ["model", "role", "combination"], metrics)
    if table.empty:
        return table
    order = {"_role": table["role"].map(ROLE_ORDER), "_metric": table["metric"].map(metrics.index)}
    return (table.assign(**order).sort_values(["model", "_role", "combination", "_metric"], kind="stable")
            .drop(columns=list(order)).reset_index(drop=True))


def reference_pairs(cells: pd.DataFrame, reference: str) -> list[GroupPair]:
    """Every full combination against the reference combination, per model, seed-matched."""
    groups = seed_groups(cells[cells["role"] == "full"], ["model", "combination"])
    pairs = []
    for (model, combination), fps in groups.items():
        ref = groups.get((model, reference))
        if combination != reference and ref is not None:
            pairs.append(GroupPair(f"{model}: {combination} vs {reference}", fps, ref,
                                   keys=(("model", model), ("combination", combination), ("reference", reference))))
    return pairs


def ablation_pairs(cells: pd.DataFrame) -> list[GroupPair]:
    """Each single-modality cell group against the full combination it was cut from, per model."""
    full = seed_groups(cells[cells["role"] == "full"], ["model", "combination"])
    pairs = []
    for (model, combination, counterpart), fps in seed_groups(cells[cells["role"] == "ablation"],
                                                              ["model", "combination", "counterpart"]).items():
        if (model, counterpart) in full:
            pairs.append(GroupPair(f"{model}: {combination} alone vs {counterpart}", fps, full[(model, counterpart)],
                                   keys=(("model", model), ("combination", combination),
                                         ("counterpart", counterpart))))
    return pairs


def cf_pairs(cells: pd.DataFrame, results: StudyResults) -> list[GroupPair]:
    """Every full combination against its model's CF counterpart (same seeds)."""
    cf = seed_groups(cells[cells["role"] == "cf"], ["model"])
    pairs = []
    for (model, combination), fps in seed_groups(cells[cells["role"] == "full"], ["model", "combination"]).items():
        counterpart = results.manifests[next(iter(fps.values()))].cf_counterpart
        if (counterpart,) in cf:
            pairs.append(GroupPair(f"{model}: {combination} vs {counterpart}", fps, cf[(counterpart,)],
                                   keys=(("model", model), ("combination", combination), ("cf_model", counterpart))))
    return pairs


def tested(results: StudyResults, pairs: list[GroupPair], metrics: list[str], analysis: AnalysisConfig,
           correction: str | None = None) -> pd.DataFrame:
    """`compare_groups` for each metric (one corrected family per metric), stacked."""
    tables = [compare_groups(results, pairs, metric, analysis, correction) for metric in metrics]
    tables = [t for t in tables if not t.empty]
    if not tables:
        return pd.DataFrame()
    table = pd.concat(tables, ignore_index=True)
    return table.assign(note=table["note"].replace("", "-"))  # an empty CSV field would read back as NaN


def extraction_costs(results: StudyResults) -> pd.DataFrame:
    """One row per (modality, extractor): what made the features, their dimension and cost per item,
    from the extraction records the cells' manifests copied from the feature store."""
    rows = {}
    for fp in sorted(results.manifests):
        m = results.manifests[fp]
        for modality, entry in m.features.items():
            name = m.labels.get(f"extractor_{modality}")
            if name is None or (modality, name) in rows:
                continue
            record = entry.extractor or {"backend": "precomputed", "model": entry.source,
                                         "layer": "as shipped", "weights_sha256": entry.fingerprint}
            rows[(modality, name)] = {"modality": modality, "extractor": name, "dim": entry.dim,
                                      **{k: record.get(k) for k in RECORD_KEYS},
                                      "spec": canonical_json(record.get("spec") or {"precomputed": ""})}
    if not rows:
        return pd.DataFrame()
    table = pd.DataFrame(rows.values()).sort_values(["modality", "extractor"], kind="stable").reset_index(drop=True)
    text = ["backend", "model", "layer", "device", "weights_sha256"]
    return table.assign(**{c: table[c].fillna("-").astype(str) for c in text})  # no empty strings in the CSV


def load_feature_summary(folder: str | Path) -> dict[str, Any]:
    """features.json of a results folder ({} when the study did not write one)."""
    path = Path(folder) / FEATURES_FILE
    return json.loads(path.read_text()) if path.is_file() else {}


def cka_table(summary: Mapping[str, Any]) -> pd.DataFrame:
    """Long form of the stored CKA matrices: one row per (modality, extractor a, extractor b)."""
    rows = []
    for modality, entry in summary.get("modalities", {}).items():
        cka = entry.get("cka")
        if not cka:
            continue
        names = cka["names"]
        for i, a in enumerate(names):
            for j, b in enumerate(names):
                value = cka["matrix"][i][j]
                rows.append({"modality": modality, "extractor_a": a, "extractor_b": b,
                             "cka": float("nan") if value is None else value, "n_items": cka["n_items"]})
    return pd.DataFrame(rows)


def homophily_table(summary: Mapping[str, Any]) -> pd.DataFrame:
    """Co-interaction-graph feature homophily per (modality, extractor), as stored at study time."""
    k = summary.get("graph", {}).get("k")
    rows = [{"modality": modality, "extractor": name, "homophily": float("nan") if value is None else value,
             "dim": entry["extractors"][name]["dim"], "n_present": entry["extractors"][name]["n_present"],
             "graph_k": k}
            for modality, entry in summary.get("modalities", {}).items()
            for name, value in entry.get("homophily", {}).items()]
    return pd.DataFrame(rows)


def design_checks(results: StudyResults, summary: Mapping[str, Any]) -> pd.DataFrame:
    """Checks that only the extractor factors (features, modalities) vary between compared cells."""
    manifests = [results.manifests[fp] for fp in sorted(results.manifests)]
    rows = [_held_identical(manifests), _model_settings(manifests), _same_seeds(manifests),
            _similarity_split(manifests, summary)]
    return pd.DataFrame(rows, columns=["check", "passed", "evidence"])


def _held(manifest: CellManifest) -> str:
    cell = manifest.cell.to_dict()
    data = {k: v for k, v in cell["data"].items() if k not in ("features", "modalities")}
    rest = {k: v for k, v in cell.items() if k not in ("data", "labels", "seed", "model", "params", "grid")}
    return canonical_json({"data": data, **rest})


def _held_identical(manifests: list[CellManifest]) -> dict:
    name = "only the extractor factors vary"
    variants = {_held(m) for m in manifests}
    if len(variants) > 1:
        return {"check": name, "passed": False, "evidence": f"{len(variants)} different settings of data source, "
                f"split, training budget, missing handling or cutoffs among {len(manifests)} cells"}
    train = dict(manifests[0].cell.train)
    return {"check": name, "passed": True,
            "evidence": f"all {len(manifests)} cells share data source and split, training budget {train}, missing "
                        "handling and cutoffs; they differ only in data.features / data.modalities, model and seed"}


def _model_settings(manifests: list[CellManifest]) -> dict:
    name = "same model settings per model"
    by_model: dict[str, set] = {}
    for m in manifests:
        cell = m.cell.to_dict()
        by_model.setdefault(m.model, set()).add(canonical_json([cell["params"], cell["grid"]]))
    differing = sorted(k for k, v in by_model.items() if len(v) > 1)
    if differing:
        return {"check": name, "passed": False, "evidence": f"params or grid differ between cells of {differing}"}
    return {"check": name, "passed": True, "evidence": f"one params/grid setting per model "
                                                       f"({', '.join(sorted(by_model))}) in every cell"}


def _same_seeds(manifests: list[CellManifest]) -> dict:
    name = "same seeds for every configuration"
    seeds: dict[str, set] = {}
    for m in manifests:
        key = canonical_json({k: v for k, v in m.labels.items() if k != "seed"})
        seeds.setdefault(key, set()).add(m.seeds.training)
    distinct = {tuple(sorted(s)) for s in seeds.values()}
    if len(distinct) > 1:
        return {"check": name, "passed": False,
                "evidence": f"configurations ran different seed sets {sorted(distinct)}"}
    return {"check": name, "passed": True,
            "evidence": f"all {len(seeds)} configurations ran seeds {list(next(iter(distinct)))}"}


def _similarity_split(manifests: list[CellManifest], summary: Mapping[str, Any]) -> dict:
    name = "similarity on the cells' split"
    if not summary:
        return {"check": name, "passed": False, "evidence": f"{FEATURES_FILE} is missing: CKA and homophily were "
                                                            "not computed (re-run the study command)"}
    splits = {m.split.checksum for m in manifests}
    stored = summary.get("split_checksum")
    ok = splits == {stored}
    evidence = (f"homophily graph built from the train part of split {str(stored)[:10]}, the split of every cell"
                if ok else f"{FEATURES_FILE} used split {str(stored)[:10]}, cells used "
                           f"{sorted(s[:10] for s in splits)}")
    return {"check": name, "passed": ok, "evidence": evidence}


def analyse_extractors(results: StudyResults) -> dict[str, pd.DataFrame]:
    """Every table the extractor report shows, keyed by table name."""
    analysis, cells, section = results.analysis, results.cells, results.study.section
    summary = load_feature_summary(results.folder)
    reference = combination_label(section.get("reference", {}))
    tested_metrics = reported_metrics(analysis, cells.columns, PER_USER_BEYOND) if not cells.empty else []
    tables = {"accuracy": accuracy(cells, reported_metrics(analysis, cells.columns)) if not cells.empty
              else pd.DataFrame()}
    if not cells.empty:
        tables["vs_reference"] = tested(results, reference_pairs(cells, reference), tested_metrics, analysis)
        tables["ablations"] = tested(results, ablation_pairs(cells), [analysis.metric], analysis)
        tables["vs_cf"] = tested(results, cf_pairs(cells, results), [analysis.metric], analysis, "fdr_bh")
    tables["extraction"] = extraction_costs(results)
    tables["cka"] = cka_table(summary)
    tables["homophily"] = homophily_table(summary)
    tables["design_checks"] = design_checks(results, summary) if results.manifests else pd.DataFrame()
    return tables
