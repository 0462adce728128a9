"""`python -m mmstudy.studies.extractors`: the pre-trained extractor study.

Which pre-trained extractor (model, layer, preprocessing) should make each modality's item
features, how much does the choice change downstream accuracy and beyond-accuracy, what does each
modality contribute alone, what does extraction cost, and how similar are the extractors' feature
spaces? Everything but the features (split, models, tuning budget, seeds) is held identical.
Default: studies/extractors-quick.yaml, offline on the embedded synthetic dataset (rendered images
and generated texts) with the local zoo presets. The study file's `extractors:` section::

    modalities:                      # modality -> extractors (a name, or {name: ..., <feature spec>})
      image: [precomputed, efficientnet-lite0, {name: lite0-logits, preset: efficientnet-lite0, layer: logits}]
      text: {shipped: precomputed, minilm-l6: minilm-l6, l6-cls: {preset: minilm-l6, pooling: cls}}
      audio: [{name: whisper, precomputed: audio}, {name: vggish, precomputed: vggish}]
    joint: {clip: clip-vit-b32}      # models that serve every modality: one combination each
    reference: {image: efficientnet-lite0, text: minilm-l6, audio: whisper}   # default: the first of each
    design: grid                     # grid (every combination) | vary-one (reference, one modality changed)
    ablations: reference             # none | reference | all: single-modality cells vs their full combination
    cf_baseline: true                # the models' CF counterparts, for the multimodal gain
    graph_k: 20                      # co-interaction graph top-k for the homophily of each feature space
    cka_items: 5000                  # CKA on at most this many items (present everywhere; seeded sample)

Feature specs are those of `mmstudy.features.apply`. After the cells, the study writes
features.json (per modality: every extractor's feature SHA-256 and dimension, the CKA matrix and
the homophily) from the feature store, so the report and `verify` need only the results folder.
"""
from __future__ import annotations

import argparse
import itertools
import math
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

from ..analysis.extractors import FEATURES_FILE, combination_label
from ..config import from_mapping
from ..errors import ConfigError
from ..features.apply import PRECOMPUTED, FeatureSpec, canonical_features
from ..hashing import write_json
from ..models import MODELS
from ..study.cell import Cell, DataConfig
from ..study.spec import StudySpec, load_spec
from .common import run_study_command

DESIGNS = ("grid", "vary-one")
ABLATIONS = ("none", "reference", "all")


@dataclass(frozen=True)
class ExtractorSection:
    """The `extractors:` section (see the module docstring), normalised on construction:
    `modalities` and `joint` map names to canonical feature specs, `reference` is {modality: name}."""

    modalities: Mapping[str, Any] = field(default_factory=dict)
    joint: Mapping[str, Any] = field(default_factory=dict)
    reference: Any = None
    design: str = "grid"
    ablations: str = "reference"
    cf_baseline: bool = True
    graph_k: int = 20
    cka_items: int = 5000

    def __post_init__(self) -> None:
        if not self.modalities:
            raise ConfigError("extractors.modalities: declare at least one modality with its extractors")
        mods = {str(m): _entries(v, f"extractors.modalities.{m}") for m, v in self.modalities.items()}
        joint = {str(n): FeatureSpec.parse(s, f"extractors.joint.{n}").to_dict() for n, s in self.joint.items()}
        for mod, entries in mods.items():
            clash = sorted(set(entries) & set(joint))
            if clash:
                raise ConfigError(f"extractors: {clash[0]!r} names both a joint model and a {mod} extractor")
        object.__setattr__(self, "modalities", mods)
        object.__setattr__(self, "joint", joint)
        object.__setattr__(self, "reference", self._reference(self.reference))
        for key, value, allowed in (("design", self.design, DESIGNS), ("ablations", self.ablations, ABLATIONS)):
            if value not in allowed:
                raise ConfigError(f"extractors.{key}: unknown value {value!r}; expected one of {allowed}")
        if self.graph_k < 1 or self.cka_items < 2:
            raise ConfigError("extractors.graph_k must be >= 1 and extractors.cka_items >= 2")

    def _reference(self, value: Any) -> dict[str, str]:
        if value is None:
            return {m: next(iter(entries)) for m, entries in self.modalities.items()}
        if isinstance(value, str):  # a joint model (or a name every modality has)
            value = {m: value for m in self.modalities}
        if not isinstance(value, Mapping) or set(value) != set(self.modalities):
            raise ConfigError(f"extractors.reference must name one extractor per modality {list(self.modalities)}, "
                              f"got {value!r}")
        out = {m: str(value[m]) for m in self.modalities}
        for mod, name in out.items():
            self.spec(mod, name)
        return out

    def spec(self, modality: str, name: str) -> dict:
        """The canonical feature spec of extractor `name` for `modality` (joint models included)."""
        if name in self.joint:
            return self.joint[name]
        if name not in self.modalities[modality]:
            raise ConfigError(f"extractors: {modality} has no extractor {name!r}; declared: "
                              f"{[*self.modalities[modality], *self.joint]}")
        return self.modalities[modality][name]

    def combinations(self) -> list[dict[str, str]]:
        """Full combinations {modality: extractor}: the design's, then one per joint model."""
        mods = list(self.modalities)
        if self.design == "grid":
            combos = [dict(zip(mods, names)) for names in itertools.product(*self.modalities.values())]
        else:
            combos = [dict(self.reference)] + [{**self.reference, m: name} for m in mods
                                               for name in self.modalities[m] if name != self.reference[m]]
        combos += [{m: name for m in mods} for name in self.joint]
        return list({combination_label(c): c for c in combos}.values())

    def single_modality(self) -> list[tuple[dict[str, str], dict[str, str]]]:
        """(single-modality assignment, full combination it is compared with) for the ablations."""
        if self.ablations == "none" or len(self.modalities) < 2:
            return []
        out = []
        for mod, entries in self.modalities.items():
            names = list(entries) if self.ablations == "all" else [self.reference[mod]]
            out += [({mod: name}, {**self.reference, mod: name}) for name in names]
        return out


def _entries(value: Any, where: str) -> dict[str, dict]:
    """{name: canonical spec} from a list (names, or mappings with 'name') or a {name: spec} mapping."""
    if isinstance(value, (list, tuple)):
        pairs = []
        for item in value:
            if isinstance(item, Mapping):
                item = dict(item)
                if "name" not in item:
                    raise ConfigError(f"{where}: a mapping entry needs a 'name' (got keys {sorted(item)})")
                pairs.append((str(item.pop("name")), item))
            else:
                pairs.append((str(item), item))
    elif isinstance(value, Mapping):
        pairs = [(str(k), v) for k, v in value.items()]
    else:
        raise ConfigError(f"{where}: expected a list or mapping of extractors, got {value!r}")
    names = [n for n, _ in pairs]
    if not pairs or len(set(names)) != len(names):
        raise ConfigError(f"{where}: declare at least one extractor, each name once (got {names})")
    return {name: FeatureSpec.parse(spec, f"{where}.{name}").to_dict() for name, spec in pairs}


def parse_section(spec: StudySpec) -> ExtractorSection:
    return from_mapping(ExtractorSection, spec.section, f"study {spec.name!r}: extractors")


def extractor_cells(spec: StudySpec) -> list[Cell]:
    """model x (full combinations + single-modality ablations) x seed, plus CF counterparts."""
    section = parse_section(spec)
    mods = list(section.modalities)
    configs = [(c, "full", "") for c in section.combinations()]
    configs += [(single, "ablation", combination_label(full)) for single, full in section.single_modality()]
    cells = []
    for model in spec.models:
        if not MODELS.get(model).multimodal:
            raise ConfigError(f"study {spec.name!r}: model {model!r} uses no modality; list multimodal models "
                              "(their CF counterparts are added with extractors.cf_baseline)")
        for assignment, role, counterpart in configs:
            features = canonical_features({m: section.spec(m, n) for m, n in assignment.items()})
            data = replace(spec.data, modalities=tuple(assignment), features=features)
            labels = {"role": role, "combination": combination_label(assignment), "counterpart": counterpart,
                      "modalities": "+".join(sorted(assignment)), **{f"extractor_{m}": assignment.get(m, "-") for m in mods}}
            cells += [_cell(spec, model, seed, data, labels) for seed in spec.seeds]
    if section.cf_baseline:
        base = replace(spec.data, modalities=tuple(mods), features={})
        for cf in [c for c in dict.fromkeys(MODELS.get(m).cf_counterpart for m in spec.models) if c]:
            labels = {"role": "cf", "combination": f"{cf} (no features)", "counterpart": "", "modalities": "-",
                      **{f"extractor_{m}": "-" for m in mods}}
            cells += [_cell(spec, cf, seed, base, labels) for seed in spec.seeds]
    return cells


def _cell(spec: StudySpec, model: str, seed: int, data: DataConfig, labels: dict[str, Any]) -> Cell:
    canonical = MODELS.canonical(model)
    return Cell(data=data, model=canonical, params=dict(spec.params.get(model, {})),
                grid=dict(spec.grids.get(model, {})), train=dict(spec.train), seed=seed, cutoffs=spec.cutoffs,
                labels={"model": canonical, **labels, "seed": seed})


def check_extractors(spec: StudySpec, section: ExtractorSection) -> None:
    """Fail before any cell runs when a modality is unknown, a preset's weights are missing, or an
    extractor cannot serve its modality (wrong kind, no raw content)."""
    from ..features.apply import validate_features
    from ..study.pipeline import Workspace

    dataset = Workspace().dataset(_source_config(spec.data))
    for mod, entries in section.modalities.items():
        for name in [*entries, *section.joint]:
            validate_features(dataset, {mod: section.spec(mod, name)})


def _source_config(data: DataConfig) -> DataConfig:
    """The data as loaded: every modality, no extraction."""
    return replace(data, features={}, modalities=None)


def write_feature_summary(folder: str | Path, device: str = "cpu") -> Path:
    """features.json: per modality, each extractor's features (SHA-256, dim, presence), the CKA matrix
    between them and their homophily on the training co-interaction graph. Features come from the
    study's feature store (extracted by the cells; anything missing is extracted now)."""
    from ..features.apply import apply_features
    from ..features.similarity import modality_cka
    from ..missing.graph import co_interaction_graph
    from ..missing.homophily import feature_homophily
    from ..report.results import StudyResults
    from ..study.pipeline import Workspace

    folder = Path(folder)
    plain = StudyResults.load(folder).study["spec"]
    data = _source_config(from_mapping(DataConfig, plain["data"], "study.json: spec.data"))
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


def _extra_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--design", choices=DESIGNS, help="override extractors.design")
    parser.add_argument("--ablations", choices=ABLATIONS, help="override extractors.ablations")


def _load(args: argparse.Namespace) -> StudySpec:
    from ..config import as_plain

    spec = load_spec(args.config, "extractors")
    section = {**spec.section, **{k: getattr(args, k) for k in ("design", "ablations") if getattr(args, k)}}
    parsed = from_mapping(ExtractorSection, section, f"{args.config}: extractors")
    return replace(spec, section=as_plain(parsed))  # normalised, as study.json records it


def _cells(spec: StudySpec) -> list[Cell]:
    check_extractors(spec, parse_section(spec))
    return extractor_cells(spec)


def _report(folder: Path) -> Path:
    from ..report.extractors import build_extractors_report

    write_feature_summary(folder)
    return build_extractors_report(folder)


def main(argv: list[str] | None = None) -> int:
    return run_study_command("extractors", argv, "extractors-quick.yaml", _load, _cells, _report, _extra_args)


if __name__ == "__main__":
    sys.exit(main())
