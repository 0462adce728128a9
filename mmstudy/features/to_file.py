"""One modality's features extracted from raw content into a .npy file with a provenance sidecar
(`python -m mmstudy data extract`; README "Adding features to any dataset").

Rows follow the dataset's item order as its loader reads it (before any k-core filtering); items
without raw content get a zero row and are listed as missing in the sidecar, so loaders mark them
absent. Everything that can be checked cheaply (the preset, the dataset, the content source, the
output path) is checked before the model loads; the .npy and its sidecar are written atomically.
"""
from __future__ import annotations

import os
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from .. import __version__
from ..data.dataset import Dataset
from ..data.loading import check_dataset, detect_layout, load_dataset
from ..data.modality import KINDS
from ..data.sources import raw_modality
from ..data.sources.catalog import DATASETS
from ..data.sources.content import item_content
from ..data.sources.provenance import sidecar_path, write_features
from ..errors import ConfigError, DataError
from ..hashing import file_sha256
from .apply import FeatureSpec, extract_features
from .store import content_hash, library_versions
from .zoo import PRESETS

FILTERING_OPTIONS = ("user_core", "item_core")


@dataclass(frozen=True)
class Extracted:
    """What `extract_to_file` wrote: the features at `path` and their sidecar `record`."""

    path: Path
    record: dict[str, Any]
    seconds: float  # model loading and extraction
    loaded_as: str | None = None  # the modality name the dataset's loader gives the file, if it reads it

    @property
    def sidecar(self) -> Path:
        return sidecar_path(self.path)


def extract_to_file(dataset: str, preset: str, *, modality: str | None = None, source: str | None = None,
                    id_column: str | None = None, output: str | os.PathLike | None = None, force: bool = False,
                    options: Mapping[str, Any] | None = None, params: Mapping[str, Any] | None = None,
                    batch_size: int = 32, device: str = "cpu", command: str | None = None,
                    progress: bool = True) -> Extracted:
    """Extract one modality's features for every item of `dataset` and write them with a sidecar.

    Parameters
    ----------
    dataset : a catalog name or a dataset folder (any layout `load_dataset` reads); `options` go
        to its loader.
    preset : the extractor preset (`PRESETS`); `params` override its parameters (layer, pooling...).
    modality : the modality to extract (default: the preset's only kind); a new name adds one.
    source : the raw content, `FILE:COLUMN` or an image `FOLDER` (see `data.sources.content`);
        default: the raw content the loader gives the modality. `id_column` names the item ids.
    output : the .npy to write (default `<dataset folder>/<modality>_feat.npy`); an existing file
        is replaced only with `force`.
    command : the command line, recorded in the sidecar.
    """
    spec = FeatureSpec.parse({"preset": preset, **dict(params or {}), "batch_size": batch_size}, "preset")
    options = dict(options or {})
    filtering = [k for k in FILTERING_OPTIONS if k in options]
    if filtering:
        raise ConfigError(f"option {filtering[0]!r}: features follow every item the loader reads; filter items "
                          "in the study that uses them (data.options), not when extracting")
    if id_column is not None and source is None:
        raise ConfigError("--id-column names the item column of a --source table; give --source FILE:COLUMN")
    check_dataset(dataset)
    loader_options = _loader_options(dataset, options, spec, modality, output)
    data = load_dataset(dataset, **loader_options)
    name, kind = target_modality(data, spec, modality)
    raw, source_record = _content(data, name, kind, source, id_column)
    path = output_path(data, name, output, force)
    target = raw_modality(name, kind, raw, source=source_record["path"] or "")
    where = f"dataset {data.name!r}, modality {name!r} ({source_record['kind']} {source_record['path']})"
    start = time.perf_counter()
    result = extract_features(target, spec, device=device, progress=progress, where=where)
    seconds = time.perf_counter() - start
    record = {"modality": {"name": name, "kind": kind}, "items": _items_record(data, result.present),
              "dataset": {"name": data.name, "argument": str(dataset), "directory": data.meta.get("directory"),
                          "layout": data.meta.get("source"), "options": options},
              "source": {**source_record, "content_sha256": content_hash(spec.build(), target)},
              "extractor": result.info["extractor"], "identity": result.info["extraction"]["identity"],
              "environment": {"mmstudy": __version__, "python": platform.python_version(),
                              "libraries": library_versions()},
              "command": command, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    try:
        record = write_features(path, result.features, record)
    except OSError as exc:
        raise DataError(f"cannot write {path}: {exc.strerror or exc}") from None
    reads_it = "features" in loader_options and "features" not in options and path.parent.resolve() == \
        Path(dataset).expanduser().resolve()  # an MMRec folder's loader reads every .npy in it
    return Extracted(path, record, seconds, path.stem if reads_it else None)


def _items_record(data: Dataset, present: np.ndarray) -> dict[str, Any]:
    """The sidecar's item list: every id in row order, and those without content (zero rows)."""
    return {"count": data.n_items, "ids": data.item_ids.tolist(), "present": int(present.sum()),
            "missing": data.item_ids[~present].tolist()}


def _loader_options(dataset: str, options: dict[str, Any], spec: FeatureSpec, modality: str | None,
                    output: str | os.PathLike | None) -> dict[str, Any]:
    """The loader options; an MMRec folder (whose loader reads every .npy in it) is read without
    the file being written, so a stale or broken earlier extraction cannot stop its replacement."""
    directory = Path(dataset).expanduser()
    kinds = PRESETS.get(spec.name).kinds
    if "features" in options or not directory.is_dir() or (modality is None and len(kinds) != 1):
        return options
    layout = options.get("layout")
    if layout is None and directory.name in DATASETS:  # read by the catalog loader, which names its files
        return options
    try:
        if (layout or detect_layout(directory)) != "mmrec":
            return options
    except DataError:  # not a dataset folder: the loader says so
        return options
    target = Path(output or directory / f"{modality or kinds[0]}_feat.npy").expanduser().resolve()
    return {**options, "features": {p.stem: p.name for p in sorted(directory.glob("*.npy")) if p.resolve() != target}}


def target_modality(data: Dataset, spec: FeatureSpec, modality: str | None) -> tuple[str, str]:
    """(name, kind) of the modality to extract: `modality` (default: the preset's only kind); its
    kind is the dataset's modality's, else the name when it is a kind, else the preset's."""
    kinds = PRESETS.get(spec.name).kinds
    if modality is None:
        if len(kinds) != 1:
            raise ConfigError(f"preset {spec.name!r} extracts {' and '.join(kinds)} features: choose the modality "
                              "with --modality")
        modality = kinds[0]
    if modality in data.modalities:
        return modality, data.modalities[modality].kind
    if modality in KINDS:
        return modality, modality
    if len(kinds) == 1:
        return modality, kinds[0]
    raise ConfigError(f"--modality {modality!r} is neither a modality of dataset {data.name!r} "
                      f"({', '.join(data.modalities) or 'none'}) nor a kind ({', '.join(KINDS)})")


def _content(data: Dataset, name: str, kind: str, source: str | None,
             id_column: str | None) -> tuple[list, dict[str, Any]]:
    """The raw content per item and a record of where it came from."""
    if source is not None:
        return item_content(source, data.item_ids, kind, data.meta.get("directory"), id_column)
    mod = data.modalities.get(name)
    if mod is None or mod.raw is None:
        what = "has no modality" if mod is None else "has no raw content for modality"
        raise ConfigError(f"dataset {data.name!r} {what} {name!r} (modalities: {', '.join(data.modalities) or 'none'}"
                          "); give the content with --source FILE:COLUMN or --source IMAGE_FOLDER")
    where = mod.info.get("raw_source") or mod.source
    is_file = bool(where) and Path(where).is_file()
    return list(mod.raw), {"kind": "modality", "path": where, "column": None, "modality": name,
                           "sha256": file_sha256(where) if is_file else None}


def output_path(data: Dataset, name: str, output: str | os.PathLike | None, force: bool) -> Path:
    """The .npy to write (default `<dataset folder>/<name>_feat.npy`, as MMRec names feature files),
    after checking it may be written: absent (or `force`), in a writable folder."""
    if output is None:
        if not data.meta.get("directory"):
            raise ConfigError(f"dataset {data.name!r} has no folder to write its features into: pass --output")
        output = Path(data.meta["directory"]) / f"{name}_feat.npy"
    path = Path(output).expanduser()
    if path.suffix != ".npy":
        raise ConfigError(f"--output {path}: the features file must end in .npy")
    if path.is_dir() or (path.exists() and not force):
        raise DataError(f"{path} already exists; pass --force to replace it (and its provenance sidecar)"
                        if not path.is_dir() else f"--output {path} is a folder; name a .npy file")
    folder = next(p for p in (path.parent, *path.parent.parents) if p.exists())
    if not folder.is_dir():
        raise DataError(f"cannot write {path}: {folder} is a file, not a folder")
    if not os.access(folder, os.W_OK | os.X_OK) or not folder.stat().st_mode & 0o222:
        # the mode bits too: root may write anywhere, but a folder nobody may write is not meant for it
        raise DataError(f"cannot write {path}: {folder} is not writable")
    return path
