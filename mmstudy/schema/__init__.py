"""Multimodal schema: how item content is represented (joint vs coordinated) and where and how
modalities are fused (early / intermediate / late; concat, sum, mean, product, attention)."""
from .fusion import (EARLY_OPERATORS, OPERATORS, POINTS, AttentionFusion, FusionConfig, FusionOperator, early_fuse,
                     make_operator)
from .late import LateFusion, normalise_scores, reciprocal_ranks, select_weights, simplex_grid
from .representation import REPRESENTATIONS, CoordinatedRepresentation, JointRepresentation, info_nce

__all__ = ["EARLY_OPERATORS", "OPERATORS", "POINTS", "REPRESENTATIONS", "AttentionFusion", "CoordinatedRepresentation",
           "FusionConfig", "FusionOperator", "JointRepresentation", "LateFusion", "early_fuse", "info_nce",
           "make_operator", "normalise_scores", "reciprocal_ranks", "select_weights", "simplex_grid"]
