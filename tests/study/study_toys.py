"""Tiny study cells shared by the runner, resume, Ray, store and plan tests (each < 1 s to run)."""
from __future__ import annotations

import pandas as pd

from mmstudy.study.cell import Cell, DataConfig, MissingConfig
from mmstudy.study.store import ResultStore

TINY_DATA = DataConfig(name="synthetic", options={"n_users": 200, "n_items": 150, "n_interactions": 3000})


def tiny_cell(model: str = "BPR-MF", seed: int = 0, strategy: str | None = None, **changes) -> Cell:
    """A cell that trains two epochs on the tiny synthetic dataset."""
    missing = MissingConfig(setting="same", rate=0.5, strategy=strategy) if strategy else MissingConfig()
    labels = {"model": model, "seed": seed, **({"strategy": strategy} if strategy else {})}
    return Cell(data=TINY_DATA, model=model, train={"epochs": 2, "batch_size": 512}, missing=missing,
                seed=seed, cutoffs=(10, 20), labels=labels, **changes)


def tiny_cells() -> list[Cell]:
    """Four cells: VBPR with mean imputation and BPR-MF, two seeds each."""
    return [tiny_cell("VBPR", s, "mean") for s in (0, 1)] + [tiny_cell("BPR-MF", s) for s in (0, 1)]


def per_user_tables(folder, cells) -> dict[str, pd.DataFrame]:
    store = ResultStore(folder)
    return {c.fingerprint: store.load(c.fingerprint)[0] for c in cells}


def assert_same_tables(left: dict, right: dict) -> None:
    assert left.keys() == right.keys()
    for fp in left:
        pd.testing.assert_frame_equal(left[fp], right[fp], check_exact=True)
