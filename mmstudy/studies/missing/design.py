"""The missing-modality study's design: its `missing:` section and the cells a study file expands to."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Iterator, Mapping

from ...config import check_unique
from ...errors import ConfigError
from ...missing.cold import cold_items
from ...missing.imputers import resolve_strategy
from ...missing.masking import parse_setting
from ...missing.mechanisms import MechanismChoice
from ...models import MODELS
from ...study.cell import IMPUTER_SELECTION, PHASES, Cell, MissingConfig
from ...study.spec import StudySpec
from ...study.workspace import Workspace

DEFAULT_RATES = (0.1, 0.3, 0.5, 0.7, 0.9)


@dataclass(frozen=True)
class MissingSection:
    """The `missing:` section of a study file.

    settings: `same`, `independent`, `single:<modality>` or `natural`; rates in (0, 1);
    mechanisms: which items the masks take first (`missing.mechanisms`): names or
    {name: popularity, strength: 2.0} mappings (a bare popularity/content name: strength 1);
    strategies: `dropped` and imputer names; reference: the strategy others are compared with;
    grids: imputer hyper-parameter values chosen on validation, per strategy;
    phases: when content is missing: `train_and_test` (training and serving alike), `serving` (the
    model trained on complete content loses it at test time), `new_items` (a `new_items_share` of
    the items never seen in training); select: how an imputer grid is decided, `retrain` (one
    training per value, chosen on validation) or `reconstruction` (one training; the value that best
    reconstructs hidden observed training rows); complete: add each model's complete-data cells
    (rate 0: where every robustness curve starts, and what who-pays compares with).
    """

    settings: tuple[str, ...] = ("same",)
    mechanisms: tuple[Any, ...] = ("mcar",)
    rates: tuple[float, ...] = DEFAULT_RATES
    strategies: tuple[str, ...] = ("dropped", "zeros", "mean", "propagation")
    reference: str = "zeros"
    grids: Mapping[str, Mapping[str, tuple]] = field(default_factory=dict)
    graph_k: int = 20
    natural: bool = True
    cf_counterparts: bool = True
    phases: tuple[str, ...] = ("train_and_test",)
    new_items_share: float = 0.2
    select: str = "retrain"
    complete: bool = True

    def __post_init__(self) -> None:
        for key in ("settings", "strategies", "phases"):
            check_unique(getattr(self, key), f"missing.{key}")
        object.__setattr__(self, "phases", tuple(PHASES.canonical(p) for p in self.phases))  # did-you-mean
        if "new_items" in self.phases and not 0 < self.new_items_share < 1:
            raise ConfigError(f"missing.new_items_share must lie in (0, 1), got {self.new_items_share}")
        if self.select not in IMPUTER_SELECTION:
            raise ConfigError(f"missing.select: unknown value {self.select!r}; expected one of {IMPUTER_SELECTION}")
        if any(setting != "natural" for setting in self.settings):  # `natural` alone needs no rate
            check_unique(self.rates, "missing.rates")
        for name in (*self.strategies, self.reference, *self.grids):
            resolve_strategy(name)  # unknown names raise with "did you mean" suggestions
        if self.reference not in self.strategies:
            raise ConfigError(f"missing.reference {self.reference!r} is not among the strategies "
                              f"{list(self.strategies)}")
        for rate in self.rates:
            if not 0 < float(rate) < 1:
                raise ConfigError(f"missing.rates: {rate} is outside (0, 1)")
        object.__setattr__(self, "mechanisms", parse_mechanisms(self.mechanisms))


def parse_mechanisms(entries: Any) -> tuple[MechanismChoice, ...]:
    """The section's mechanisms, checked: each known, its strength in range, none listed twice."""
    if isinstance(entries, (str, Mapping)):
        entries = (entries,)
    if not isinstance(entries, (tuple, list)) or not entries:
        raise ConfigError(f"missing.mechanisms: list at least one mechanism (e.g. [mcar]), got {entries!r}")
    choices = tuple(entry if isinstance(entry, MechanismChoice) else
                    MechanismChoice.parse(entry, f"missing.mechanisms[{i}]") for i, entry in enumerate(entries))
    labels = [c.label for c in choices]
    if twice := sorted({label for label in labels if labels.count(label) > 1}):
        raise ConfigError(f"missing.mechanisms: {twice[0]!r} is listed twice")
    return choices


def study_cells(spec: StudySpec, section: MissingSection) -> list[Cell]:
    """The cells of a study on its dataset, loaded here without extracting features (they change
    no modality's name) for its modality names and, with `new_items`, a check of the share."""
    ws = Workspace()
    dataset = ws.dataset(replace(spec.data, features={}))
    if "new_items" in section.phases:
        split = ws.split(dataset, spec.data)
        for seed in spec.seeds:  # too few items to hold out: one error line before anything runs
            cold_items(split, section.new_items_share, seed)
    return missing_cells(spec, section, list(dataset.modalities))


def masks(section: MissingSection, modalities: list[str]) -> Iterator[tuple[dict, dict]]:
    """(MissingConfig keywords, labels) of every mask the study draws at each seed: mechanism x
    setting x rate; the setting `natural` (the data's own gaps: no mechanism) once, labelled
    mechanism 'natural'."""
    for index, choice in enumerate(section.mechanisms):
        for setting in section.settings:
            kind, target = parse_setting(setting, modalities)
            if kind == "natural" and index:
                continue
            drawn = {} if kind == "natural" else {"mechanism": choice.name, "strength": choice.strength}
            for rate in ((0.0,) if kind == "natural" else section.rates):
                yield ({"setting": kind, "rate": float(rate), "target": target, "natural": section.natural, **drawn},
                       {"mechanism": "natural" if kind == "natural" else choice.label, "setting": setting,
                        "rate": float(rate)})


def phases(section: MissingSection) -> Iterator[tuple[str, dict]]:
    """(phase, its MissingConfig keywords) for each phase of the study."""
    for phase in section.phases:
        yield phase, {"phase": phase, **({"cold_share": section.new_items_share} if phase == "new_items" else {})}


def complete_phases(section: MissingSection) -> list[str]:
    """Phases with their own complete-data cells: `serving` starts from `train_and_test`'s (the same
    training on the same complete content)."""
    wanted = {"new_items" if p == "new_items" else "train_and_test" for p in section.phases}
    return [p for p in ("train_and_test", "new_items") if p in wanted]


def missing_cells(spec: StudySpec, section: MissingSection, modalities: list[str]) -> list[Cell]:
    """Expand dataset x model x phase x mechanism x setting x rate x strategy x seed, plus each
    model's complete-data cells and the CF counterparts."""
    cells: list[Cell] = []
    common = "dropped" in [s.lower() for s in section.strategies]
    for model in spec.models:
        if not MODELS.get(model).multimodal:
            raise ConfigError(f"study {spec.name!r}: model {model!r} uses no modality; list multimodal models "
                              "(their CF counterparts are added automatically)")
        for phase, keywords in phases(section):
            for mask, labels in masks(section, modalities):
                for strategy in section.strategies:
                    for seed in spec.seeds:
                        missing = MissingConfig(**mask, **keywords, mask_seed=seed, strategy=strategy,
                                                grid=dict(section.grids.get(strategy, {})), graph_k=section.graph_k,
                                                common_items=common, select=section.select)
                        cells.append(_cell(spec, model, seed, missing, {
                            "role": "multimodal", "phase": phase, **labels, "strategy": strategy}))
        if section.complete:
            cells += _complete_cells(spec, section, model, "multimodal")
    if section.cf_counterparts:
        cells += _cf_cells(spec, section, modalities, common)
    return cells


COMPLETE = {"mechanism": "none", "setting": "none", "rate": 0.0, "strategy": "none"}  # a complete cell's labels


def _complete_cells(spec: StudySpec, section: MissingSection, model: str, role: str) -> list[Cell]:
    """`model` on complete content per seed and complete phase: a multimodal one handles the data's
    own gaps as the study declares (`natural_gaps`) and stores the who-pays views."""
    base = replace(spec.natural_gaps, segment_views=True) if role == "multimodal" else MissingConfig()
    out = []
    for phase in complete_phases(section):
        share = {"cold_share": section.new_items_share} if phase == "new_items" else {}
        for seed in spec.seeds:
            out.append(_cell(spec, model, seed, replace(base, phase=phase, **share),
                             {"role": role, "phase": phase, **COMPLETE}))
    return out


def _cf_cells(spec: StudySpec, section: MissingSection, modalities: list[str], common: bool) -> list[Cell]:
    """CF counterparts: per seed on the full data (in each complete phase: `new_items` holds items
    out), and on each `dropped` catalogue (which `serving` shares with `train_and_test`)."""
    out, seen = [], set()
    for model in spec.models:
        cf = MODELS.get(model).cf_counterpart
        if cf is None or cf in seen:
            continue
        seen.add(cf)
        out += _complete_cells(spec, section, cf, "cf")
        if not common:
            continue
        for phase in complete_phases(section):
            keywords = dict(phases(replace(section, phases=(phase,))))[phase]
            for mask, labels in masks(section, modalities):
                for seed in spec.seeds:
                    missing = MissingConfig(**mask, **keywords, mask_seed=seed, strategy="dropped")
                    out.append(_cell(spec, cf, seed, missing, {"role": "cf", "phase": phase, **labels,
                                                               "strategy": "dropped"}))
    return out


def _cell(spec: StudySpec, model: str, seed: int, missing: MissingConfig, labels: dict[str, Any]) -> Cell:
    canonical = MODELS.canonical(model)
    return Cell(data=spec.data, model=canonical, **spec.model_settings(model), missing=missing, seed=seed,
                cutoffs=spec.cutoffs, labels={"model": canonical, **labels, "seed": seed})


def reference_cells(cells: list[Cell], section: MissingSection) -> list[Cell]:
    """The study's reference configuration (for its controls): the reference strategy under the first
    mechanism and setting at its lowest rate, for every multimodal model and seed."""
    setting = section.settings[0]
    rate = 0.0 if setting == "natural" else float(min(section.rates))
    mechanism = "natural" if setting == "natural" else section.mechanisms[0].label
    return [c for c in cells if c.labels.get("role") == "multimodal" and c.labels["setting"] == setting
            and c.labels["rate"] == rate and c.labels["strategy"] == section.reference
            and c.labels["mechanism"] == mechanism and c.labels["phase"] == section.phases[0]]


def phase_label(labels: Mapping[str, Any]) -> str:
    """A cell's `phase` label; cells written before phases have none: they were `train_and_test`."""
    return labels["phase"] if isinstance(labels.get("phase"), str) else "train_and_test"


def mechanism_label(labels: Mapping[str, Any]) -> str:
    """A cell's `mechanism` label; cells written before mechanisms have none: their synthetic masks
    were mcar, the data's own gaps are 'natural' and a CF model's full data 'none'."""
    if isinstance(labels.get("mechanism"), str):  # (a table of mixed folders holds NaN where absent)
        return labels["mechanism"]
    return {"none": "none", "natural": "natural"}.get(str(labels.get("setting")), "mcar")
