"""Fixtures for the schema (representation / fusion / late fusion) tests."""
import pytest

import mmstudy.models.fusion_models  # noqa: F401  (registers MF-Fusion and LightGCN-Fusion)
from mmstudy.models import ModelInput

from .toys import make_input


@pytest.fixture
def tiny() -> ModelInput:
    return make_input()
