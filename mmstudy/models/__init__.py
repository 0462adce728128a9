"""Recommenders behind one registry (`MODELS`); importing this package registers them all."""
from .base import MODELS, Batch, ModelInput, Recommender, make_model

__all__ = ["MODELS", "Batch", "ModelInput", "Recommender", "make_model"]
