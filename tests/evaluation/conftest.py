"""Fixtures for the evaluation tests."""
import pytest

from evaluation_toys import FixedScores, distinct_scores, make_split
from mmstudy.models.base import ModelInput


@pytest.fixture
def split():
    return make_split()


@pytest.fixture
def model(split):
    return FixedScores(ModelInput(split.train), distinct_scores(*split.shape))
