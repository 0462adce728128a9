"""Missing modalities: reproducible masks, the training co-interaction graph, imputers, homophily."""
from .graph import ItemGraph, co_interaction_graph
from .homophily import feature_homophily, modality_homophily
from .imputers import IMPUTERS, Imputer, get_imputer, resolve_strategy, strategy_names
from .masking import SETTINGS, Mask, apply_mask, make_mask

__all__ = ["IMPUTERS", "SETTINGS", "Imputer", "ItemGraph", "Mask", "apply_mask", "co_interaction_graph",
           "feature_homophily", "get_imputer", "make_mask", "modality_homophily", "resolve_strategy",
           "strategy_names"]
