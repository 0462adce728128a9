"""Missing modalities: reproducible masks, the training co-interaction graph, imputers (training-free
and learned), imputation quality, homophily."""
from . import autoencoders, cross_modal  # noqa: F401  (register the learned imputers)
from .graph import ItemGraph, co_interaction_graph
from .homophily import feature_homophily, modality_homophily
from .imputers import IMPUTERS, Imputer, get_imputer, resolve_strategy, strategy_names
from .learned import ImputationContext, LearnedImputer, expected_fit_rows, training_items
from .masking import SETTINGS, Mask, apply_mask, make_mask
from .quality import imputation_quality, row_quality

__all__ = ["IMPUTERS", "SETTINGS", "ImputationContext", "Imputer", "ItemGraph", "LearnedImputer", "Mask",
           "apply_mask", "co_interaction_graph", "expected_fit_rows", "feature_homophily", "get_imputer",
           "imputation_quality", "make_mask", "modality_homophily", "resolve_strategy", "row_quality",
           "strategy_names", "training_items"]
