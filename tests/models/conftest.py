"""Fixtures for the model tests."""
import pytest
import torch

from model_toys import make_input
from mmstudy.models import ModelInput


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
