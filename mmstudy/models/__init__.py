"""Recommenders behind one registry (`MODELS`); importing this package registers them all."""
from . import bpr, freedom, lightgcn, lightgcn_m, vbpr  # noqa: F401  (registration side effects)
from .base import MODELS, Batch, ModelInput, Recommender, make_model

__all__ = ["MODELS", "Batch", "ModelInput", "Recommender", "make_model"]
