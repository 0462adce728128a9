"""Fixtures for the training tests."""
import pytest
import torch

from training_toys import Oracle, Scripted, make_split
from mmstudy.models.base import ModelInput


@pytest.fixture
def split():
    return make_split()


@pytest.fixture
def data(split):
    return ModelInput(split.train)


@pytest.fixture
def dense_parts(split, monkeypatch):
    """Give the oracle-style toys the dense valid/test matrices of `split`."""
    parts = {p: torch.from_numpy(getattr(split, p).toarray()) for p in ("valid", "test")}
    monkeypatch.setattr(Oracle, "parts", parts)
    monkeypatch.setattr(Scripted, "parts", parts)
    return parts
