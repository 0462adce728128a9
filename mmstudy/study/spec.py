"""Study files (YAML) as typed specs: the shared part of every study plus its own section."""
from __future__ import annotations

import re
import typing
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping, Sequence

from ..config import check_keys, check_unique, check_value, from_mapping, load_yaml, located
from ..errors import ConfigError
from ..evaluation import METRICS, parse_metric
from ..evaluation.beyond import USER_METRICS
from ..registry import Registry
from .cell import DataConfig, MissingConfig, check_train
from .energy import EnergyConfig

TESTS = ("t", "wilcoxon", "permutation")
CORRECTIONS = ("holm", "fdr_bh", "bonferroni", "holm-sidak", "none")
# a study's name names its default results folder: a single path segment, nothing to escape
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def _per_user_metrics() -> Registry[None]:
    """The per-user metrics an analysis may compare: accuracy and per-user beyond-accuracy ones."""
    registry: Registry[None] = Registry("metric")
    for name in (*METRICS.names(), *USER_METRICS):
        registry.add(name, None)
    return registry


PER_USER_METRICS = _per_user_metrics()


def canonical_metric(name: str, where: str) -> str:
    """'recall@20' -> 'Recall@20' (the per-user column it names); unknown names and bad forms
    raise naming `where`, unknown names with a "did you mean" hint."""
    if not isinstance(name, str) or "@" not in name:
        raise ConfigError(f"{where}: metric {name!r} must look like 'Recall@20' (name@cutoff)")
    with located(f"{where} {name!r}"):
        metric, k = name.rsplit("@", 1)
        metric = PER_USER_METRICS.canonical(metric)
        if metric in METRICS:
            return "@".join(map(str, parse_metric(name)))
        if not k.isdigit() or int(k) < 1:
            raise ConfigError("the cutoff must be a positive integer")
        return f"{metric}@{int(k)}"


@dataclass(frozen=True)
class AnalysisConfig:
    """How results are compared: metric(s), paired test, multiple-testing correction.

    Metric names are made canonical ('recall@20' -> 'Recall@20'), so they name per-user columns.
    """

    metric: str = "Recall@20"
    metrics: tuple[str, ...] = ("Recall@20", "nDCG@20")
    test: str = "t"
    correction: str = "holm"
    alpha: float = 0.05
    min_seeds: int = 3
    reference: str | None = None
    min_effect: float | None = None  # smallest difference (metric units) the study cares about
    power: float = 0.8  # for minimum detectable effects and the seeds an effect needs

    def __post_init__(self) -> None:
        if self.test not in TESTS:
            raise ConfigError(f"analysis.test: unknown test {self.test!r}; expected one of {TESTS}")
        if self.correction not in CORRECTIONS:
            raise ConfigError(f"analysis.correction: unknown method {self.correction!r}; expected one of {CORRECTIONS}")
        if not 0 < self.alpha < 1:
            raise ConfigError(f"analysis.alpha must lie in (0, 1), got {self.alpha}")
        if not 0 < self.power < 1:
            raise ConfigError(f"analysis.power must lie in (0, 1), got {self.power}")
        if self.min_effect is not None and not (isinstance(self.min_effect, (int, float)) and self.min_effect > 0):
            raise ConfigError(f"analysis.min_effect must be a positive number (metric units), got {self.min_effect!r}")
        if self.min_seeds < 1:
            raise ConfigError(f"analysis.min_seeds must be at least 1, got {self.min_seeds}")
        object.__setattr__(self, "metric", canonical_metric(self.metric, "analysis.metric"))
        object.__setattr__(self, "metrics", tuple(canonical_metric(m, "analysis.metrics") for m in self.metrics))

    def check_cutoffs(self, cutoffs: tuple[int, ...]) -> None:
        """Every analysed metric must be at a cutoff the study's cells compute."""
        for key, names in (("metric", (self.metric,)), ("metrics", self.metrics)):
            for name in names:
                k = int(name.rsplit("@", 1)[1])
                if k not in cutoffs:
                    raise ConfigError(f"analysis.{key} {name!r}: the study computes cutoffs {list(cutoffs)} only; "
                                      f"add {k} to 'cutoffs' or use one of them")


@dataclass(frozen=True)
class ControlsConfig:
    """The `controls:` section: which controls run (both by default) and the A/A seed offset."""

    aa: bool = True
    noise: bool = True
    seed_offset: int = 1000

    def __post_init__(self) -> None:
        for key in ("aa", "noise"):
            if not isinstance(getattr(self, key), bool):
                raise ConfigError(f"controls.{key} must be true or false, got {getattr(self, key)!r}")
        if not isinstance(self.seed_offset, int) or isinstance(self.seed_offset, bool) or self.seed_offset < 1:
            raise ConfigError(f"controls.seed_offset must be a positive integer, got {self.seed_offset!r}")


@dataclass(frozen=True)
class StudySpec:
    """A declarative study: data, models (with fixed params and validation grids), training
    budget (`train`, with per-model changes in `train_by_model`, e.g. a learning rate chosen on
    validation), seeds, analysis plan, controls (`study.controls`), energy measurement, and a
    study-specific section (`section`)."""

    name: str
    question: str = ""
    data: DataConfig = field(default_factory=DataConfig)
    models: tuple[str, ...] = ("VBPR",)
    params: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    grids: Mapping[str, Mapping[str, tuple]] = field(default_factory=dict)
    train: Mapping[str, Any] = field(default_factory=dict)
    train_by_model: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    seeds: tuple[int, ...] = (0, 1, 2)
    cutoffs: tuple[int, ...] = (10, 20, 50)
    analysis: AnalysisConfig = field(default_factory=AnalysisConfig)
    controls: ControlsConfig = field(default_factory=ControlsConfig)
    natural_gaps: MissingConfig = field(default_factory=MissingConfig)  # handles the data's own gaps
    energy: EnergyConfig = field(default_factory=EnergyConfig)
    section: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not NAME.fullmatch(str(self.name)):
            raise ConfigError(f"name {self.name!r} must be a simple name (letters, digits, '.', '_', '-', "
                              "starting with a letter or digit): it names the results folder")
        for key in ("models", "seeds", "cutoffs"):
            check_unique(getattr(self, key), key)
        if min(self.cutoffs) < 1:
            raise ConfigError(f"cutoffs must be positive integers, got {list(self.cutoffs)}")
        if min(self.seeds, default=0) < 0:
            raise ConfigError(f"seeds must be non-negative integers (numpy refuses negative seeds), got "
                              f"{list(self.seeds)}")
        from ..data import check_dataset
        from ..models import MODELS
        check_dataset(self.data.name)
        for model in self.models:
            MODELS.get(model)
        for key in (*self.params, *self.grids):
            if key not in self.models:
                raise ConfigError(f"study {self.name!r}: params/grids name model {key!r}, "
                                  f"which is not in models {list(self.models)}")
        check_train(self.train)
        self._check_train_by_model()
        self.analysis.check_cutoffs(self.cutoffs)

    def _check_train_by_model(self) -> None:
        """Each entry names a study model or a CF counterpart one of them brings, by its canonical
        name, and gives a valid `train` once merged over the study's."""
        from ..models import MODELS
        trained = trained_models(self.models)
        for model, changes in self.train_by_model.items():
            where = f"train_by_model.{model}"
            MODELS.get(model)
            if model not in trained:
                raise ConfigError(f"{where}: model {model!r} is not trained by this study (its models and their "
                                  f"CF counterparts: {sorted(trained)})")
            check_train({**self.train, **changes}, where)  # the entry's keys and values, merged

    def model_settings(self, model: str) -> dict[str, Any]:
        """The `params`, `grid` and `train` of a cell training `model` (a name from `models`, or a CF
        counterpart): its entries in `params` and `grids`, and `train` with its `train_by_model` changes."""
        from ..models import MODELS
        changes = self.train_by_model.get(MODELS.canonical(model), {})
        return {"params": dict(self.params.get(model, {})), "grid": dict(self.grids.get(model, {})),
                "train": {**self.train, **changes}}


def natural_gaps_config(value: Any, where: str) -> MissingConfig:
    """How the data's own gaps (items without a modality) are filled where a study masks nothing: an
    imputer name (`zeros`, the default) or {strategy: ..., grid: {...}, graph_k: ...} (grid values
    chosen on validation like any imputer setting)."""
    from ..missing.imputers import IMPUTERS
    value = {} if value is None else {"strategy": value} if isinstance(value, str) else value
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where} must be an imputer name or a mapping, got {value!r}")
    check_keys(value, {"strategy", "params", "grid", "graph_k"}, where)
    gaps = from_mapping(MissingConfig, value, where)
    if gaps.strategy.lower() == "dropped":
        raise ConfigError(f"{where}: 'dropped' changes the catalogue; compare it in the missing-modality study "
                          "(missing.settings: [natural]) and fill natural gaps with an imputer here")
    return replace(gaps, strategy=IMPUTERS.canonical(gaps.strategy))


def trained_models(models: Sequence[str]) -> list[str]:
    """The canonical names of `models` and of the CF counterparts they bring, in that order."""
    from ..models import MODELS
    names = [MODELS.canonical(m) for m in models] + [MODELS.get(m).cf_counterpart for m in models]
    return list(dict.fromkeys(n for n in names if n))


def canonical_keys(by_model: Mapping[str, Any], where: str) -> dict[str, Any]:
    """`by_model` keyed by canonical model names (an unknown name: ConfigError with a suggestion)."""
    from ..models import MODELS
    out: dict[str, Any] = {}
    for model, value in by_model.items():
        with located(f"{where}.{model}"):
            name = MODELS.canonical(model)
        if name in out:
            raise ConfigError(f"{where} names model {name!r} twice")
        out[name] = value
    return out


def parse_spec(mapping: Mapping[str, Any], section: str, where: str) -> StudySpec:
    """Parse a study mapping whose study-specific keys live under `section`; every error names
    `where` (the study file) and the key."""
    with located(where):
        return _parse(dict(mapping), section)


def _parse(mapping: dict[str, Any], section: str) -> StudySpec:
    known = set(StudySpec.__dataclass_fields__) - {"section"} | {section}
    check_keys(mapping, known, "the study file")
    if "name" not in mapping:
        raise ConfigError("missing required key 'name'")
    hints = typing.get_type_hints(StudySpec)
    out = {k: v for k, v in mapping.items() if k != section}
    for key, value in out.items():
        check_value(value, hints[key], key)
    out["data"] = from_mapping(DataConfig, mapping.get("data"), "data")
    out["analysis"] = from_mapping(AnalysisConfig, mapping.get("analysis"), "analysis")
    out["controls"] = from_mapping(ControlsConfig, mapping.get("controls"), "controls")
    out["natural_gaps"] = natural_gaps_config(mapping.get("natural_gaps"), "natural_gaps")
    out["energy"] = from_mapping(EnergyConfig, mapping.get("energy"), "energy")
    for key in ("models", "seeds", "cutoffs"):
        if key in out:
            out[key] = tuple(out[key])
    out["train_by_model"] = canonical_keys(mapping.get("train_by_model") or {}, "train_by_model")
    body = mapping.get(section)
    if body is not None and not isinstance(body, Mapping):
        raise ConfigError(f"{section} must be a mapping (key: value), got {body!r}")
    return StudySpec(**out, section=dict(body or {}))


def load_spec(path: str | Path, section: str) -> StudySpec:
    return parse_spec(load_yaml(path), section, str(path))
