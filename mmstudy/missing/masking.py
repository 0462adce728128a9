"""Missing-modality masks: which items lose which modality, reproducibly.

Synthetic masking takes items in the order of a missingness mechanism (`missing.mechanisms`:
``mcar``, the default, ``popularity`` or ``content``). Settings:

* ``"single"``: only the `target` modality is masked;
* ``"same"``: every modality is masked on the same items (items lose all their content);
* ``"independent"``: each modality is masked on its own independent draw.

Rate semantics: `rate` is the fraction of *candidate* items masked synthetically, where candidates
are the eligible items that naturally have the modality (for "same": that have every modality).
Naturally missing items (``present`` False in `natural`) are missing in addition (union), so the
total missing fraction is at least `rate`. With no natural missingness exactly
``round(rate * n_eligible)`` items are masked per modality.

Reproducibility: each modality's draw (and the shared "same" draw) comes from its own
``numpy.random.Generator`` keyed by (seed, setting family, modality name) only. Every item gets a
uniform random priority and the lowest-priority candidates are masked (a mechanism other than mcar
turns the priority into a weighted key, see `mechanisms`), so the same (mechanism, strength, rate,
seed) gives identical masks for every strategy and model compared, a lower rate's mask is a subset
of a higher rate's (paired rate curves), and a "single" mask equals that modality's "independent"
mask.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import numpy as np

from ..data.modality import Modality
from ..errors import ConfigError, DataError
from ..hashing import array_sha256, atomic_path
from .mechanisms import ItemScore, check_mechanism, check_strength

SETTINGS = ("single", "same", "independent")


@dataclass(frozen=True, eq=False)
class Mask:
    """Per-modality boolean masks over items (True = the item lacks that modality).

    `natural[name]` marks the items whose content was absent in the data; `missing` includes them.
    `mechanism` and `strength` say how the synthetic part was drawn (`mechanisms`).
    """

    missing: dict[str, np.ndarray]
    setting: str
    rate: float
    seed: int
    target: str | None = None
    natural: dict[str, np.ndarray] = field(default_factory=dict)
    mechanism: str = "mcar"
    strength: float = 0.0

    def __post_init__(self) -> None:
        missing = {str(k): np.asarray(v, dtype=bool) for k, v in self.missing.items()}
        natural = {k: np.asarray(self.natural[k], dtype=bool) if k in self.natural else np.zeros(v.shape, bool)
                   for k, v in missing.items()}
        if unknown := sorted(set(self.natural) - set(missing)):
            raise DataError(f"mask: natural missingness given for modalities {unknown} without a mask")
        sizes = {v.shape for v in (*missing.values(), *natural.values())}
        if len(sizes) > 1 or any(len(s) != 1 for s in sizes):
            raise DataError(f"mask: arrays must all be 1-D with the same length, got shapes {sorted(sizes)}")
        for name, nat in natural.items():
            if (nat & ~missing[name]).any():
                raise DataError(f"mask: modality {name!r} has naturally missing items that are not marked missing")
        object.__setattr__(self, "missing", missing)
        object.__setattr__(self, "natural", natural)

    @property
    def modalities(self) -> list[str]:
        return sorted(self.missing)

    @property
    def n_items(self) -> int:
        return int(next(iter(self.missing.values())).shape[0]) if self.missing else 0

    @property
    def checksum(self) -> str:
        """SHA-256 of the arrays, plus the mechanism and strength unless mcar (whose checksums are
        those of masks written before mechanisms existed)."""
        names = self.modalities
        drawn = () if self.mechanism == "mcar" else (np.asarray([self.mechanism]), np.asarray([self.strength]))
        return array_sha256(np.asarray(names), *(self.missing[n] for n in names), *(self.natural[n] for n in names),
                            *drawn)

    def synthetic(self, name: str) -> np.ndarray:
        """Items masked on purpose (their true features are known, e.g. to score imputations)."""
        return self.missing[name] & ~self.natural[name]

    def summary(self) -> dict:
        out = {"setting": self.setting, "rate": self.rate, "seed": self.seed, "target": self.target,
               "mechanism": self.mechanism, "strength": self.strength, "n_items": self.n_items,
               "checksum": self.checksum}
        for name in self.modalities:
            out[f"missing_{name}"] = int(self.missing[name].sum())
            out[f"natural_{name}"] = int(self.natural[name].sum())
        return out

    def save(self, path: str | Path) -> None:
        """Write the mask atomically as an .npz of plain arrays (no pickle) with its checksum."""
        names = self.modalities
        arrays = {"names": np.asarray(names, dtype=str), "setting": np.asarray(self.setting),
                  "rate": np.asarray(self.rate, dtype=np.float64), "seed": np.asarray(self.seed, dtype=np.int64),
                  "target": np.asarray("" if self.target is None else self.target),
                  "mechanism": np.asarray(self.mechanism), "strength": np.asarray(self.strength, dtype=np.float64),
                  "checksum": np.asarray(self.checksum)}
        for i, name in enumerate(names):
            arrays[f"missing_{i}"], arrays[f"natural_{i}"] = self.missing[name], self.natural[name]
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as f:
                np.savez_compressed(f, **arrays)

    @classmethod
    def load(cls, path: str | Path) -> "Mask":
        """Load a mask written by `save`; a checksum mismatch is a DataError."""
        try:
            with np.load(path, allow_pickle=False) as z:
                names = [str(n) for n in z["names"]]
                drawn = ({"mechanism": str(z["mechanism"]), "strength": float(z["strength"])}
                         if "mechanism" in z.files else {})  # files written before mechanisms: mcar
                mask = cls(missing={n: z[f"missing_{i}"] for i, n in enumerate(names)},
                           natural={n: z[f"natural_{i}"] for i, n in enumerate(names)},
                           setting=str(z["setting"]), rate=float(z["rate"]), seed=int(z["seed"]),
                           target=str(z["target"]) or None, **drawn)
                stored = str(z["checksum"])
        except (KeyError, ValueError, OSError) as err:
            raise DataError(f"{path}: not a readable mask file ({err})") from err
        if mask.checksum != stored:
            raise DataError(f"{path}: mask checksum mismatch (file is corrupted or was edited)")
        return mask


def make_mask(n_items: int, modalities: list[str], rate: float, setting: str = "single",
              target: str | None = None, seed: int = 0,
              natural: Mapping[str, np.ndarray] | None = None, eligible: np.ndarray | None = None,
              mechanism: str = "mcar", strength: float = 0.0, score: ItemScore | None = None) -> Mask:
    """Draw a missing-modality mask (see the module docstring for the exact semantics).

    Parameters
    ----------
    natural : the *presence* array of each modality in the data (False = content absent).
    eligible : optionally restricts which items may be masked synthetically.
    rate : in (0, 1); 0 is allowed only with `natural` (natural missingness alone).
    mechanism, strength, score : the missingness mechanism, its strength and its item score
        s_i per draw (`mechanisms.mechanism_scores`; needed unless mcar).
    """
    names = list(dict.fromkeys(str(m) for m in modalities))
    target = _check_config(names, rate, setting, target, natural)
    mechanism = check_mechanism(mechanism, "make_mask")
    strength = check_strength(mechanism, strength, "make_mask")
    if mechanism != "mcar" and score is None:
        raise ConfigError(f"make_mask: mechanism {mechanism!r} needs its item scores (mechanisms.mechanism_scores)")

    def log_weight(draw: list[str]) -> np.ndarray | None:  # strength * s_i of one draw's candidates
        if mechanism == "mcar":
            return None
        values = np.asarray(score(draw), dtype=np.float64)
        if values.shape != (n_items,):
            raise DataError(f"make_mask: mechanism {mechanism!r} scored {values.shape} items, expected ({n_items},)")
        return strength * values

    n_items = int(n_items)
    absent = {n: _natural_absent(natural, n, n_items) for n in names}
    allowed = np.ones(n_items, bool) if eligible is None else _bool_array(eligible, n_items, "eligible")
    missing = dict(absent)
    if rate > 0:
        if setting == "same":
            chosen = _draw(n_items, allowed & ~np.logical_or.reduce(list(absent.values())), rate, seed, "same",
                           log_weight(names))
            missing = {n: absent[n] | chosen for n in names}
        else:
            for name in ([target] if setting == "single" else names):
                missing[name] = absent[name] | _draw(n_items, allowed & ~absent[name], rate, seed, f"modality:{name}",
                                                     log_weight([name]))
    return Mask(missing=missing, setting=setting, rate=float(rate), seed=int(seed), target=target, natural=absent,
                mechanism=mechanism, strength=strength)


def apply_mask(modalities: Mapping[str, Modality], mask: Mask) -> dict[str, Modality]:
    """Modalities with masked items marked absent (present &= ~missing) and their rows zeroed.

    Modalities the mask does not mention pass through unchanged.
    """
    if unknown := sorted(set(mask.missing) - set(modalities)):
        raise ConfigError(f"mask refers to unknown modalities {unknown}; available: {sorted(modalities)}")
    out = dict(modalities)
    for name, missing in mask.missing.items():
        modality = modalities[name]
        if modality.n_items != len(missing):
            raise DataError(f"mask has {len(missing)} items but modality {name!r} has {modality.n_items}")
        present = modality.present & ~missing
        out[name] = modality.with_features(modality.features, present=present, mask_checksum=mask.checksum,
                                           masked_items=int((modality.present & missing).sum()))
    return out


def _check_config(names: list[str], rate: float, setting: str, target: str | None,
                  natural: Mapping[str, np.ndarray] | None) -> str | None:
    """Validate a masking configuration; returns the resolved target modality ("single" only)."""
    if not names:
        raise ConfigError("make_mask: no modalities given")
    if setting not in SETTINGS:
        raise ConfigError(f"unknown missing-modality setting {setting!r}; expected one of {SETTINGS}")
    if not (0.0 < float(rate) < 1.0 or (float(rate) == 0.0 and natural is not None)):
        raise ConfigError(f"missing rate must be in (0, 1) (0 only with natural missingness), got {rate!r}")
    if natural is not None and (unknown := sorted(set(natural) - set(names))):
        raise ConfigError(f"natural missingness for unknown modalities {unknown}; available: {sorted(names)}")
    if setting != "single":
        if target is not None:
            raise ConfigError(f"target={target!r} only applies to setting='single', not {setting!r}")
        if len(names) < 2:
            raise ConfigError(f"setting {setting!r} masks several modalities but the dataset has only "
                              f"{names}; use setting='single'")
        return None
    if target is None:
        if len(names) > 1:
            raise ConfigError(f"setting 'single' needs a target modality; available: {sorted(names)}")
        return names[0]
    if target not in names:
        raise ConfigError(f"unknown target modality {target!r}; available: {sorted(names)}")
    return target


def _natural_absent(natural: Mapping[str, np.ndarray] | None, name: str, n_items: int) -> np.ndarray:
    if natural is None or name not in natural:
        return np.zeros(n_items, bool)
    return ~_bool_array(natural[name], n_items, f"natural[{name!r}]")


def _bool_array(values: np.ndarray, n_items: int, what: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.shape != (n_items,) or arr.dtype != bool:
        raise DataError(f"make_mask: {what} must be a boolean array of shape ({n_items},), "
                        f"got {arr.dtype} {arr.shape}")
    return arr


def _draw(n_items: int, candidates: np.ndarray, rate: float, seed: int, stream: str,
          log_weight: np.ndarray | None = None) -> np.ndarray:
    """Mask round(rate * #candidates) candidates: those with the lowest seeded random priority, or
    with `log_weight` (strength * s_i) the lowest key log(-log(1 - u)) - log_weight (`mechanisms`)."""
    rng = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(zlib.crc32(stream.encode()),)))
    priority = rng.random(n_items)
    if log_weight is not None:
        with np.errstate(divide="ignore"):  # u = 0 gives key -inf: first, as its weighted key (1 - u)^(1/w) = 1
            priority = np.log(-np.log1p(-priority)) - log_weight
    pool = np.flatnonzero(candidates)
    count = int(round(rate * len(pool)))
    chosen = np.zeros(n_items, bool)
    chosen[pool[np.argsort(priority[pool], kind="stable")[:count]]] = True
    return chosen


def parse_setting(setting: str, modalities: list[str]) -> tuple[str, str | None]:
    """'single:text' -> ('single', 'text'); checks the modality exists and the setting fits."""
    kind, _, target = setting.partition(":")
    if kind not in ("single", "same", "independent", "natural"):
        raise ConfigError(f"missing.settings: unknown setting {setting!r}; expected single:<modality>, "
                          "same, independent or natural")
    if kind == "single":
        target = target or (modalities[0] if modalities else "")
        if target not in modalities:
            raise ConfigError(f"missing.settings: {setting!r} names modality {target!r}; "
                              f"the dataset has {modalities}")
    elif kind in ("same", "independent") and len(modalities) < 2:
        raise ConfigError(f"missing.settings: {kind!r} masks several modalities together, but the dataset has "
                          f"only {modalities}; use 'single:{modalities[0] if modalities else '<name>'}'")
    return kind, target or None
