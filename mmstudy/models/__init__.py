"""Recommenders behind one registry (`MODELS`); importing this package registers them all."""
from . import (bm3, bpr, freedom, fusion_models, grcn, lattice, lightgcn, lightgcn_m,  # noqa: F401
               mgcn, mmgcn, ngcf, vbpr)  # (registration side effects)
from .base import MODELS, Batch, ModelInput, Recommender, make_model

__all__ = ["MODELS", "Batch", "ModelInput", "Recommender", "make_model"]
