"""`load_dataset(name_or_path, **options)`: a catalog name or a dataset directory, whose layout
(MMRec, Ducho/Elliot, raw content) is detected from its files."""
from __future__ import annotations

import inspect
from pathlib import Path
from typing import Callable

from ..errors import ConfigError, DataError
from ..registry import Registry, UnknownNameError
from .dataset import Dataset
from .preprocess import preprocess
from .sources import canonical_column, read_header
from .sources.catalog import DATASETS
from .sources.ducho import load_ducho
from .sources.mmrec import load_mmrec
from .sources.raw import INTERACTION_FILES, ITEM_FILES, load_raw

LAYOUTS: Registry[Callable[..., Dataset]] = Registry("dataset layout")
LAYOUTS.add("mmrec", load_mmrec)
LAYOUTS.add("ducho", load_ducho, "elliot")
LAYOUTS.add("raw", load_raw)


def detect_layout(directory: str | Path) -> str:
    """'ducho' (train.tsv), 'raw' (items.tsv or items.csv with an interactions file) or 'mmrec'
    (a *.inter file with an x_label column; an MMRec folder may also hold an item table, e.g. the
    titles features are extracted from); items without either is 'raw' (which names what is missing)."""
    directory = Path(directory)
    if (directory / "train.tsv").is_file():
        return "ducho"
    items = any((directory / name).is_file() for name in ITEM_FILES)
    if items and any((directory / name).is_file() for name in INTERACTION_FILES):
        return "raw"
    for path in sorted(directory.glob("*.inter")):
        if "x_label" in [canonical_column(c) for c in read_header(path)]:
            return "mmrec"
    if items:
        return "raw"
    raise DataError(f"{directory}: cannot tell the dataset layout; expected train.tsv/val.tsv/test.tsv (Ducho/"
                    "Elliot), items.tsv/.csv + interactions.tsv/.csv (raw content) or <name>.inter with an x_label column "
                    f"(MMRec); found {sorted(p.name for p in directory.iterdir())[:20]}")


def _looks_like_path(text: str) -> bool:
    return any(sep in text for sep in ("/", "\\")) or text.startswith((".", "~"))


def check_dataset(name_or_path: str | Path) -> None:
    """Raise the error `load_dataset` would raise for an unknown name or a missing directory."""
    text = str(name_or_path)
    if text in DATASETS or Path(text).expanduser().is_dir():
        return
    if _looks_like_path(text):
        raise DataError(f"dataset directory {Path(text).expanduser()} does not exist")
    raise UnknownNameError(DATASETS.unknown_message(text) + " (or pass a path to a dataset directory)")


def load_dataset(name_or_path: str | Path, *, layout: str | None = None, user_core: int = 0,
                 item_core: int = 0, **options) -> Dataset:
    """Load a catalog dataset by name (see `DATASETS`) or a dataset directory.

    A directory named like a catalog dataset (e.g. .../lastfm-2k) uses that dataset's loader
    unless `layout` is given. `options` go to the loader (e.g. modalities=, min_rating=, seed=);
    `user_core`/`item_core` then keep the k-core (see `preprocess`).
    """
    text = str(name_or_path)
    path = Path(text).expanduser()
    if text in DATASETS and not (_looks_like_path(text) and path.is_dir()):
        loader, args = DATASETS.get(text), ()
    elif path.is_dir():
        if layout is None and path.name in DATASETS and "root" in _parameters(DATASETS.get(path.name)):
            loader, args = DATASETS.get(path.name), ()
            options = {"root": path.parent, **options}
        else:
            loader, args = LAYOUTS.get(layout or detect_layout(path)), (path,)
    elif _looks_like_path(text):
        raise DataError(f"dataset directory {path} does not exist")
    else:
        raise UnknownNameError(DATASETS.unknown_message(text) + " (or pass a path to a dataset directory)")
    dataset = loader(*args, **_checked_options(loader, options))
    return preprocess(dataset, user_core=user_core, item_core=item_core)


def _parameters(loader: Callable) -> dict[str, inspect.Parameter]:
    return dict(inspect.signature(loader).parameters)


def _checked_options(loader: Callable, options: dict) -> dict:
    """Options the loader accepts; an unknown one is a ConfigError listing the accepted ones."""
    params = _parameters(loader)
    accepted = [n for n, p in params.items() if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)]
    unknown = [k for k in options if k not in accepted]
    if unknown:
        raise ConfigError(f"{loader.__name__}: unknown option {unknown[0]!r}; accepted: {', '.join(accepted)}")
    return options
