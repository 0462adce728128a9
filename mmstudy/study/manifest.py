"""The cell manifest (`cells/<fingerprint>/result.json`) as typed, versioned records.

A manifest says what ran (the canonical cell config, seeds, data, split and mask checksums), how it
was selected (every validation trial, the chosen settings), what the one test evaluation gave, and
where and how fast it ran. Readers use attributes (`manifest.selection.best_valid`), never string
keys. Schema versions: 1 (folders written before typing; no `schema_version` key) and 2 (this
layout plus `schema_version`; the optional `energy` and `training` blocks came later within
version 2: folders without them read as before, older readers carry them in `extra`). Every record keeps the keys it does not model in `extra`, so
`to_dict(from_dict(d)) == d` for both versions: old folders load, report and verify unchanged,
and keys a later version adds are carried along rather than dropped.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any, Mapping

from ..errors import DataError
from .cell import Cell

SCHEMA_VERSION = 2


def nested(record: type, *, many: str = "", optional: bool = False, default: Any = None) -> Any:
    """A field holding a record (`many="list"` or `"map"`: a list or a {name: record} mapping of them)."""
    metadata = {"record": record, "many": many, "optional": optional}
    if default is None and not optional:
        return field(default_factory={"list": list, "map": dict}.get(many, record), metadata=metadata)
    return field(default=default, metadata=metadata)


def optional(default: Any = None) -> Any:
    """A field whose key is absent from manifests that have nothing to say (None: not written)."""
    return field(default=default, metadata={"optional": True})


@dataclass(frozen=True)
class Record:
    """Dataclass fields <-> JSON keys; keys without a field are kept, in order, in `extra`."""

    extra: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, mapping: Mapping[str, Any] | None) -> "Record":
        rest = dict(mapping or {})
        values = {f.name: _decode(f, rest.pop(f.name)) for f in fields(cls) if f.name != "extra" and f.name in rest}
        return cls(**values, extra=rest)

    def to_dict(self) -> dict[str, Any]:
        out = dict(self.extra)
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "extra" or (value is None and f.metadata.get("optional")):
                continue
            out[f.name] = _encode(f, value)
        return out


def _decode(f, value: Any) -> Any:
    record, many = f.metadata.get("record"), f.metadata.get("many")
    if record is None or value is None:
        return value
    if many == "list":
        return [record.from_dict(v) for v in value]
    if many == "map":
        return {k: record.from_dict(v) for k, v in value.items()}
    return record.from_dict(value)


def _encode(f, value: Any) -> Any:
    many = f.metadata.get("many")
    if f.metadata.get("record") is None:
        return value.to_dict() if isinstance(value, Cell) else value
    if many == "list":
        return [v.to_dict() for v in value]
    if many == "map":
        return {k: v.to_dict() for k, v in value.items()}
    return value.to_dict()


@dataclass(frozen=True)
class Seeds(Record):
    """The seeds of the training run, the split and the missing-modality mask."""

    training: int = 0
    split: int = 0
    mask: int = 0


@dataclass(frozen=True)
class DatasetRecord(Record):
    """The data as loaded: name, content fingerprint, per-modality fingerprints, loader metadata."""

    name: str = ""
    fingerprint: str = ""
    modalities: dict = field(default_factory=dict)
    meta: dict = field(default_factory=dict)
    items: int | None = optional()  # catalogue size as loaded


@dataclass(frozen=True)
class SplitRecord(Record):
    """The split the cell trained on (`Split.summary()`) plus the checksum of its train part."""

    method: str = ""
    seed: int | None = None
    checksum: str = ""
    train_checksum: str | None = None
    train_interactions: int = 0
    valid_interactions: int = 0
    test_interactions: int = 0
    train_users: int = 0
    valid_users: int = 0
    test_users: int = 0
    cold_users_valid: int = 0
    cold_users_test: int = 0


@dataclass(frozen=True)
class GraphRecord(Record):
    """The item co-interaction graph an imputer used: top-k and what it was built from."""

    k: int = 0
    isolated_items: int = 0
    built_from: str = ""
    train_checksum: str | None = None


@dataclass(frozen=True)
class WhoIsMissing(Record):
    """A mask over the training-popularity deciles (`missing.profile`; index 0 = the most popular
    tenth of the catalogue): items per decile and, per modality, its synthetic draw's candidates and
    masked items and the items without it in the data."""

    items: list = field(default_factory=list)
    candidates: dict = field(default_factory=dict)
    masked: dict = field(default_factory=dict)
    natural: dict = field(default_factory=dict)


@dataclass(frozen=True)
class MissingRecord(Record):
    """How modalities were masked and handled (empty for a model that reads no modality)."""

    setting: str | None = optional()
    rate: float | None = optional()
    strategy: str | None = optional()
    mask_checksum: str | None = optional()
    mechanism: str | None = optional()  # how the synthetic mask was drawn (absent: before mechanisms, mcar)
    strength: float | None = optional()
    who_is_missing: WhoIsMissing | None = nested(WhoIsMissing, optional=True)
    natural_missing: dict | None = optional()  # items without the modality before any masking
    missing_items: dict | None = optional()  # ... and after masking (the rows the strategy handled)
    dropped: dict | None = optional()  # what `dropped` removed (items, interactions, users)
    graph: GraphRecord | None = nested(GraphRecord, optional=True)
    homophily: dict | None = optional()
    imputation: dict | None = optional()  # per modality: imputer, params, counts (learned: fitted_rows + SHA-256)
    imputer_params: dict | None = optional()
    imputer_selection: dict | None = optional()  # how the imputer grid was decided (reconstruction scores)
    expected_fit_rows: dict | None = optional()  # learned imputers: {modality: {rows, sha256}} from mask + train
    quality: dict | None = optional()  # {modality: {rows, cosine, rse}} of synthetically masked rows vs truth
    content_dropout: float | None = optional()  # modality_dropout: share of content rows dropped per epoch
    note: str | None = optional()

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        if self.setting is not None:  # a masked cell always states its mask, even "no mask" (null)
            out.setdefault("mask_checksum", None)
        return out


@dataclass(frozen=True)
class FeatureRecord(Record):
    """One modality's features as the model read them."""

    fingerprint: str = ""
    dim: int = 0
    source: str | None = None
    extractor: Any = None


@dataclass(frozen=True)
class Trial(Record):
    """One validation trial: model and imputer settings (late fusion: weights) and its score."""

    params: dict = field(default_factory=dict)
    imputer_params: dict = field(default_factory=dict)
    valid: float = float("nan")
    best_epoch: int | None = optional()
    fusion_weights: dict | None = optional()


@dataclass(frozen=True)
class Selection(Record):
    """Selection on validation: every trial and the chosen settings (`on` is always 'valid')."""

    on: str = "valid"
    metric: str = ""
    trials: list = nested(Trial, many="list")
    selected_params: dict = field(default_factory=dict)
    selected_imputer_params: dict = field(default_factory=dict)
    best_epoch: Any = None  # late fusion: {component: epoch}
    best_valid: float = float("nan")
    tuning_budget: int = 0
    selected_fusion_weights: dict | None = optional()


@dataclass(frozen=True)
class Evaluation(Record):
    """The one evaluation on the test part: protocol, users and mean metrics."""

    users: int = 0
    protocol: str = ""
    masked_at_test: list = field(default_factory=list)
    list_metrics: dict = field(default_factory=dict)
    mean: dict = field(default_factory=dict)
    evaluations: int = 0


@dataclass(frozen=True)
class Timing(Record):
    """Wall times of the cell, of training (with validation) and per epoch / validation pass."""

    total_seconds: float = 0.0
    train_seconds: float = 0.0
    mean_epoch_seconds: float = 0.0
    mean_valid_seconds: float = 0.0
    epochs_run: int = 0


@dataclass(frozen=True)
class Environment(Record):
    """Package versions, git commit and hardware the cell ran on."""

    packages: dict = field(default_factory=dict)
    git_commit: str | None = None
    hardware: dict = field(default_factory=dict)
    torch_deterministic: bool | None = optional()


@dataclass(frozen=True)
class PhaseEnergy(Record):
    """Energy of one phase of a cell: wall seconds, kWh (with its CPU, GPU and RAM parts), kg CO2eq."""

    seconds: float = 0.0
    kwh: float = 0.0
    co2_kg: float = 0.0
    cpu_kwh: float = 0.0
    gpu_kwh: float = 0.0
    ram_kwh: float = 0.0


@dataclass(frozen=True)
class EnergyTracker(Record):
    """What measured a cell's energy: the tool, its version, how it measured (`mode`, e.g. RAPL
    counters or a TDP estimate), process or machine scope, and the grid whose carbon intensity
    converted kWh to CO2 (`country`, ISO 3166-1 alpha-3; None: world average)."""

    name: str = ""
    version: str = ""
    mode: str = ""
    tracking_mode: str = ""
    country: str | None = None
    hardware: list = field(default_factory=list)


@dataclass(frozen=True)
class EnergyRecord(Record):
    """A cell's energy and carbon, per phase (measured by `study.energy`). `status` is `recorded`, `off`
    (turned off) or `unavailable` (with the `reason`: tracker not installed or failed). The numbers
    are measurements, recorded facts: nothing recomputes them."""

    status: str | None = optional()
    reason: str | None = optional()
    seconds: float | None = optional()
    kwh: float | None = optional()
    co2_kg: float | None = optional()
    phases: dict | None = nested(PhaseEnergy, many="map", optional=True)
    tracker: EnergyTracker | None = nested(EnergyTracker, optional=True)

    @property
    def recorded(self) -> bool:
        return self.status == "recorded"


@dataclass(frozen=True)
class TrainingRecord(Record):
    """How a cell that asks for `train.seed_batch` was trained: `mode` `seed_batch` (in one batched
    model with the cells of the other `seeds` of its configuration; the batch's shared wall time and
    energy are divided evenly among its cells) or `separate` (alone, and the `reason`)."""

    mode: str = ""
    seeds: list = field(default_factory=list)  # the training seeds of the batch, this cell's included
    shared_seconds: float | None = optional()  # the batch's wall time for those phases, all members together
    reason: str | None = optional()  # why a cell asking for seed_batch was trained separately


@dataclass(frozen=True)
class LateFusionRecord(Record):
    """A late-fusion cell's components (each trained and selected on validation)."""

    point: str = "late"
    components: list = field(default_factory=list)
    note: str = ""


@dataclass(frozen=True)
class CellManifest(Record):
    """Everything a reviewer needs to trust, recompute or re-run one cell."""

    schema_version: int = 1
    fingerprint: str = ""
    cell: Cell | None = None
    model: str = ""
    labels: dict = field(default_factory=dict)
    cf_counterpart: str | None = None
    seeds: Seeds = nested(Seeds)
    dataset: DatasetRecord = nested(DatasetRecord)
    split: SplitRecord = nested(SplitRecord)
    evaluated_split_checksum: str | None = None
    missing: MissingRecord = nested(MissingRecord)
    features: dict = nested(FeatureRecord, many="map")
    selection: Selection = nested(Selection)
    test: Evaluation = nested(Evaluation)
    timing: Timing = nested(Timing)
    n_parameters: int = 0
    environment: Environment = nested(Environment)
    fusion: LateFusionRecord | None = nested(LateFusionRecord, optional=True)
    serving: dict | None = optional()  # the serving phase: the stored training that served the cell
    energy: EnergyRecord | None = nested(EnergyRecord, optional=True)
    training: TrainingRecord | None = nested(TrainingRecord, optional=True)  # cells asking for seed_batch
    files: dict = field(default_factory=dict)

    @classmethod
    def from_dict(cls, mapping: Mapping[str, Any] | None, where: str = "manifest") -> "CellManifest":
        """Read a version-1 or -2 manifest (a newer version is a DataError). Absent blocks read as
        empty records, so the audit fails a damaged manifest's checks instead of crashing."""
        mapping = dict(mapping or {})
        version = mapping.get("schema_version", 1)
        if not isinstance(version, int) or not 1 <= version <= SCHEMA_VERSION:
            raise DataError(f"{where}: manifest schema version {version!r} is not one this mmstudy reads "
                            f"(1-{SCHEMA_VERSION}); upgrade mmstudy")
        if "cell" in mapping:
            mapping["cell"] = Cell.from_dict(mapping["cell"], where=f"{where}: cell")
        manifest = super().from_dict({k: v for k, v in mapping.items() if k != "schema_version"})
        return replace(manifest, schema_version=version)

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        if self.schema_version == 1:  # written before versioning: the key never existed
            del out["schema_version"]
        return out

    @property
    def is_dropped(self) -> bool:
        """True for a cell of the `dropped` strategy (it trains on a smaller catalogue)."""
        return str(self.missing.strategy or "").lower() == "dropped"



@dataclass(frozen=True)
class StudyManifest(Record):
    """`study.json`: the study's kind and spec, its cells in order with their labels, the hash chain
    over their fingerprints, where it ran and what finished."""

    kind: str = ""
    spec: dict = field(default_factory=dict)
    cells: list = field(default_factory=list)  # [{"fingerprint": ..., "labels": {...}}] in study order
    chain: str = ""
    device: str = "cpu"
    run: dict = field(default_factory=dict)
    summary: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return str(self.spec.get("name", ""))

    @property
    def question(self) -> str:
        return str(self.spec.get("question", ""))

    @property
    def section(self) -> dict:
        """The study kind's own section of the study file, as recorded."""
        return dict(self.spec.get("section") or {})

    @property
    def failed(self) -> dict[str, str]:
        """{fingerprint: first line of the error} of the cells that failed."""
        return dict(self.summary.get("failed") or {})
