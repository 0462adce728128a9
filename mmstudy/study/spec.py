"""Study files (YAML) as typed specs: the shared part of every study plus its own section."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from ..config import check_keys, from_mapping, load_yaml
from ..errors import ConfigError
from .cell import DataConfig
from .energy import EnergyConfig

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

    def __post_init__(self) -> None:
        if self.test not in TESTS:
            raise ConfigError(f"analysis.test: unknown test {self.test!r}; expected one of {TESTS}")
        if self.correction not in CORRECTIONS:
            raise ConfigError(f"analysis.correction: unknown method {self.correction!r}; expected one of {CORRECTIONS}")
        if not 0 < self.alpha < 1:
            raise ConfigError(f"analysis.alpha must lie in (0, 1), got {self.alpha}")


@dataclass(frozen=True)
class StudySpec:
    """A declarative study: data, models (with fixed params and validation grids), training
    budget, seeds, analysis plan, energy measurement, and a study-specific section (`section`)."""

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
    energy: EnergyConfig = field(default_factory=EnergyConfig)
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
    out["energy"] = from_mapping(EnergyConfig, mapping.get("energy"), f"{where}: energy")
    for key in ("models", "seeds", "cutoffs"):
        if key in out:
            out[key] = tuple(out[key]) if isinstance(out[key], (list, tuple)) else (out[key],)
    return StudySpec(**out, section=dict(mapping.get(section) or {}))


def load_spec(path: str | Path, section: str) -> StudySpec:
    return parse_spec(load_yaml(path), section, str(path))
