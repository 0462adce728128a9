"""The extractor study's design: its `extractors:` section (see the package docstring) and the cells
a study file expands to; extractors are checked against the dataset before any cell runs."""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from typing import Any, Mapping

from ...errors import ConfigError
from ...features.apply import FeatureSpec, canonical_features, validate_features
from ...models import MODELS
from ...study.cell import Cell, DataConfig
from ...study.spec import StudySpec
from ...study.workspace import Workspace
from .analysis import combination_label

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


def study_cells(spec: StudySpec, section: ExtractorSection) -> list[Cell]:
    """The study's cells, after checking every extractor against the dataset."""
    check_extractors(spec, section)
    return extractor_cells(spec, section)


def extractor_cells(spec: StudySpec, section: ExtractorSection) -> list[Cell]:
    """model x (full combinations + single-modality ablations) x seed, plus CF counterparts."""
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
    return Cell(data=data, model=canonical, **spec.model_settings(model), seed=seed, cutoffs=spec.cutoffs,
                missing=spec.natural_gaps,
                labels={"model": canonical, **labels, "seed": seed})


def check_extractors(spec: StudySpec, section: ExtractorSection) -> None:
    """Fail before any cell runs when a modality is unknown, a preset's weights are missing, or an
    extractor cannot serve its modality (wrong kind, no raw content)."""
    dataset = Workspace().dataset(source_config(spec.data))
    for mod, entries in section.modalities.items():
        for name in [*entries, *section.joint]:
            validate_features(dataset, {mod: section.spec(mod, name)})


def source_config(data: DataConfig) -> DataConfig:
    """The data as loaded: every modality, no extraction."""
    return replace(data, features={}, modalities=None)


def reference_cells(cells: list[Cell], section: ExtractorSection) -> list[Cell]:
    """The study's reference configuration (for its controls): the reference combination, every
    model and seed."""
    reference = combination_label(section.reference)
    return [c for c in cells if c.labels.get("role") == "full" and c.labels["combination"] == reference]
