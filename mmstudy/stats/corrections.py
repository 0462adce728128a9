"""Multiple-testing correction over a declared family of p-values (statsmodels `multipletests`).

Use "holm" (family-wise error control, the default) for confirmatory families and "fdr_bh"
(Benjamini-Hochberg false-discovery rate) for exploratory ones. The method is always passed to
statsmodels explicitly and reported by name next to the adjusted p-values.
"""
from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator

import numpy as np
from statsmodels.stats.multitest import multipletests

from ..errors import DataError
from ..registry import Registry

# statsmodels method name -> human-readable label
CORRECTIONS: Registry[str] = Registry("multiple-testing correction")
CORRECTIONS.add("holm", "Holm")
CORRECTIONS.add("fdr_bh", "Benjamini-Hochberg", "bh", "fdr")
CORRECTIONS.add("bonferroni", "Bonferroni")
CORRECTIONS.add("holm-sidak", "Holm-Sidak")
CORRECTIONS.add("sidak", "Sidak")
CORRECTIONS.add("hommel", "Hommel")
CORRECTIONS.add("fdr_by", "Benjamini-Yekutieli", "by")
CORRECTIONS.add("none", "uncorrected")


def correction_name(method: str) -> str:
    """Canonical statsmodels name of a correction method (raises UnknownNameError)."""
    return CORRECTIONS.canonical(method)


def correction_label(method: str) -> str:
    """Human-readable name of a correction method, e.g. "Holm", "Benjamini-Hochberg"."""
    return CORRECTIONS.get(method)


def adjust_pvalues(pvalues, method: str = "holm") -> np.ndarray:
    """Adjusted p-values for the whole family `pvalues` (same order), capped at 1.

    Raises `DataError` for NaN or out-of-range p-values: a family is declared up front and
    silently dropping members would change what is being controlled.
    """
    method = correction_name(method)
    p = np.asarray(pvalues, dtype=float).ravel()
    if p.size == 0:
        return p
    bad = ~((p >= 0) & (p <= 1))
    if bad.any():
        raise DataError(f"p-values must lie in [0, 1]; bad entries at positions "
                        f"{np.flatnonzero(bad)[:5].tolist()}")
    if method == "none":
        return p.copy()
    with _collections_cheap():
        return np.minimum(multipletests(p, method=method)[1], 1.0)


@contextmanager
def _collections_cheap() -> Iterator[None]:
    """statsmodels' Holm branch calls gc.collect() (0.2 s per family in a report's process): the
    objects alive now are frozen for its duration, unless the process froze some already (an
    outer freeze is never undone here)."""
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
