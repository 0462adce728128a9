"""Fixtures for the model tests."""
import pytest

from model_toys import make_input
from mmstudy.models import ModelInput


@pytest.fixture
def tiny() -> ModelInput:
    return make_input()
