"""Turn a data config's `features` spec into extracted modalities, through the feature store.

One spec per modality name, e.g. ``{"image": {"preset": "efficientnet-lite0", "layer": "logits"},
"text": "minilm-l6", "audio": {"precomputed": "vggish"}}``:

- ``{"preset": name, **overrides}``: a zoo preset (`mmstudy.features.zoo`) with parameter overrides
  (layer, pooling, max_length, preprocessing, ... as the preset's extractor takes them);
- ``{"backend": name, **params}``: an extractor backend (`EXTRACTORS`) built from its parameters;
- ``{"precomputed": modality}``: the features the dataset ships for that modality (the same one,
  or another of the same kind, e.g. Last.fm's "vggish" as the audio modality);
- ``{"file": path}``: a feature .npy (relative to the dataset folder), e.g. one `python -m mmstudy
  data extract` wrote: rows are matched to the items by the ids its provenance sidecar lists
  (without a sidecar, by position) and the sidecar's extractor record is kept; the modality may
  be a new one;
- a string: a preset name, or "precomputed" (the modality's own shipped features).

``batch_size`` (preset/backend specs, default 32) sets the extraction batch size: it changes
throughput only, so it is not part of the feature-store key. Extracted modalities carry a compact
record in ``info["extractor"]`` (spec, backend, model, layer, preprocessing, weights SHA-256, dim,
timings, store entry), which cell manifests copy; synthetic images are rendered on demand.
"""
from __future__ import annotations

import difflib
import inspect
import re
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

from ..data.dataset import Dataset
from ..data.modality import Modality
from ..data.sources import feature_modality
from ..errors import ConfigError, DataError
from ..hashing import fingerprint
from .base import EXTRACTORS, Extractor, extract_modality, raw_available
from .store import FeatureStore
from .zoo import PRESETS, resolve_preset

SOURCES = ("preset", "backend", "precomputed", "file")
PRECOMPUTED, FILE = "precomputed", "file"
_BUILT: dict[str, Extractor] = {}  # one loaded model per spec and process (models are large)
_EXTRACTED: dict[str, Modality] = {}  # without a store: each feature set extracted once per process


@dataclass(frozen=True)
class FeatureSpec:
    """How one modality's features are made: `source` (preset | backend | precomputed) and `name`."""

    source: str
    name: str
    params: Mapping[str, Any] = field(default_factory=dict)
    batch_size: int = 32

    @classmethod
    def parse(cls, value: Any, where: str) -> "FeatureSpec":
        if isinstance(value, str):
            value = {PRECOMPUTED: ""} if value == PRECOMPUTED else {"preset": value}
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}: expected a preset name or a mapping with one of {SOURCES}, got {value!r}")
        params = dict(value)
        sources = [s for s in SOURCES if s in params]
        if len(sources) != 1:
            raise ConfigError(f"{where}: give exactly one of {SOURCES} (got {sources or 'none'} in {sorted(params)})")
        source = sources[0]
        name = str(params.pop(source) or "")
        batch_size = params.pop("batch_size", 32)
        if source in (PRECOMPUTED, FILE) and params:
            raise ConfigError(f"{where}: a {source} spec takes no parameters, got {sorted(params)}")
        if source == FILE and not name:
            raise ConfigError(f"{where}: a file spec names a feature .npy file, got {value[FILE]!r}")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ConfigError(f"{where}: batch_size must be a positive integer, got {batch_size!r}")
        if source == "preset":
            name = PRESETS.canonical(name)  # unknown names raise with "did you mean"
        elif source == "backend":
            name = EXTRACTORS.canonical(name)
        return cls(source, name, params, batch_size)

    def to_dict(self) -> dict[str, Any]:
        """The canonical mapping form (what cell configs store and fingerprint)."""
        out = {self.source: self.name, **self.params}
        return out if self.batch_size == 32 else {**out, "batch_size": self.batch_size}

    def build(self) -> Extractor:
        """The extractor (weights checked), shared by every equal spec in this process."""
        key = fingerprint({"source": self.source, "name": self.name, "params": dict(self.params)})
        if key not in _BUILT:
            try:
                _BUILT[key] = (resolve_preset(self.name, **self.params) if self.source == "preset"
                               else EXTRACTORS.get(self.name)(**self.params))
            except TypeError as exc:  # an override the extractor does not take
                raise ConfigError(f"{self.source} {self.name!r} rejects parameters {dict(self.params)}: "
                                  f"{exc}{parameter_hint(exc)}") from None
        return _BUILT[key]


def parameter_hint(exc: TypeError) -> str:
    """". Did you mean 'pooling'? Parameters: ..." for an extractor class's unexpected keyword
    argument (empty when the error is another one)."""
    match = re.search(r"(\w+)\.__init__\(\) got an unexpected keyword argument '(\w+)'", str(exc))
    classes = {cls.__name__: cls for cls in _subclasses(Extractor)}
    if match is None or match.group(1) not in classes:
        return ""
    known = [name for name, p in inspect.signature(classes[match.group(1)]).parameters.items()
             if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    close = difflib.get_close_matches(match.group(2), known, n=1)
    return (f". Did you mean {close[0]!r}?" if close else ".") + f" Parameters: {', '.join(known)}"


def _subclasses(cls: type) -> list[type]:
    return [sub for direct in cls.__subclasses__() for sub in (direct, *_subclasses(direct))]


def parse_features(features: Mapping[str, Any] | None, where: str = "data.features") -> dict[str, FeatureSpec]:
    """{modality: FeatureSpec} from a config mapping (None or {} = no extraction)."""
    if features is None:
        return {}
    if not isinstance(features, Mapping):
        raise ConfigError(f"{where}: expected a mapping of modality name to feature spec, got {features!r}")
    return {str(mod): FeatureSpec.parse(spec, f"{where}.{mod}") for mod, spec in features.items()}


def canonical_features(features: Mapping[str, Any] | None, where: str = "data.features") -> dict[str, dict]:
    """The features mapping in canonical form; specs that keep a modality's own features are dropped."""
    specs = parse_features(features, where)
    return {mod: spec.to_dict() for mod, spec in specs.items()
            if not (spec.source == PRECOMPUTED and spec.name in ("", mod))}


def apply_features(dataset: Dataset, features: Mapping[str, Any] | None, store: FeatureStore | None = None, *,
                   device: str = "cpu", image_dir: str | Path | None = None, progress: bool = False) -> Dataset:
    """The dataset with each spec'd modality's features extracted (loaded from `store` when already
    there) or taken from the named shipped features; other modalities are unchanged."""
    specs = _specs_for(dataset, features)
    if not specs:
        return dataset
    dataset = _with_rendered_images(dataset, specs, image_dir)
    out = dict(dataset.modalities)
    for mod, spec in specs.items():
        where = f"dataset {dataset.name!r}, modality {mod!r}"
        if spec.source == PRECOMPUTED:
            out[mod] = precomputed_features(dataset, mod, spec.name or mod)
        elif spec.source == FILE:
            out[mod] = file_features(dataset, mod, spec.name)
        else:
            out[mod] = extract_features(dataset.modalities[mod], spec, store, device=device, progress=progress,
                                        where=where)
    return dataset.with_modalities(out)


def validate_features(dataset: Dataset, features: Mapping[str, Any] | None) -> None:
    """Check a features mapping against a dataset without extracting: modalities exist, presets and
    their weights are there, each extractor serves its modality's kind and finds raw content."""
    for mod, spec in _specs_for(dataset, features).items():
        if spec.source == PRECOMPUTED:
            precomputed_features(dataset, mod, spec.name or mod)
        elif spec.source == FILE:
            file_features(dataset, mod, spec.name)
        else:
            _checked_extractor(dataset.modalities[mod], spec, f"dataset {dataset.name!r}, modality {mod!r}",
                               raw=not _renders_images(dataset, mod))


def _specs_for(dataset: Dataset, features: Mapping[str, Any] | None) -> dict[str, FeatureSpec]:
    specs = parse_features(features)
    unknown = [m for m, spec in specs.items() if m not in dataset.modalities and spec.source != FILE]
    if unknown:
        raise ConfigError(f"data.features names modality {unknown[0]!r}, which dataset {dataset.name!r} does not "
                          f"have; available: {sorted(dataset.modalities)}")
    return specs


def _checked_extractor(modality: Modality, spec: FeatureSpec, where: str, raw: bool = True) -> Extractor:
    """The spec's extractor, after checking it serves the modality's kind (and, with `raw`, that
    the modality has raw content to extract from)."""
    extractor = spec.build()
    raw = raw and extractor.backend != PRECOMPUTED  # a feature file is read by item index, not from raw content
    if modality.kind not in extractor.modality_kinds:
        raise ConfigError(f"{where} is {modality.kind!r}, but {spec.source} {spec.name!r} extracts "
                          f"{'/'.join(extractor.modality_kinds)} features")
    if raw and modality.raw is None:
        raise ConfigError(f"{where} has no raw content ({modality.kind}) to extract features from; use "
                          f"'precomputed' for its shipped features, or a dataset that provides raw content")
    if raw and not any(raw_available(r, modality.kind) for r in modality.raw):
        raise DataError(f"{where}: no item has raw content (every entry is None, empty or a missing file)")
    return extractor


def extract_features(modality: Modality, spec: FeatureSpec, store: FeatureStore | None = None, *,
                     device: str = "cpu", progress: bool = False, where: str = "") -> Modality:
    """One modality's features from its raw content by a preset/backend spec (through `store` if given)."""
    extractor = _checked_extractor(modality, spec, where or f"modality {modality.name!r}")
    if store is None:  # e.g. planning or a Workspace without a cache folder: memoise in this process
        key = FeatureStore(".").key(extractor, modality)  # the key does not depend on the folder
        if key not in _EXTRACTED:
            _EXTRACTED[key] = extract_modality(extractor, modality, batch_size=spec.batch_size, device=device,
                                               progress=progress)
        done = _EXTRACTED[key]
        result = modality.with_features(done.features, present=done.present, extraction=done.info["extraction"])
    else:
        result = store.get_or_extract(extractor, modality, batch_size=spec.batch_size, device=device,
                                      progress=progress)
    return result.with_features(result.features, extractor=extraction_record(spec, result.info["extraction"]))


def precomputed_features(dataset: Dataset, target: str, source: str) -> Modality:
    """Modality `target` with the shipped features of modality `source` (same kind), recorded as such."""
    if source not in dataset.modalities:
        raise ConfigError(f"data.features.{target}: precomputed source {source!r} is not a modality of dataset "
                          f"{dataset.name!r}; available: {sorted(dataset.modalities)} (load it via data.options)")
    mod, own = dataset.modalities[source], dataset.modalities[target]
    if mod.kind != own.kind:
        raise ConfigError(f"data.features.{target}: {source!r} holds {mod.kind} features, {target!r} is {own.kind}")
    if mod.dim == 0:
        raise ConfigError(f"dataset {dataset.name!r}: modality {source!r} ships no features (raw content only); "
                          "choose an extractor preset for it")
    return replace(mod, name=target, info=_with_record(mod, {PRECOMPUTED: source}, mod.source or source))


def file_features(dataset: Dataset, target: str, file: str) -> Modality:
    """Modality `target` from a feature .npy (a relative path is taken from the dataset folder),
    verified against its provenance sidecar, whose extractor record it keeps (see
    `mmstudy.data.sources.provenance`); a file without a sidecar is recorded like shipped features."""
    path = Path(file).expanduser()
    if not path.is_absolute() and dataset.meta.get("directory"):
        path = Path(dataset.meta["directory"]) / path
    own = dataset.modalities.get(target)
    mod = feature_modality(target, path, dataset.n_items, own.kind if own else None, item_ids=dataset.item_ids)
    return replace(mod, info=_with_record(mod, {FILE: file}, str(path)))


def _with_record(mod: Modality, spec: dict[str, str], model: str) -> dict[str, Any]:
    """`mod.info` with an extraction record: the one its provenance sidecar gave, else that of
    features made elsewhere (nothing known but the file and its content)."""
    shipped = {"spec": spec, "backend": PRECOMPUTED, "model": model, "layer": "as shipped",
               "weights_sha256": mod.fingerprint(), "dim": mod.dim, "n_extracted": int(mod.present.sum()),
               "seconds_per_item": None}
    return {**mod.info, "extractor": mod.info.get("extractor") or shipped}


def extraction_record(spec: FeatureSpec, extraction: Mapping[str, Any]) -> dict[str, Any]:
    """The compact extraction record kept in `info["extractor"]` (and so in cell manifests)."""
    identity = extraction["identity"]
    keys = ("n_extracted", "n_without_content", "seconds", "seconds_per_item", "load_seconds", "batch_size",
            "device")
    return {"spec": spec.to_dict(), "backend": identity["backend"], "model": identity.get("model"),
            "layer": identity.get("layer"), "preprocessing": identity.get("preprocessing"),
            "weights_sha256": identity.get("weights_sha256"),
            "extractor_fingerprint": extraction["extractor_fingerprint"], "dim": identity["dim"],
            **{k: extraction.get(k) for k in keys}, "store": extraction.get("store")}


def _renders_images(dataset: Dataset, modality: str) -> bool:
    """Whether `modality` is a synthetic dataset's image modality still without rendered images."""
    image = dataset.modalities.get(modality)
    return (modality == "image" and image is not None and image.raw is None
            and dataset.meta.get("source") == "synthetic")


def _with_rendered_images(dataset: Dataset, specs: Mapping[str, FeatureSpec], image_dir) -> Dataset:
    """Render the synthetic dataset's item images when an image extractor needs them."""
    spec = specs.get("image")
    if spec is None or spec.source in (PRECOMPUTED, FILE) or not _renders_images(dataset, "image"):
        return dataset
    from ..data.sources.synthetic import render_item_images
    key = fingerprint(dataset.meta.get("generator"))[:16]
    folder = Path(image_dir) if image_dir is not None else Path(tempfile.gettempdir()) / "mmstudy-synthetic-images"
    return render_item_images(dataset, folder / key)
