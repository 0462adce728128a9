"""Missingness mechanisms: which items a synthetic mask takes first.

A mask draw masks exactly ``round(rate * #candidates)`` of its candidates, in one seeded order that
does not depend on the rate, so a lower rate's mask is a subset of a higher rate's (nested) and
every strategy and model compared at the same (mechanism, strength, setting, rate, seed) sees the
same mask. The order is weighted sampling without replacement (Efraimidis & Spirakis, 2006):
candidate i gets the key

    key_i = log(E_i) - strength * s_i,    E_i = -log(1 - u_i) ~ Exp(1),

and the candidates with the smallest keys are masked (the same order as the largest
``(1 - u_i) ** (1 / w_i)``), i.e. each next item is drawn from the remaining ones with probability
proportional to ``w_i = exp(strength * s_i)``. ``u_i`` is the draw's seeded uniform, the very stream
`mcar` masks by, so ``strength = 0`` gives the MCAR order and, at one seed, mechanisms differ only
by the bias they add. The item score ``s_i`` defines the mechanism:

* ``mcar``: s_i = 0 (masked in order of u_i: the masks drawn before mechanisms existed);
* ``popularity``: s_i = -log(1 + n_i), n_i = item i's interactions in the cell's TRAINING split,
  so ``w_i = (1 + n_i) ** -strength``: long-tail items lose content first;
* ``content`` (missing not at random): s_i = z_i, item i's standardized score on the first
  principal component of the masked modality's own observed features (`content_score`), so
  ``w_i = exp(strength * z_i)``: items far along the modality's main content axis lose it first.

`strength` lies in [0, MAX_STRENGTH]; 0 is the MCAR order, larger concentrates the mask on the
favoured items (at 10 the order is almost deterministic: a popularity gap of 1 vs 0 training
interactions already weighs 2**10 = 1024 : 1).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial
from numbers import Real
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import svds

from ..config import check_keys
from ..data.modality import Modality
from ..errors import ConfigError, DataError
from ..registry import Registry

MAX_STRENGTH = 10.0
DEFAULT_STRENGTH = 1.0  # a study file's {name: popularity} without a strength

ItemScore = Callable[[Sequence[str]], np.ndarray]  # the modalities of one draw -> s_i per item


@dataclass(frozen=True)
class Mechanism:
    """One missingness mechanism: its rule in words and its item score (None: no bias, `mcar`)."""

    name: str
    rule: str
    score: Callable[["MechanismInput", Sequence[str]], np.ndarray] | None = None


@dataclass(frozen=True, eq=False)
class MechanismInput:
    """What a mechanism may read: the cell's modalities (before masking) and training interactions."""

    modalities: Mapping[str, Modality]
    train: sp.spmatrix | None = None


def training_popularity(train: sp.spmatrix, n_items: int) -> np.ndarray:
    """Interactions per item in the training part (the split's binary train matrix)."""
    train = sp.csr_matrix(train)
    if train.shape[1] != n_items:
        raise DataError(f"training split has {train.shape[1]} items but the modalities have {n_items}")
    return np.asarray(train.getnnz(axis=0), dtype=np.int64)


def popularity_score(inputs: MechanismInput, names: Sequence[str]) -> np.ndarray:
    """s_i = -log(1 + training interactions of item i)."""
    if inputs.train is None:
        raise ConfigError("missing.mechanism 'popularity' needs the cell's training split")
    n_items = next(iter(inputs.modalities.values())).n_items
    return -np.log1p(training_popularity(inputs.train, n_items).astype(np.float64))


def content_score(modalities: Mapping[str, Modality], names: Sequence[str]) -> np.ndarray:
    """z_i, each item's standardized content score for a draw over the modalities `names`.

    Per modality m with observed rows x_i (present): c_i = <x_i - mean_x, v_m>, v_m the first
    principal component of the observed rows (sign: its largest-magnitude loading positive),
    standardized to mean 0 and variance 1 over the observed rows. A draw over several modalities
    (setting `same`) scores the mean of their c_i, standardized again over the items that have all
    of them. Items lacking a modality score 0 (they are never candidates of its draw).
    """
    present = np.logical_and.reduce([modalities[n].present for n in names])
    total = np.zeros(len(present))
    for name in names:
        total += _component_score(modalities[name])
    return _standardized(total, present, f"the modalities {list(names)}")


def _component_score(modality: Modality) -> np.ndarray:
    rows = modality.features[modality.present].astype(np.float64)
    out = np.zeros(modality.n_items)
    if len(rows) < 2 or modality.dim == 0:
        hint = " (raw content only: extract features with data.features)" if modality.dim == 0 else ""
        raise DataError(f"missing.mechanism 'content': modality {modality.name!r} has {len(rows)} observed "
                        f"items with {modality.dim} features; nothing to rank them by{hint}")
    centered = rows - rows.mean(axis=0)
    if not _varies(centered, rows):
        raise _no_variance(f"modality {modality.name!r}")
    if modality.dim == 1:
        loading = np.ones(1)
    else:  # ARPACK from a fixed start vector: deterministic, and no dense n x d decomposition
        start = np.random.default_rng(0).standard_normal(min(centered.shape))
        loading = svds(centered, k=1, v0=start, solver="arpack", return_singular_vectors="vh")[2][0]
    loading = loading * np.sign(loading[np.argmax(np.abs(loading))])
    out[modality.present] = centered @ loading
    return _standardized(out, modality.present, f"modality {modality.name!r}")


def _varies(centered: np.ndarray, values: np.ndarray) -> bool:
    """More than round-off spread (relative to the values' magnitude)."""
    return bool(np.abs(centered).max(initial=0.0) > 1e-9 * max(1.0, float(np.abs(values).max(initial=0.0))))


def _no_variance(what: str) -> DataError:
    return DataError(f"missing.mechanism 'content': {what}: no content variance among the observed items; "
                     "nothing to rank them by")


def _standardized(values: np.ndarray, rows: np.ndarray, what: str) -> np.ndarray:
    centered = values[rows] - values[rows].mean()
    if rows.sum() < 2 or not _varies(centered, values[rows]):
        raise _no_variance(what)
    return np.where(rows, (values - values[rows].mean()) / centered.std(), 0.0)


def _content(inputs: MechanismInput, names: Sequence[str]) -> np.ndarray:
    return content_score(inputs.modalities, names)


MECHANISMS: Registry[Mechanism] = Registry("missingness mechanism")
for _mechanism in (
        Mechanism("mcar", "missing completely at random: every candidate equally likely"),
        Mechanism("popularity", "weight (1 + training interactions)^-strength: the long tail first", popularity_score),
        Mechanism("content", "weight exp(strength * z), z = standardized first-principal-component score of the "
                  "masked modality's own features", _content)):
    MECHANISMS.add(_mechanism.name, _mechanism)


def check_mechanism(name: Any, where: str) -> str:
    """The canonical mechanism name; unknown names are a ConfigError with a "did you mean" hint."""
    if str(name).lower() == "natural":
        raise ConfigError(f"{where}: 'natural' is not a mechanism to draw: the data's own gaps are the "
                          "setting 'natural' (missing.settings: [natural])")
    if name not in MECHANISMS:
        raise ConfigError(f"{where}: {MECHANISMS.unknown_message(name)}")
    return MECHANISMS.canonical(name)


def strength_value(strength: Any, where: str) -> float:
    """`strength` as a float in [0, MAX_STRENGTH] (not a bool, a string or NaN)."""
    if isinstance(strength, bool) or not isinstance(strength, Real) or not math.isfinite(strength):
        raise ConfigError(f"{where}: strength must be a number from 0 to {MAX_STRENGTH:g}, got {strength!r}")
    value = float(strength)
    if value < 0:
        raise ConfigError(f"{where}: strength {value:g} is negative; it runs from 0 (the mcar order) to "
                          f"{MAX_STRENGTH:g} (larger: the favoured items lose content first)")
    if value > MAX_STRENGTH:
        raise ConfigError(f"{where}: strength {value:g} is above the maximum {MAX_STRENGTH:g} (at "
                          f"{MAX_STRENGTH:g} the masking order is already almost deterministic)")
    return value


def check_strength(mechanism: str, strength: Any, where: str) -> float:
    """`strength_value`, and `mcar` takes none (0)."""
    value = strength_value(strength, where)
    if mechanism == "mcar" and value != 0:
        raise ConfigError(f"{where}: mechanism 'mcar' takes no strength (got {value:g}); use popularity or "
                          "content for a biased mask")
    return value


def mechanism_scores(name: str, modalities: Mapping[str, Modality],
                     train: sp.spmatrix | None = None) -> ItemScore | None:
    """The item score s_i of mechanism `name` per draw (None for `mcar`)."""
    mechanism = MECHANISMS.get(check_mechanism(name, "missing.mechanism"))
    return None if mechanism.score is None else partial(mechanism.score, MechanismInput(modalities, train))


@dataclass(frozen=True)
class MechanismChoice:
    """One entry of a study's `missing.mechanisms`: a mechanism and its strength."""

    name: str = "mcar"
    strength: float = 0.0

    @property
    def label(self) -> str:
        """The cells' `mechanism` label: 'mcar', or 'popularity:2' (name:strength)."""
        return self.name if self.name == "mcar" else f"{self.name}:{self.strength:g}"

    @classmethod
    def parse(cls, entry: Any, where: str) -> "MechanismChoice":
        """A name (`popularity`: strength DEFAULT_STRENGTH) or a {name, strength} mapping."""
        if isinstance(entry, str):
            entry = {"name": entry}
        if not isinstance(entry, Mapping):
            raise ConfigError(f"{where}: expected a mechanism name or {{name: ..., strength: ...}}, got {entry!r}")
        check_keys(entry, {"name", "strength"}, where)
        if "name" not in entry:
            raise ConfigError(f"{where}: needs a name ({', '.join(MECHANISMS.names())})")
        name = check_mechanism(entry["name"], where)
        default = 0.0 if name == "mcar" else DEFAULT_STRENGTH
        return cls(name, check_strength(name, entry.get("strength", default), f"{where} ({name})"))
