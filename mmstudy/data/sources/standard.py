"""The field's standard datasets: public releases that users download themselves.

A `StandardDataset` says which files the release has (MMRec or Ducho/Elliot layout), where it
is published, and its published statistics. Loading one
- names every missing file with its full expected path and where to download it (`DataError`);
- checks the loaded data against the published statistics and stops with one line naming each
  mismatch, unless `check_statistics=False` (a deliberate variant);
- applies `min_rating` only after the check, so the check always sees the release as published.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Mapping, Sequence

from ...errors import DataError
from ..dataset import Dataset
from ..feedback import ALL, DEFAULT, apply_feedback
from .ducho import load_ducho
from .mmrec import load_mmrec
from .named import choose_modalities, data_root

LAYOUTS = ("mmrec", "ducho")
# statistic name -> how it is measured on a loaded Dataset (the split ones need the fixed split)
STATISTICS: dict[str, Callable[[Dataset], int]] = {
    "users": lambda ds: ds.n_users,
    "items": lambda ds: ds.n_items,
    "interactions": lambda ds: ds.n_interactions,
    "train": lambda ds: int(ds.fixed_split.train.nnz),
    "valid": lambda ds: int(ds.fixed_split.valid.nnz),
    "test": lambda ds: int(ds.fixed_split.test.nnz),
}
SKIP_HINT = "If you use a variant deliberately, load it with check_statistics=False (CLI: --set check_statistics=false)"


@dataclass(frozen=True)
class Published:
    """A published number and the source it was verified against."""
    value: int
    source: str


@dataclass(frozen=True)
class FeatureSource:
    """One modality of a release: a file (MMRec) or a folder of per-item files (Ducho), relative
    to the dataset directory; `dim` is None where no published dimension could be verified."""
    path: str
    kind: str
    dim: Published | None = None


@dataclass(frozen=True)
class StandardDataset:
    """A published dataset release (see the module docstring)."""
    name: str
    title: str
    layout: str
    interactions: tuple[str, ...]
    features: Mapping[str, FeatureSource]
    default_modalities: tuple[str, ...]
    download: str
    citation: str
    statistics: Mapping[str, Published] = field(default_factory=dict)
    notes: str = ""
    aliases: tuple[str, ...] = ()

    def __post_init__(self):
        unknown = [k for k in self.statistics if k not in STATISTICS]
        if self.layout not in LAYOUTS or unknown or not set(self.default_modalities) <= set(self.features):
            raise ValueError(f"standard dataset {self.name!r}: layout {self.layout!r} (expected {LAYOUTS}), "
                             f"unknown statistics {unknown}, defaults {self.default_modalities} "
                             f"must be among {list(self.features)}")

    def expected_files(self, modalities: Sequence[str]) -> list[str]:
        return [*self.interactions, *(self.features[m].path for m in modalities)]

    def published_dims(self, modalities: Sequence[str]) -> dict[str, Published]:
        return {m: self.features[m].dim for m in modalities if self.features[m].dim is not None}


def absent_message(spec: StandardDataset, directory: Path, missing: Sequence[str]) -> str:
    """One line: which files are missing, where to download them and where each one goes."""
    paths = ", ".join(str(directory / f) for f in missing)
    return (f"dataset {spec.name!r} ({spec.title}) is missing {', '.join(missing)}. Download {spec.download} "
            f"and put the files at {paths}; or set MMSTUDY_DATA (or root=) to the folder that contains {spec.name}/")


def require_files(spec: StandardDataset, modalities: Sequence[str], root: str | Path | None = None) -> Path:
    """The dataset directory `<root>/<name>`, after checking every expected file is there."""
    directory = data_root(root) / spec.name
    missing = [f for f in spec.expected_files(modalities) if not (directory / f).exists()]
    if missing:
        raise DataError(absent_message(spec, directory, missing))
    return directory


def statistics_mismatches(spec: StandardDataset, dataset: Dataset) -> list[str]:
    """'<statistic> <found> (published <value>, <source>)' for each published number not matched."""
    found = {name: STATISTICS[name](dataset) for name in spec.statistics}  # both layouts have a fixed split
    out = [f"{name} {found[name]:,} (published {pub.value:,}, {pub.source})"
           for name, pub in spec.statistics.items() if found[name] != pub.value]
    dims = spec.published_dims([m for m in dataset.modalities if m in spec.features])
    out += [f"{m} feature dimension {dataset.modalities[m].dim:,} (published {pub.value:,}, {pub.source})"
            for m, pub in dims.items() if dataset.modalities[m].dim != pub.value]
    return out


def verify_statistics(spec: StandardDataset, dataset: Dataset) -> None:
    """Raise one DataError line naming every statistic that differs from the published one."""
    mismatches = statistics_mismatches(spec, dataset)
    if mismatches:
        raise DataError(f"dataset {spec.name!r} in {dataset.meta.get('directory')} does not match its published "
                        f"statistics: {'; '.join(mismatches)}. {SKIP_HINT}")


def load_standard(spec: StandardDataset, root: str | Path | None = None,
                  modalities: Sequence[str] | str | None = None, min_rating: float | str | None = DEFAULT,
                  check_statistics: bool = True, duplicates: str = "error") -> Dataset:
    """Load a standard dataset from `<root>/<name>` (see the module docstring).

    Parameters
    ----------
    modalities : the modality names to load (default: the release's usual ones).
    min_rating : which rows are positives (`mmstudy.data.feedback`), decided after the statistics
        check: a threshold, "all", or "default" (0/1 like columns then ask for a choice).
    check_statistics : compare with the published statistics (turn off for a deliberate variant).
    duplicates : 'error' or 'drop' for repeated (user, item) pairs, as in `load_mmrec`.
    """
    chosen = choose_modalities(spec.name, spec.default_modalities if modalities is None else modalities,
                               list(spec.features))
    directory = require_files(spec, chosen, root)
    features = {m: spec.features[m].path for m in chosen}
    kinds = {m: spec.features[m].kind for m in chosen}
    if spec.layout == "mmrec":  # every row first: the published statistics count the release as shipped
        dataset = load_mmrec(directory, inter_file=spec.interactions[0], features=features, kinds=kinds,
                             name=spec.name, duplicates=duplicates, min_rating=ALL)
    else:
        dataset = load_ducho(directory, modalities=features, kinds=kinds, name=spec.name, duplicates=duplicates,
                             min_rating=ALL)
    if check_statistics:
        verify_statistics(spec, dataset)
    meta = {**dataset.meta, "source": spec.name, "layout": spec.layout, "citation": spec.citation,
            "statistics_checked": bool(check_statistics)}
    feedback = dataset.meta["feedback"]
    return apply_feedback(replace(dataset, meta=meta), min_rating, where=feedback["file"],
                          column=feedback["rating_column"])


def make_loader(spec: StandardDataset) -> Callable[..., Dataset]:
    """A catalog loader for `spec`: `load_standard` with the spec bound, named after the dataset
    (`load_dataset` reads its signature to check options and uses its name in messages)."""
    def loader(root: str | Path | None = None, modalities: Sequence[str] | str | None = None,
               min_rating: float | str | None = DEFAULT, check_statistics: bool = True,
               duplicates: str = "error") -> Dataset:
        return load_standard(spec, root, modalities, min_rating, check_statistics, duplicates)

    loader.__name__ = loader.__qualname__ = f"load_{spec.name.replace('-', '_')}"
    loader.__doc__ = f"{spec.title} ({spec.layout} layout): {spec.citation}. {spec.notes}".strip()
    return loader
