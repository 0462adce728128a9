"""The fusion-point study's design: its `fusion:` section (see the package docstring), which backbone
can realise which variant, and the cells a study file expands to."""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field, replace
from typing import Any, Mapping

from ...config import from_mapping
from ...errors import ConfigError
from ...missing.imputers import resolve_strategy
from ...missing.masking import parse_setting
from ...models import MODELS
from ...schema.fusion import FusionConfig
from ...study.cell import Cell, DataConfig, MissingConfig
from ...study.late_fusion import component_plan
from ...study.spec import StudySpec
from ...study.workspace import Workspace


@dataclass(frozen=True)
class CrossSection:
    """Fusion x missing modality: mask `setting` at each rate, handle with `strategy`."""

    rates: tuple[float, ...] = (0.3, 0.6)
    setting: str = "single"
    strategy: str = "zeros"
    variants: tuple[str, ...] | None = None  # None: every variant
    grid: Mapping[str, tuple] = field(default_factory=dict)
    graph_k: int = 20

    def __post_init__(self) -> None:
        resolve_strategy(self.strategy)
        if self.strategy.lower() == "dropped":
            raise ConfigError("fusion.cross.strategy 'dropped' changes the catalogue per rate; compare it in the "
                              "missing-modality study and use an imputer here")
        if not self.rates or any(not 0 < float(r) < 1 for r in self.rates):
            raise ConfigError(f"fusion.cross.rates must be a non-empty list in (0, 1), got {self.rates}")


@dataclass(frozen=True)
class FusionSection:
    """The `fusion:` section of a study file (see the module docstring)."""

    variants: Mapping[str, Any] = field(default_factory=dict)  # mappings, parsed into FusionConfigs
    reference: str | None = None
    cross: Any = None  # a mapping, parsed into a CrossSection (None: no cross study)
    extra_datasets: tuple[Mapping[str, Any], ...] = ()

    def __post_init__(self) -> None:
        if not self.variants:
            raise ConfigError("fusion.variants: declare at least one variant (name: {point: ...})")
        configs = {name: FusionConfig.parse(cfg, f"fusion.variants.{name}") for name, cfg in self.variants.items()}
        if any(cfg is None for cfg in configs.values()):
            raise ConfigError("fusion.variants: every variant needs a non-empty block with a 'point'")
        object.__setattr__(self, "reference", known_variant(self.reference or next(iter(configs)), configs, "reference"))
        if self.cross is not None:
            cross = from_mapping(CrossSection, self.cross, "fusion.cross")
            for name in cross.variants or ():
                known_variant(name, configs, "cross.variants")
            object.__setattr__(self, "cross", cross)
        object.__setattr__(self, "variants", configs)

    @property
    def cross_variants(self) -> list[str]:
        if self.cross is None:
            return []
        return list(self.cross.variants or self.variants)


def known_variant(name: str, names, key: str) -> str:
    if name not in names:
        close = difflib.get_close_matches(str(name), list(names), n=1, cutoff=0.5)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ConfigError(f"fusion.{key}: unknown variant {name!r}.{hint} Variants: {list(names)}")
    return name


def variant_labels(cfg: FusionConfig) -> dict[str, str]:
    """The factors a variant is analysed by: fusion point, representation, operator."""
    if cfg.point == "early":
        return {"point": "early", "representation": "fused input", "operator": cfg.operator}
    if cfg.point == "late":
        method = f"normsum-{cfg.norm}" if cfg.method == "normsum" else "rrf"
        weights = "equal weights" if cfg.grid_step is None else f"weights on valid (step {cfg.grid_step:g})"
        return {"point": "late", "representation": "per-modality models", "operator": f"{method}, {weights}"}
    operator = f"attention ({cfg.attention})" if cfg.operator == "attention" else cfg.operator
    if cfg.align_weight > 0:
        operator += f" + InfoNCE {cfg.align_weight:g}"
    return {"point": "intermediate", "representation": cfg.representation, "operator": operator}


def check_backbone(model: str, name: str, cfg: FusionConfig, params: Mapping, modalities: list[str]) -> None:
    """Raise a ConfigError when `model` cannot realise variant `name`."""
    cls = MODELS.get(model)
    if cfg.point == "intermediate" and "representation" not in cls.defaults:
        raise ConfigError(f"variant {name!r} fuses inside the model, but {model!r} has no fusion parameters; "
                          "use a fusion backbone: MF-Fusion or LightGCN-Fusion")
    if cfg.point == "early" and not cls.multimodal:
        raise ConfigError(f"variant {name!r}: early fusion feeds content to the model, but {model!r} reads none")
    if cfg.point == "late":
        component_plan(model, dict(params), cfg.content_only, modalities)


def fusion_cells(spec: StudySpec, section: FusionSection,
                 modalities: Mapping[str, list[str]] | None = None) -> list[Cell]:
    """Expand dataset x model x variant x seed, plus the cross-study rates of the chosen variants.

    `modalities` maps each dataset config's name to its modality names (loaded when None)."""
    datasets = [spec.data, *(from_mapping(DataConfig, d, "fusion.extra_datasets") for d in section.extra_datasets)]
    names = _dataset_labels(datasets, modalities)
    cells: list[Cell] = []
    for data, (label, mods) in zip(datasets, names):
        for model in spec.models:
            for name, cfg in section.variants.items():
                check_backbone(model, name, cfg, spec.params.get(model, {}), mods)
                for seed in spec.seeds:
                    cells.append(_cell(spec, data, label, model, name, cfg, seed, spec.natural_gaps, "none", 0.0))
        if section.cross is None:
            continue
        kind, target = parse_setting(section.cross.setting, mods)
        for rate in section.cross.rates:
            for model in spec.models:
                for name in section.cross_variants:
                    for seed in spec.seeds:
                        missing = MissingConfig(setting=kind, rate=float(rate), target=target, mask_seed=seed,
                                                strategy=section.cross.strategy, grid=dict(section.cross.grid),
                                                graph_k=section.cross.graph_k)
                        cells.append(_cell(spec, data, label, model, name, section.variants[name], seed, missing,
                                           section.cross.setting, float(rate)))
    return cells


def _dataset_labels(datasets: list[DataConfig], modalities) -> list[tuple[str, list[str]]]:
    """(label, modality names) per dataset config; labels must be distinct (they are CD blocks)."""
    out, ws = [], Workspace()
    for data in datasets:
        if modalities is not None and data.name in modalities:
            out.append((data.name, list(modalities[data.name])))
        else:  # names only: skip any feature extraction (it changes features, not modalities)
            dataset = ws.dataset(replace(data, features={}) if getattr(data, "features", None) else data)
            out.append((dataset.name, list(dataset.modalities)))
    labels = [label for label, _ in out]
    if len(set(labels)) != len(labels):
        raise ConfigError(f"fusion.extra_datasets: dataset names {labels} repeat; give each a distinct name "
                          "(e.g. options: {name: synthetic-b} for another synthetic draw)")
    return out


def _cell(spec: StudySpec, data: DataConfig, dataset: str, model: str, variant: str, cfg: FusionConfig, seed: int,
          missing: MissingConfig, setting: str, rate: float) -> Cell:
    canonical = MODELS.canonical(model)
    labels = {"dataset": dataset, "model": canonical, "variant": variant, **variant_labels(cfg),
              "setting": setting, "rate": rate, "seed": seed}
    return Cell(data=data, model=canonical, **spec.model_settings(model), missing=missing, seed=seed,
                cutoffs=spec.cutoffs, labels=labels, fusion=cfg.to_mapping())


def reference_cells(cells: list[Cell], section: FusionSection) -> list[Cell]:
    """The study's reference configuration (for its controls): the reference variant, unmasked, on
    the first dataset, every backbone and seed."""
    first = cells[0].labels["dataset"] if cells else None
    return [c for c in cells if c.labels["variant"] == section.reference and c.labels["setting"] == "none"
            and c.labels["dataset"] == first]
