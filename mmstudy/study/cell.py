"""One cell of a study: a complete, fingerprinted run configuration."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Mapping

from ..config import as_plain, check_keys, from_mapping
from ..errors import ConfigError
from ..hashing import fingerprint
from ..missing.mechanisms import check_mechanism, check_strength, strength_value

SPLIT_METHODS = ("auto", "fixed", "random", "temporal")
MASK_SETTINGS = ("none", "natural", "single", "same", "independent")
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
    mechanism: str = "mcar"
    strength: float = 0.0

    def __post_init__(self) -> None:
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
        mapping = dict(mapping)
        check_keys(mapping, {f for f in cls.__dataclass_fields__}, where)
        if "data" in mapping:
            mapping["data"] = from_mapping(DataConfig, mapping["data"], f"{where}.data")
        if "missing" in mapping:
            mapping["missing"] = from_mapping(MissingConfig, mapping["missing"], f"{where}.missing")
        if "cutoffs" in mapping:
            mapping["cutoffs"] = tuple(int(c) for c in mapping["cutoffs"])
        return cls(**mapping)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able form; no `control` key for an ordinary cell and no missing.mechanism or
        missing.strength at their defaults (as before controls and mechanisms existed)."""
        plain = as_plain(self)
        if not plain["control"]:
            del plain["control"]
        for key, default in (("mechanism", "mcar"), ("strength", 0.0)):
            if plain["missing"][key] == default:
                del plain["missing"][key]
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
