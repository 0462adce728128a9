"""Fixtures for the schema (representation / fusion / late fusion) tests."""
import pytest
import torch

import mmstudy.models.fusion_models  # noqa: F401  (registers MF-Fusion and LightGCN-Fusion)
from mmstudy.models import ModelInput

from .toys import make_input


@pytest.fixture(autouse=True)
def single_thread():
    """Tiny problems gain nothing from intra-op threads, and shared CPUs make them thrash."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def tiny() -> ModelInput:
    return make_input()
