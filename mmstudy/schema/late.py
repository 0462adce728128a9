"""Late fusion: one recommender per modality plus an ID-only one, their scores fused at inference.

Scores are fused per user over the *candidate* items (those not already seen in the parts the
evaluated part masks: train for validation, train + valid for test):
- `normsum`: sum_m w_m norm(s_m), norm = per-user min-max or z-score over the candidates;
- `rrf`: reciprocal-rank fusion, sum_m w_m / (k + rank_m), ranks 1.. among the candidates.
Weights come from `simplex_grid` and are chosen on VALIDATION only (`select_weights`, first best
in grid order); the test part is then scored once with the chosen weights. `run_late_cell` runs a
late-fusion study cell end to end and writes the same manifest as any other cell.
"""
from __future__ import annotations

import itertools
import time
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Callable, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch

from ..errors import ConfigError
from ..hashing import fingerprint

ScoreFn = Callable[[torch.Tensor], torch.Tensor]


def simplex_grid(n: int, step: float | None) -> list[tuple[float, ...]]:
    """Weight vectors of `n` entries, multiples of `step`, summing to 1 (None: equal weights only)."""
    if n < 1:
        raise ConfigError(f"late fusion needs at least one component, got {n}")
    if step is None:
        return [tuple([1.0 / n] * n)]
    parts = round(1.0 / step) if step > 0 else 0
    if not 0 < step <= 1 or abs(parts * step - 1) > 1e-9:
        raise ConfigError(f"fusion.grid_step must divide 1 (e.g. 0.5, 0.25, 0.1), got {step}")
    grid = [c for c in itertools.product(range(parts + 1), repeat=n) if sum(c) == parts]
    return [tuple(k / parts for k in c) for c in sorted(grid, reverse=True)]


def normalise_scores(scores: torch.Tensor, candidates: torch.Tensor, norm: str) -> torch.Tensor:
    """Per-row min-max (to [0, 1]) or z-score of `scores` over the `candidates` (bool, same
    shape); non-candidates become 0. Constant rows map to 0."""
    x = torch.where(candidates, scores, torch.nan)
    if norm == "minmax":
        low = torch.where(candidates, scores, torch.inf).amin(1, keepdim=True)
        high = torch.where(candidates, scores, -torch.inf).amax(1, keepdim=True)
        span = high - low
        out = (x - low) / torch.where(span > 0, span, torch.ones_like(span))
    elif norm == "zscore":
        mean = x.nanmean(1, keepdim=True)
        std = (x - mean).pow(2).nanmean(1, keepdim=True).sqrt()
        out = (x - mean) / torch.where(std > 0, std, torch.ones_like(std))
    else:
        raise ConfigError(f"unknown score normalisation {norm!r}; expected 'minmax' or 'zscore'")
    return torch.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0)


def reciprocal_ranks(scores: torch.Tensor, candidates: torch.Tensor, k: float = 60.0) -> torch.Tensor:
    """1 / (k + rank) per row, rank 1 = the highest-scoring candidate (ties: lower item index
    first); non-candidates get 0."""
    masked = torch.where(candidates, scores, -torch.inf)
    order = torch.argsort(masked, dim=1, descending=True, stable=True)
    ranks = torch.empty_like(order)
    ranks.scatter_(1, order, torch.arange(1, scores.shape[1] + 1, device=scores.device).expand_as(order))
    return torch.where(candidates, 1.0 / (k + ranks.to(scores.dtype)), torch.zeros_like(scores))


class LateFusion:
    """Fused score functions of several components for one evaluated part.

    `exclude` (users x items) marks the items that part does not rank (already seen). The
    transformed component scores (normalised, or reciprocal ranks) are computed once and kept
    when they fit `budget_mb`, so trying many weight vectors costs one scoring pass.
    """

    def __init__(self, score_fns: Sequence[ScoreFn], exclude: sp.csr_matrix, part: str, method: str = "normsum",
                 norm: str = "minmax", rrf_k: float = 60.0, budget_mb: float = 1024):
        if method not in ("normsum", "rrf"):
            raise ConfigError(f"unknown late-fusion method {method!r}; expected 'normsum' or 'rrf'")
        self.score_fns, self.exclude, self.part = list(score_fns), sp.csr_matrix(exclude, dtype=bool), part
        self.method, self.norm, self.rrf_k = method, norm, rrf_k
        n_users, n_items = self.exclude.shape
        fits = len(self.score_fns) * n_users * n_items * 4 <= budget_mb * 2**20
        self._cache: torch.Tensor | None = self._transform(torch.arange(n_users)) if fits else None

    @classmethod
    def for_part(cls, score_fns: Sequence[ScoreFn], split, part: str, config) -> "LateFusion":
        """Fusion for `part` of `split` with a FusionConfig's method, norm and rrf_k."""
        from ..evaluation.ranking import seen_items
        return cls(score_fns, seen_items(split, part), part, config.method, config.norm, config.rrf_k)

    def _transform(self, users: torch.Tensor) -> torch.Tensor:
        """(components x users x items) normalised scores or reciprocal ranks."""
        candidates = torch.from_numpy(~self.exclude[users.cpu().numpy()].toarray())
        out = []
        with torch.no_grad():
            for score in self.score_fns:
                s = score(users).detach().float().cpu()
                out.append(reciprocal_ranks(s, candidates, self.rrf_k) if self.method == "rrf"
                           else normalise_scores(s, candidates, self.norm))
        return torch.stack(out)

    def components(self, users: torch.Tensor) -> torch.Tensor:
        users = users.cpu()
        return self._cache[:, users] if self._cache is not None else self._transform(users)

    def scorer(self, weights: Sequence[float]) -> ScoreFn:
        """The fused score function for these component weights."""
        if len(weights) != len(self.score_fns):
            raise ConfigError(f"{len(weights)} weights for {len(self.score_fns)} late-fusion components")
        w = torch.tensor(weights, dtype=torch.float32)
        return lambda users: torch.einsum("m,mbn->bn", w, self.components(users))


def select_weights(fusion: LateFusion, split, metric: str, grid: Sequence[Sequence[float]]
                   ) -> tuple[tuple[float, ...], float, list[tuple[tuple[float, ...], float]]]:
    """(best weights, their validation score, every (weights, score)): the first best of `grid`
    on the VALIDATION part; refuses a fusion built for any other part."""
    from ..evaluation import evaluate_metric

    if fusion.part != "valid":
        raise ConfigError(f"late-fusion weights are selected on validation, not on {fusion.part!r}")
    trials = [(tuple(w), evaluate_metric(fusion.scorer(w), split, metric, "valid")) for w in grid]
    best = max(range(len(trials)), key=lambda i: (trials[i][1], -i))
    return trials[best][0], trials[best][1], trials


# --- components -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Component:
    """One late-fusion member: `label` ('id' or a modality), its model, params and modalities."""

    label: str
    model: str
    params: dict
    modalities: tuple[str, ...]


def component_plan(model: str, params: dict, content_only: bool, modalities: Sequence[str]) -> list[Component]:
    """The ID-only counterpart of `model` plus `model` on each modality alone."""
    from ..models import MODELS

    cls = MODELS.get(model)
    if not cls.multimodal or cls.cf_counterpart is None:
        raise ConfigError(f"late fusion needs a multimodal model with an ID-only counterpart; {model!r} has none")
    if not modalities:
        raise ConfigError("late fusion needs a dataset with at least one modality")
    cf = MODELS.get(cls.cf_counterpart)
    own = dict(params)
    if content_only:
        if "id_embedding" not in cls.defaults:
            raise ConfigError(f"fusion.content_only: model {model!r} has no 'id_embedding' switch; use a fusion "
                              "backbone (MF-Fusion, LightGCN-Fusion) or content_only: false")
        own["id_embedding"] = False
    id_params = {k: v for k, v in params.items() if k in cf.defaults}
    ids = Component("id", MODELS.canonical(cls.cf_counterpart), id_params, ())
    return [ids] + [Component(m, MODELS.canonical(model), own, (m,)) for m in modalities]


@dataclass
class TrainedComponent:
    component: Component
    model: torch.nn.Module
    summary: dict
    curve: pd.DataFrame

    def score(self, users: torch.Tensor) -> torch.Tensor:
        device = next(self.model.parameters()).device
        return self.model.score(users.to(device))


_TRAINED: OrderedDict[str, tuple] = OrderedDict()  # per process: trained components by content key
_TRAINED_MAX = 24


def train_component(comp: Component, handled, cell, train_cfg, device: str, ws, progress: bool = False
                    ) -> TrainedComponent:
    """Train `comp` on its modalities (grid of `cell.grid` keys it knows, chosen on validation).

    Training is deterministic in the seed, so a component already trained in this process on the
    same content (model, params, grid, budget, seed, split, features) is restored, not retrained.
    """
    from ..models import MODELS, make_model
    from ..study.pipeline import grid_points, model_input
    from ..training import fit

    known = MODELS.get(comp.model).defaults
    grid = {k: v for k, v in dict(cell.grid).items() if k in known}
    data = model_input(replace(handled, modalities={m: handled.modalities[m] for m in comp.modalities}),
                       cell.seed, device, ws.derived)
    key = fingerprint({"model": comp.model, "params": comp.params, "grid": grid, "train": train_cfg.as_dict(),
                       "split": handled.split.checksum, "features": sorted(data.feature_keys.items())})
    if key in _TRAINED:
        _TRAINED.move_to_end(key)
        state, summary, curve = _TRAINED[key]
        model = make_model(comp.model, data, **summary["selected_params"])
        model.load_state_dict(state)
        return TrainedComponent(comp, model.eval(), {**summary, "reused": True}, curve)
    best = None
    trials = []
    for params in grid_points(grid):
        model = make_model(comp.model, data, **{**comp.params, **params})
        result = fit(model, handled.split, **train_cfg.as_dict(), progress=progress)
        trials.append({"params": params, "valid": result.best_valid, "best_epoch": result.best_epoch})
        if best is None or result.best_valid > best[1].best_valid:
            best = (model, result, {**comp.params, **params})
    model, result, selected = best
    summary = {"label": comp.label, "model": comp.model, "modalities": list(comp.modalities),
               "selected_params": selected, "trials": trials, "best_valid": result.best_valid,
               "best_epoch": result.best_epoch, "epochs_run": result.epochs_run,
               "train_seconds": result.train_seconds, "mean_epoch_seconds": result.mean_epoch_seconds,
               "mean_valid_seconds": result.mean_valid_seconds, "n_parameters": model.n_parameters()}
    curve = pd.DataFrame(result.curve).assign(component=comp.label)
    _TRAINED[key] = ({k: v.detach().cpu().clone() for k, v in model.state_dict().items()}, summary, curve)
    while len(_TRAINED) > _TRAINED_MAX:
        _TRAINED.popitem(last=False)
    return TrainedComponent(comp, model.eval(), {**summary, "reused": False}, curve)


class FusedComponents:
    """The trained components seen as one system (what a cell manifest records as its model)."""

    cf_counterpart = None

    def __init__(self, trained: Sequence[TrainedComponent]):
        self.trained = list(trained)

    def n_parameters(self) -> int:
        return int(sum(t.summary["n_parameters"] for t in self.trained))


def run_late_cell(cell, fusion, ws, device: str = "cpu", progress: bool = False):
    """Train the components, choose fusion weights on validation, score the test part once."""
    from ..evaluation import evaluate
    from ..missing.handling import handle_missing
    from ..study.pipeline import CellOutcome, grid_points
    from ..training import TrainConfig

    started = time.time()
    dataset = ws.dataset(cell.data, device)
    split = ws.split(dataset, cell.data)
    train_cfg = TrainConfig.from_dict({**dict(cell.train), "seed": cell.seed, "device": device})
    plan = component_plan(cell.model, dict(cell.params), fusion.content_only, list(dataset.modalities))
    labels = [c.label for c in plan]
    grid = simplex_grid(len(plan), fusion.grid_step)
    trials, best = [], None
    for imp_params in grid_points(cell.missing.grid):
        handled = handle_missing(dataset.modalities, split, cell.missing, {**cell.missing.params, **imp_params},
                                 graph_cache=ws.graphs)
        trained = [train_component(c, handled, cell, train_cfg, device, ws, progress) for c in plan]
        valid_fusion = LateFusion.for_part([t.score for t in trained], handled.split, "valid", fusion)
        weights, valid, scored = select_weights(valid_fusion, handled.split, train_cfg.valid_metric, grid)
        trials += [{"params": {}, "imputer_params": imp_params, "fusion_weights": dict(zip(labels, w)), "valid": v}
                   for w, v in scored]
        if best is None or valid > best[0]:
            best = (valid, trained, handled, imp_params, weights)
    valid, trained, handled, imp_params, weights = best
    test_fusion = LateFusion.for_part([t.score for t in trained], handled.split, "test", fusion)
    test = evaluate(test_fusion.scorer(weights), handled.split, "test", cutoffs=cell.cutoffs)  # the one test pass
    manifest = _late_manifest(cell, dataset, split, handled, trained, test, trials, imp_params, valid,
                              train_cfg.valid_metric, device, time.time() - started)
    manifest["selection"]["selected_fusion_weights"] = dict(zip(labels, weights))
    curves = pd.concat([t.curve for t in trained], ignore_index=True)
    return CellOutcome(test.per_user, manifest, {"valid_curve": curves})


def _late_manifest(cell, dataset, split, handled, trained, test, trials, imp_params, valid, metric, device,
                   seconds) -> dict:
    """The common cell manifest, with the components' training summed and listed."""
    from ..study.pipeline import _manifest  # the one manifest layout every cell shares
    from ..training.loop import FitResult

    summaries = [t.summary for t in trained]
    epochs = sum(s["epochs_run"] for s in summaries)
    epoch_seconds = sum(s["mean_epoch_seconds"] * s["epochs_run"] for s in summaries)
    fit = FitResult(best_epoch=0, best_valid=valid, valid_metric=metric, epochs_run=epochs,
                    train_seconds=sum(s["train_seconds"] for s in summaries),
                    mean_epoch_seconds=epoch_seconds / max(1, epochs),
                    mean_valid_seconds=float(np.mean([s["mean_valid_seconds"] for s in summaries])))
    manifest = _manifest(cell, dataset, split, handled, FusedComponents(trained), fit, test, trials, imp_params, {},
                         device, seconds)
    manifest["selection"]["best_epoch"] = {s["label"]: s["best_epoch"] for s in summaries}
    manifest["test"]["evaluations"] = 1
    manifest["fusion"] = {"point": "late", "components": summaries,
                          "note": "components selected on validation (early stopping, grid); fusion weights "
                                  "chosen on validation over selection.trials; test scored once, fused"}
    return manifest
