"""Apply a missing-modality setting and strategy to a dataset's modalities and split.

The mask is drawn on the full catalogue from (setting, rate, mask seed) alone, so every strategy
and model compared at the same (rate, seed) sees identical masks. `dropped` removes items that
miss any modality (with their interactions) from the split; imputers fill masked rows using a
co-interaction graph built from the training interactions only; learned imputers fit on the
training-observed rows only (`learned`). Synthetically masked rows are scored against their truth
(`quality`); `modality_dropout` also asks the model to drop content rows while it trains.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from ..data.modality import Modality
from ..data.split import PARTS, Split
from ..errors import ConfigError


@dataclass
class HandledData:
    """Modalities and split after masking and handling, plus what happened (for the manifest)."""

    modalities: dict[str, Modality]
    split: Split
    kept_items: np.ndarray | None = None  # catalogue indices kept by `dropped` (None: all kept)
    info: dict = field(default_factory=dict)
    complete_items: np.ndarray | None = None  # catalogue indices with every modality after masking
    content_dropout: float = 0.0  # share of content rows the model drops per training epoch (modality_dropout)


def missing_items(modalities: dict[str, Modality]) -> np.ndarray:
    """Boolean per item: True when the item lacks at least one modality."""
    n = next(iter(modalities.values())).n_items
    out = np.zeros(n, dtype=bool)
    for mod in modalities.values():
        out |= ~mod.present
    return out


def restrict_items(split: Split, keep: np.ndarray) -> Split:
    """The split with only the item columns in `keep` (user indices unchanged)."""
    parts = {p: sp.csr_matrix(getattr(split, p)[:, keep]) for p in PARTS}
    return Split(**parts, method=split.method, seed=split.seed,
                 info={**split.info, "restricted_items": int(len(keep))})


def dropped_losses(split: Split, kept: Split, n_items: int) -> dict:
    """What `dropped` lost: items, interactions per part, and users left without train or test."""
    def users(m: sp.csr_matrix) -> np.ndarray:
        return np.diff(m.indptr) > 0

    out = {"items_lost": int(n_items - kept.shape[1])}
    for part in PARTS:
        out[f"{part}_interactions_lost"] = int(getattr(split, part).nnz - getattr(kept, part).nnz)
    out["users_lost_train"] = int((users(split.train) & ~users(kept.train)).sum())
    out["users_lost_test"] = int((users(split.test) & ~users(kept.test)).sum())
    out["test_users_evaluable_lost"] = int(len(split.eval_users("test")) - len(kept.eval_users("test")))
    return out


def mask_for(modalities: dict[str, Modality], cfg, split: Split | None = None) -> "object | None":
    """Draw the cell's mask (None for setting 'none'); its mechanism may read `split`'s training part
    (`popularity`) or the modalities' own features (`content`)."""
    from .masking import make_mask
    from .mechanisms import mechanism_scores

    if cfg.setting == "none":
        return None
    natural = {k: m.present for k, m in modalities.items()} if cfg.natural or cfg.setting == "natural" else None
    n_items = next(iter(modalities.values())).n_items
    rate = 0.0 if cfg.setting == "natural" else cfg.rate
    setting = "single" if cfg.setting == "natural" else cfg.setting
    target = cfg.target if cfg.target is not None else (next(iter(modalities)) if setting == "single" else None)
    score = mechanism_scores(cfg.mechanism, modalities, split.train if split is not None else None)
    return make_mask(n_items, list(modalities), rate=rate, setting=setting, target=target,
                     seed=cfg.mask_seed, natural=natural, mechanism=cfg.mechanism, strength=cfg.strength, score=score)


def handle_missing(modalities: dict[str, Modality], split: Split, cfg, params: dict,
                   graph_cache=None) -> HandledData:
    """Mask, then drop or impute according to `cfg` (a MissingConfig) with the imputer settings
    `cfg.params` updated by `params` (e.g. one grid point)."""
    from .homophily import modality_homophily
    from .imputers import get_imputer
    from .learned import ImputationContext, expected_fit_rows
    from .masking import apply_mask
    from .profile import mask_record
    from .quality import imputation_quality

    if not modalities:  # a CF model: masks and imputers do not touch it
        note = "the model reads no modality: masking does not apply" if cfg.setting != "none" else ""
        return HandledData({}, split, info={"note": note} if note else {})
    mask = mask_for(modalities, cfg, split)
    masked = apply_mask(modalities, mask) if mask is not None else dict(modalities)
    info = {"setting": cfg.setting, "rate": cfg.rate, "strategy": cfg.strategy,
            "mask_checksum": mask.checksum if mask is not None else None, **mask_record(mask, split.train),
            "natural_missing": {k: int((~m.present).sum()) for k, m in modalities.items()},
            "missing_items": {k: int((~m.present).sum()) for k, m in masked.items()}}
    keep = np.flatnonzero(~missing_items(masked))
    if cfg.strategy.lower() == "dropped":
        if len(keep) == 0:
            raise ConfigError(f"strategy 'dropped' removes every item at rate {cfg.rate}")
        kept = restrict_items(split, keep)
        info["dropped"] = dropped_losses(split, kept, split.shape[1])
        return HandledData({k: m.subset(keep) for k, m in masked.items()}, kept, keep, info, keep)
    params = {**dict(getattr(cfg, "params", None) or {}), **params}
    imputer = get_imputer(cfg.strategy, **params)
    graph = None
    if getattr(imputer, "needs_graph", False) and any((~m.present).any() for m in masked.values()):
        graph = _graph(split.train, cfg.graph_k, graph_cache)
        info["graph"] = {"k": cfg.graph_k, "isolated_items": int(graph.n_isolated),
                         "built_from": "train", "train_checksum": graph.train_checksum}
        info["homophily"] = modality_homophily(masked, graph)
    rng = np.random.default_rng([cfg.mask_seed, 7919])
    context = ImputationContext(masked, split.train, seed=cfg.mask_seed) if imputer.needs_context else None
    filled = {}
    for name, mod in masked.items():
        filled[name] = imputer.impute(mod, graph, rng, context=context) if (~mod.present).any() else mod
    info["imputation"] = {k: {key: v for key, v in m.info.items() if key.startswith(("imput", "fit")) or key in
                              ("fallback_items", "params")} for k, m in filled.items()}
    info["imputer_params"] = dict(params)
    if context is not None:  # what a learned imputer must have fitted on, from the mask and train part alone
        info["expected_fit_rows"] = expected_fit_rows(modalities, mask.missing if mask is not None else None,
                                                      split.train)
    if mask is not None:  # the truth of synthetically masked rows is known: score the imputation
        info["quality"] = imputation_quality(modalities, filled, {k: mask.synthetic(k) for k in mask.missing})
    if imputer.content_dropout:
        info["content_dropout"] = imputer.content_dropout
    return HandledData(filled, split, None, info, keep, content_dropout=imputer.content_dropout)


def _graph(train: sp.csr_matrix, k: int, cache: dict | None):
    from ..hashing import array_sha256
    from .graph import co_interaction_graph

    key = (array_sha256(train), k)
    if cache is not None and key in cache:
        return cache[key]
    graph = co_interaction_graph(train, k=k)
    if cache is not None:
        cache[key] = graph
    return graph
