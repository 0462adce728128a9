"""Study files (YAML) as typed specs: the shared part of every study plus its own section."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

from ..config import check_keys, from_mapping, load_yaml
from ..errors import ConfigError
from .cell import DataConfig, MissingConfig

TESTS = ("t", "wilcoxon", "permutation")
CORRECTIONS = ("holm", "fdr_bh", "bonferroni", "holm-sidak", "none")


@dataclass(frozen=True)
class AnalysisConfig:
    """How results are compared: metric(s), paired test, multiple-testing correction."""

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
    budget, seeds, analysis plan, controls (`study.controls`), and a study-specific section
    (`section`)."""

    name: str
    question: str = ""
    data: DataConfig = field(default_factory=DataConfig)
    models: tuple[str, ...] = ("VBPR",)
    params: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    grids: Mapping[str, Mapping[str, tuple]] = field(default_factory=dict)
    train: Mapping[str, Any] = field(default_factory=dict)
    seeds: tuple[int, ...] = (0, 1, 2)
    cutoffs: tuple[int, ...] = (10, 20, 50)
    analysis: AnalysisConfig = field(default_factory=AnalysisConfig)
    controls: ControlsConfig = field(default_factory=ControlsConfig)
    natural_gaps: MissingConfig = field(default_factory=MissingConfig)  # handles the data's own gaps
    section: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.models:
            raise ConfigError(f"study {self.name!r}: 'models' is empty")
        if not self.seeds:
            raise ConfigError(f"study {self.name!r}: 'seeds' is empty")
        from ..data import check_dataset
        from ..models import MODELS
        check_dataset(self.data.name)
        for model in self.models:
            MODELS.get(model)
        for key in (*self.params, *self.grids):
            if key not in self.models:
                raise ConfigError(f"study {self.name!r}: params/grids name model {key!r}, "
                                  f"which is not in models {list(self.models)}")


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


def parse_spec(mapping: Mapping[str, Any], section: str, where: str) -> StudySpec:
    """Parse a study mapping whose study-specific keys live under `section`."""
    mapping = dict(mapping)
    known = set(StudySpec.__dataclass_fields__) - {"section"} | {section}
    check_keys(mapping, known, where)
    if "name" not in mapping:
        raise ConfigError(f"{where}: missing required key 'name'")
    out = {k: v for k, v in mapping.items() if k != section}
    out["data"] = from_mapping(DataConfig, mapping.get("data"), f"{where}: data")
    out["analysis"] = from_mapping(AnalysisConfig, mapping.get("analysis"), f"{where}: analysis")
    out["controls"] = from_mapping(ControlsConfig, mapping.get("controls"), f"{where}: controls")
    out["natural_gaps"] = natural_gaps_config(mapping.get("natural_gaps"), f"{where}: natural_gaps")
    for key in ("models", "seeds", "cutoffs"):
        if key in out:
            out[key] = tuple(out[key]) if isinstance(out[key], (list, tuple)) else (out[key],)
    return StudySpec(**out, section=dict(mapping.get(section) or {}))


def load_spec(path: str | Path, section: str) -> StudySpec:
    return parse_spec(load_yaml(path), section, str(path))
