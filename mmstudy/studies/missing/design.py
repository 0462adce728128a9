"""The missing-modality study's design: its `missing:` section and the cells a study file expands to."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from ...config import check_unique
from ...errors import ConfigError
from ...missing.imputers import resolve_strategy
from ...missing.masking import parse_setting
from ...models import MODELS
from ...study.cell import Cell, MissingConfig
from ...study.spec import StudySpec
from ...study.workspace import Workspace

DEFAULT_RATES = (0.1, 0.3, 0.5, 0.7, 0.9)


@dataclass(frozen=True)
class MissingSection:
    """The `missing:` section of a study file.

    settings: `same`, `independent`, `single:<modality>` or `natural`; rates in (0, 1);
    strategies: `dropped` and imputer names; reference: the strategy others are compared with;
    grids: imputer hyper-parameter values chosen on validation, per strategy.
    """

    settings: tuple[str, ...] = ("same",)
    rates: tuple[float, ...] = DEFAULT_RATES
    strategies: tuple[str, ...] = ("dropped", "zeros", "mean", "propagation")
    reference: str = "zeros"
    grids: Mapping[str, Mapping[str, tuple]] = field(default_factory=dict)
    graph_k: int = 20
    natural: bool = True
    cf_counterparts: bool = True

    def __post_init__(self) -> None:
        for key in ("settings", "strategies"):
            check_unique(getattr(self, key), f"missing.{key}")
        if any(setting != "natural" for setting in self.settings):  # `natural` alone needs no rate
            check_unique(self.rates, "missing.rates")
        for name in (*self.strategies, self.reference, *self.grids):
            resolve_strategy(name)  # unknown names raise with "did you mean" suggestions
        if self.reference not in self.strategies:
            raise ConfigError(f"missing.reference {self.reference!r} is not among the strategies {list(self.strategies)}")
        for rate in self.rates:
            if not 0 < float(rate) < 1:
                raise ConfigError(f"missing.rates: {rate} is outside (0, 1)")


def study_cells(spec: StudySpec, section: MissingSection) -> list[Cell]:
    """The cells of a study on its dataset (loaded once here for its modality names)."""
    return missing_cells(spec, section, list(Workspace().dataset(spec.data).modalities))


def missing_cells(spec: StudySpec, section: MissingSection, modalities: list[str]) -> list[Cell]:
    """Expand dataset x model x setting x rate x strategy x seed, plus CF counterparts."""
    cells: list[Cell] = []
    common = "dropped" in [s.lower() for s in section.strategies]
    for model in spec.models:
        cls = MODELS.get(model)
        if not cls.multimodal:
            raise ConfigError(f"study {spec.name!r}: model {model!r} uses no modality; list multimodal models "
                              "(their CF counterparts are added automatically)")
        for setting in section.settings:
            kind, target = parse_setting(setting, modalities)
            rates = (0.0,) if kind == "natural" else section.rates
            for rate in rates:
                for strategy in section.strategies:
                    for seed in spec.seeds:
                        missing = MissingConfig(setting=kind, rate=float(rate), target=target, mask_seed=seed,
                                                natural=section.natural, strategy=strategy,
                                                grid=dict(section.grids.get(strategy, {})),
                                                graph_k=section.graph_k, common_items=common)
                        cells.append(_cell(spec, model, seed, missing, {
                            "role": "multimodal", "setting": setting, "rate": float(rate), "strategy": strategy}))
    if section.cf_counterparts:
        cells += _cf_cells(spec, section, modalities, common)
    return cells


def _cf_cells(spec: StudySpec, section: MissingSection, modalities: list[str], common: bool) -> list[Cell]:
    """CF counterparts: once per seed on the full data, and on each `dropped` catalogue."""
    out, seen = [], set()
    for model in spec.models:
        cf = MODELS.get(model).cf_counterpart
        if cf is None or cf in seen:
            continue
        seen.add(cf)
        for seed in spec.seeds:
            out.append(_cell(spec, cf, seed, MissingConfig(),
                             {"role": "cf", "setting": "none", "rate": 0.0, "strategy": "none"}))
        if not common:
            continue
        for setting in section.settings:
            kind, target = parse_setting(setting, modalities)
            for rate in ((0.0,) if kind == "natural" else section.rates):
                for seed in spec.seeds:
                    missing = MissingConfig(setting=kind, rate=float(rate), target=target, mask_seed=seed,
                                            natural=section.natural, strategy="dropped")
                    out.append(_cell(spec, cf, seed, missing, {"role": "cf", "setting": setting,
                                                               "rate": float(rate), "strategy": "dropped"}))
    return out


def _cell(spec: StudySpec, model: str, seed: int, missing: MissingConfig, labels: dict[str, Any]) -> Cell:
    canonical = MODELS.canonical(model)
    return Cell(data=spec.data, model=canonical, params=dict(spec.params.get(model, {})),
                grid=dict(spec.grids.get(model, {})), train=dict(spec.train), missing=missing, seed=seed,
                cutoffs=spec.cutoffs, labels={"model": canonical, **labels, "seed": seed})


def reference_cells(cells: list[Cell], section: MissingSection) -> list[Cell]:
    """The study's reference configuration (for its controls): the reference strategy under the first
    setting at its lowest rate, for every multimodal model and seed."""
    setting = section.settings[0]
    rate = 0.0 if setting == "natural" else float(min(section.rates))
    return [c for c in cells if c.labels.get("role") == "multimodal" and c.labels["setting"] == setting
            and c.labels["rate"] == rate and c.labels["strategy"] == section.reference]
