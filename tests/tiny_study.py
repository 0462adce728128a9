"""Tiny study specs shared by tests (importable as `tiny_study`)."""
from mmstudy.study.spec import parse_spec

TINY_DATA = {"name": "synthetic", "options": {"n_users": 200, "n_items": 150, "n_interactions": 3000, "seed": 3}}


def tiny_missing_spec(**section):
    """A small but complete missing-modality study spec on tiny synthetic data."""
    missing = {"settings": ["same"], "rates": [0.5], "strategies": ["zeros", "dropped", "propagation"],
               "reference": "zeros", "grids": {"propagation": {"hops": [1, 3]}}, "graph_k": 10}
    missing.update(section)
    return parse_spec({"name": "tiny", "question": "Does it work?", "data": TINY_DATA, "models": ["VBPR"],
                       "train": {"epochs": 3, "patience": 2, "lr": 0.01}, "seeds": [0, 1],
                       "analysis": {"min_seeds": 2}, "missing": missing}, "missing", "tiny")
