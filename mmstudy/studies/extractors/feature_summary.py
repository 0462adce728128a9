"""features.json: what the extractor study computes from the extracted features themselves once its
cells are done — per modality, every extractor's feature SHA-256 and dimension, the linear CKA
between extractors and each one's homophily on the training co-interaction graph — so the report
and `verify` need only the results folder."""
from __future__ import annotations

import math
from pathlib import Path

from ...config import from_mapping
from ...features.apply import apply_features
from ...features.similarity import modality_cka
from ...hashing import write_json
from ...missing.graph import co_interaction_graph
from ...missing.homophily import feature_homophily
from ...study.cell import DataConfig
from ...study.results import StudyResults
from ...study.workspace import Workspace
from .analysis import FEATURES_FILE
from .design import ExtractorSection, source_config


def write_feature_summary(folder: str | Path, device: str = "cpu") -> Path:
    """features.json: per modality, each extractor's features (SHA-256, dim, presence), the CKA matrix
    between them and their homophily on the training co-interaction graph. Features come from the
    study's feature store (extracted by the cells; anything missing is extracted now)."""
    folder = Path(folder)
    plain = StudyResults.load(folder).study.spec
    data = source_config(from_mapping(DataConfig, plain["data"], "study.json: spec.data"))
    section = from_mapping(ExtractorSection, plain["section"], "study.json: spec.section")
    ws = Workspace(folder / ".cache")
    dataset = ws.dataset(data)
    split = ws.split(dataset, data)
    graph = co_interaction_graph(split.train, k=section.graph_k)
    out = {"split_checksum": split.checksum, "cka_items": section.cka_items, "cka_seed": 0,
           "graph": {"k": section.graph_k, "built_from": "train", "train_checksum": graph.train_checksum,
                     "edges": graph.n_edges, "isolated_items": graph.n_isolated}, "modalities": {}}
    for mod, entries in section.modalities.items():
        feats = {name: apply_features(dataset, {mod: section.spec(mod, name)}, ws.feature_store, device=device,
                                      image_dir=folder / ".cache" / "images").modalities[mod]
                 for name in [*entries, *section.joint]}
        matrix, n_items = modality_cka(feats, section.cka_items, seed=0)
        out["modalities"][mod] = {
            "extractors": {n: {"spec": section.spec(mod, n), "dim": m.dim, "n_present": int(m.present.sum()),
                               "features_sha256": m.fingerprint()} for n, m in feats.items()},
            "cka": {"names": list(feats), "n_items": n_items, "matrix": [[_finite(v) for v in row]
                                                                         for row in matrix.to_numpy().tolist()]},
            "homophily": {n: _finite(feature_homophily(m, graph)) for n, m in feats.items()}}
    write_json(folder / FEATURES_FILE, out)
    return folder / FEATURES_FILE


def _finite(value: float) -> float | None:
    return None if value is None or math.isnan(value) else float(value)
