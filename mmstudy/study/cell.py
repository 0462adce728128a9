"""One cell of a study: a complete, fingerprinted run configuration."""
from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field, replace
from typing import Any, Mapping

from ..config import as_plain, check_keys, check_value, from_mapping
from ..errors import ConfigError
from ..features.apply import parse_features
from ..hashing import fingerprint
from ..missing.imputers import resolve_strategy
from ..missing.mechanisms import check_mechanism, check_strength, strength_value
from ..registry import Registry
from ..training import TrainConfig

SPLIT_METHODS = ("auto", "fixed", "random", "temporal")
# training settings a cell takes from elsewhere: its own seed, and the device it runs on
NOT_TRAIN_KEYS = {"seed": "the cell's seed ('seeds' in a study file, --set seed=N for `run`)",
                  "device": "--device"}
MASK_SETTINGS = ("none", "natural", "single", "same", "independent")
PHASES = Registry("missingness phase")
for _phase in ("train_and_test", "serving", "new_items"):
    PHASES.add(_phase, _phase)
# Fields added after results folders existed: left out of a cell's plain form (and so of its
# fingerprint) while they hold their defaults, so every earlier cell keeps its fingerprint.
LATER_DEFAULTS = {("control",): "", ("missing", "phase"): "train_and_test", ("missing", "cold_share"): 0.0,
                  ("missing", "select"): "retrain", ("missing", "mechanism"): "mcar", ("missing", "strength"): 0.0,
                  ("missing", "segment_views"): False, ("train", "seed_batch"): False}
IMPUTER_SELECTION = ("retrain", "reconstruction")
CELL_CONTROLS = ("", "noise")


@dataclass(frozen=True)
class DataConfig:
    """Which dataset, which modalities, how their features are made, and how to split it."""

    name: str = "synthetic"
    options: Mapping[str, Any] = field(default_factory=dict)
    modalities: tuple[str, ...] | None = None
    split: str = "auto"  # auto = the source's fixed split if it has one, else random
    ratios: tuple[float, float, float] = (0.8, 0.1, 0.1)
    split_seed: int = 0
    # {modality: feature spec} extracted from raw content (mmstudy.features.apply); {} = as shipped
    features: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.split not in SPLIT_METHODS:
            raise ConfigError(f"data.split: unknown method {self.split!r}; expected one of {SPLIT_METHODS}")
        if len(self.ratios) != 3 or abs(sum(self.ratios) - 1) > 1e-6 or min(self.ratios) < 0:
            raise ConfigError(f"data.ratios must be three non-negative shares summing to 1, got {self.ratios}")
        parse_features(self.features)  # unknown presets and malformed specs: before any cell runs


@dataclass(frozen=True)
class MissingConfig:
    """How modalities are masked and how missing rows are handled (a strategy).

    `setting`: none | natural (only the data's own missingness) | single (mask `target`) |
    same (every modality on the same items) | independent (each modality on its own draw).
    `strategy`: `dropped` or an imputer name. `grid` lists imputer hyper-parameter values to
    choose from on the validation metric; `graph_k` is the co-interaction graph's top-k.
    `mechanism` (mcar | popularity | content) and `strength` (0-10) choose which items the
    synthetic mask takes first (`missing.mechanisms`); at their defaults (mcar, 0) they are left out
    of `Cell.to_dict()` and the fingerprint, so cells written before mechanisms keep theirs.
    """

    setting: str = "none"
    rate: float = 0.0
    target: str | None = None
    mask_seed: int = 0
    natural: bool = True
    strategy: str = "zeros"
    params: Mapping[str, Any] = field(default_factory=dict)
    grid: Mapping[str, tuple] = field(default_factory=dict)
    graph_k: int = 100
    common_items: bool = False  # also score on the items a `dropped` run would keep
    segment_views: bool = False  # unmasked cells too store the who-pays views (a study's complete-data point)
    phase: str = "train_and_test"  # when content is missing: train_and_test | serving | new_items
    cold_share: float = 0.0  # new_items: the share of items held out of training entirely
    select: str = "retrain"  # imputer grid: retrain per setting (validation) | reconstruction (no retraining)
    mechanism: str = "mcar"  # who loses content: mcar | popularity | content (missing.mechanisms)
    strength: float = 0.0  # how strongly the mechanism favours its items (0: the mcar order)

    def __post_init__(self) -> None:
        object.__setattr__(self, "phase", PHASES.canonical(self.phase))
        if self.select not in IMPUTER_SELECTION:
            raise ConfigError(f"missing.select: unknown value {self.select!r}; expected one of {IMPUTER_SELECTION}")
        if (self.phase == "new_items") != (0 < self.cold_share < 1):
            raise ConfigError(f"missing.cold_share must lie in (0, 1) for phase 'new_items' and be 0 otherwise, "
                              f"got {self.cold_share} for phase {self.phase!r}")
        if self.setting not in MASK_SETTINGS:
            raise ConfigError(f"missing.setting: unknown setting {self.setting!r}; expected one of {MASK_SETTINGS}")
        object.__setattr__(self, "mechanism", check_mechanism(self.mechanism, "missing.mechanism"))
        strength = strength_value(self.strength, "missing.strength")  # a float: 2 and 2.0 fingerprint alike
        if self.setting in ("none", "natural") and (self.mechanism, strength) != ("mcar", 0.0):
            raise ConfigError(f"missing: setting {self.setting!r} draws no synthetic mask, so it takes no mechanism "
                              f"or strength (got {self.mechanism!r}, strength {strength:g})")
        object.__setattr__(self, "strength", check_strength(self.mechanism, strength, "missing.strength"))
        if self.setting in ("single", "same", "independent") and not 0 < self.rate < 1:
            raise ConfigError(f"missing.rate must lie in (0, 1) for setting {self.setting!r}, got {self.rate}")
        if self.graph_k < 1:
            raise ConfigError(f"missing.graph_k must be >= 1, got {self.graph_k}")
        resolve_strategy(self.strategy)  # unknown names raise with "did you mean" suggestions


def check_train(train: Any, where: str = "train") -> None:
    """Refuse a cell's or study's `train` mapping unless every key is a training setting
    (`TrainConfig`) of the right type and range; the seed and device come from elsewhere."""
    if not isinstance(train, Mapping):
        raise ConfigError(f"{where} must be a mapping (key: value), got {train!r}")
    for key, source in NOT_TRAIN_KEYS.items():
        if key in train:
            raise ConfigError(f"{where}.{key} cannot be set here: it is {source}")
    settable = {f.name for f in dataclasses.fields(TrainConfig)} - set(NOT_TRAIN_KEYS)
    check_keys(train, settable, where)  # listing only the keys a study may set
    TrainConfig.from_dict(train, where)


@dataclass(frozen=True)
class Cell:
    """Everything that determines one run; its fingerprint names its results."""

    data: DataConfig = field(default_factory=DataConfig)
    model: str = "BPR-MF"
    params: Mapping[str, Any] = field(default_factory=dict)
    grid: Mapping[str, tuple] = field(default_factory=dict)
    train: Mapping[str, Any] = field(default_factory=dict)
    missing: MissingConfig = field(default_factory=MissingConfig)
    seed: int = 0
    cutoffs: tuple[int, ...] = (10, 20, 50)
    labels: Mapping[str, Any] = field(default_factory=dict)  # study factors, for analysis only
    fusion: Mapping[str, Any] = field(default_factory=dict)  # schema.fusion.FusionConfig keys; {} = none
    control: str = ""  # "" or "noise": every modality replaced by Gaussian noise (study.controls)

    def __post_init__(self) -> None:
        if self.control not in CELL_CONTROLS:
            raise ConfigError(f"cell.control: unknown control {self.control!r}; expected one of {CELL_CONTROLS}")

    @classmethod
    def from_dict(cls, mapping: Mapping[str, Any], where: str = "cell") -> "Cell":
        """A cell from a plain mapping; unknown keys, values of the wrong type and impossible
        training settings raise ConfigError naming `where` and the key."""
        if not isinstance(mapping, Mapping):
            raise ConfigError(f"{where} must be a mapping (key: value), got {mapping!r}")
        mapping = dict(mapping)
        check_keys(mapping, {f for f in cls.__dataclass_fields__}, where)
        hints = typing.get_type_hints(cls)
        for key, value in mapping.items():
            check_value(value, hints[key], f"{where}.{key}")
        if "data" in mapping:
            mapping["data"] = from_mapping(DataConfig, mapping["data"], f"{where}.data")
        if "missing" in mapping:
            mapping["missing"] = from_mapping(MissingConfig, mapping["missing"], f"{where}.missing")
        if "cutoffs" in mapping:
            mapping["cutoffs"] = tuple(mapping["cutoffs"])
            if min(mapping["cutoffs"], default=0) < 1:
                raise ConfigError(f"{where}.cutoffs must be positive integers, got {list(mapping['cutoffs'])}")
        if mapping.get("seed", 0) < 0:
            raise ConfigError(f"{where}.seed must be a non-negative integer (numpy refuses negative seeds), got "
                              f"{mapping['seed']}")
        check_train(mapping.get("train", {}))
        return cls(**mapping)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able form; later fields at their defaults are left out (`LATER_DEFAULTS`)."""
        plain = as_plain(self)
        for path, default in LATER_DEFAULTS.items():
            node = plain
            for key in path[:-1]:
                node = node[key]
            if node.get(path[-1]) == default:
                del node[path[-1]]
        return plain

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the canonical config; labels are excluded (they only name factors), and so are
        an empty fusion block, no control and empty data.features (cells without them keep their
        fingerprints)."""
        plain = self.to_dict()
        plain.pop("labels")
        if not plain["fusion"]:
            plain.pop("fusion")
        if not plain["data"]["features"]:
            plain["data"].pop("features")
        return fingerprint(plain)

    def with_(self, **changes: Any) -> "Cell":
        return replace(self, **changes)
