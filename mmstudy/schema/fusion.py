"""Fusion operators, the fusion points, and a cell's fusion configuration.

- Operators combine M per-modality item vectors (each n x d): `concat` (n x M d), `sum`,
  `mean`, `product` (element-wise) and `attention` (softmax over modalities of a learned score,
  per item or one global weight per modality). Registry: `OPERATORS`.
- Fusion points: `early` (one fused content vector per item before the recommender),
  `intermediate` (the model projects each modality and fuses inside), `late` (one recommender per
  modality plus an ID-only one, scores fused at inference; see `schema.late`).
- `FusionConfig`: a cell's `fusion` block, parsed and checked per point; `transform` applies
  early fusion to handled data, `model_params` gives intermediate settings to the model.
"""
from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any, ClassVar, Mapping

import numpy as np
import torch
from torch import nn

from ..config import check_keys, from_mapping
from ..errors import ConfigError
from ..registry import Registry

POINTS = Registry("fusion point")
for _point in ("early", "intermediate", "late"):
    POINTS.add(_point, _point)

OPERATORS: Registry[type["FusionOperator"]] = Registry("fusion operator")
ATTENTION_SCOPES = ("item", "global")


class FusionOperator(nn.Module):
    """Fuses a list of M (n x dim) tensors into one (n x output_dim) tensor."""

    name: ClassVar[str] = ""

    def __init__(self, dim: int, n_modalities: int, **options: Any):
        super().__init__()
        if dim < 1 or n_modalities < 1:
            raise ConfigError(f"fusion operator {self.name!r} needs dim >= 1 and >= 1 modality, "
                              f"got dim={dim}, {n_modalities} modalities")
        self.dim, self.n_modalities = dim, n_modalities

    @property
    def output_dim(self) -> int:
        return self.dim

    def forward(self, embeddings: list[torch.Tensor]) -> torch.Tensor:
        if len(embeddings) != self.n_modalities:
            raise ValueError(f"{self.name} fusion built for {self.n_modalities} modalities got {len(embeddings)}")
        return self.fuse(embeddings)

    def fuse(self, embeddings: list[torch.Tensor]) -> torch.Tensor:
        raise NotImplementedError


@OPERATORS.register("concat", "concatenate", "cat")
class ConcatFusion(FusionOperator):
    """[e_1; ...; e_M]: keeps every modality's coordinates (output M * dim)."""

    name = "concat"

    @property
    def output_dim(self) -> int:
        return self.dim * self.n_modalities

    def fuse(self, embeddings):
        return torch.cat(embeddings, dim=1)


@OPERATORS.register("sum", "add")
class SumFusion(FusionOperator):
    """e_1 + ... + e_M."""

    name = "sum"

    def fuse(self, embeddings):
        return torch.stack(embeddings).sum(0)


@OPERATORS.register("mean", "average", "avg")
class MeanFusion(FusionOperator):
    """(e_1 + ... + e_M) / M."""

    name = "mean"

    def fuse(self, embeddings):
        return torch.stack(embeddings).mean(0)


@OPERATORS.register("product", "prod", "hadamard", "multiply")
class ProductFusion(FusionOperator):
    """e_1 * ... * e_M, element-wise (a multiplicative interaction of the modalities)."""

    name = "product"

    def fuse(self, embeddings):
        return torch.stack(embeddings).prod(0)


@OPERATORS.register("attention", "gating", "gate", "attn")
class AttentionFusion(FusionOperator):
    """sum_m a_m e_m with a = softmax over modalities of a learned score.

    scope "item": a_{i,m} = softmax_m(v^T tanh(W e_{i,m} + b)) (W, v shared by modalities);
    scope "global": a_m = softmax(w) with one learned logit per modality (zero-initialised, so
    training starts from the mean).
    """

    name = "attention"

    def __init__(self, dim: int, n_modalities: int, scope: str = "item"):
        super().__init__(dim, n_modalities)
        if scope not in ATTENTION_SCOPES:
            raise ConfigError(f"attention scope must be one of {ATTENTION_SCOPES}, got {scope!r}")
        self.scope = scope
        if scope == "item":
            self.hidden = nn.Linear(dim, dim)
            self.query = nn.Linear(dim, 1, bias=False)
        else:
            self.logits = nn.Parameter(torch.zeros(n_modalities))

    def weights(self, embeddings: list[torch.Tensor]) -> torch.Tensor:
        """Attention weights, (n x M); every row sums to 1."""
        if self.scope == "global":
            return torch.softmax(self.logits, 0).expand(len(embeddings[0]), -1)
        stacked = torch.stack(embeddings, dim=1)  # n x M x dim
        return torch.softmax(self.query(torch.tanh(self.hidden(stacked))).squeeze(-1), dim=1)

    def fuse(self, embeddings):
        return (self.weights(embeddings).unsqueeze(-1) * torch.stack(embeddings, dim=1)).sum(1)


def make_operator(name: str, dim: int, n_modalities: int, attention: str = "item") -> FusionOperator:
    """A fusion operator by (case-insensitive) name; unknown names suggest close ones."""
    cls = OPERATORS.get(name)
    return cls(dim, n_modalities, scope=attention) if cls is AttentionFusion else cls(dim, n_modalities)


# --- early fusion: one content vector per item --------------------------------------------------
EARLY_OPERATORS = ("concat", "mean")


def _unit_rows(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm (all-zero rows, e.g. missing content, stay zero)."""
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)


def early_fuse(features: list[np.ndarray], operator: str, seed: int = 0) -> np.ndarray:
    """One (n_items x d) matrix from per-modality features, each first L2-normalised per row.

    concat: [x_1; ...; x_M]. mean: the average of the rows, after mapping modalities of unequal
    dimension to the smallest one with a fixed Gaussian random projection (Johnson-Lindenstrauss,
    seeded, no fitting: nothing is learned from the data).
    """
    canonical = OPERATORS.canonical(operator)
    if canonical not in EARLY_OPERATORS:
        raise ConfigError(f"early fusion supports operators {EARLY_OPERATORS}, got {operator!r}")
    units = [_unit_rows(np.asarray(f, dtype=np.float32)) for f in features]
    if canonical == "concat":
        return np.concatenate(units, axis=1)
    dim = min(u.shape[1] for u in units)
    rng = np.random.default_rng(seed)
    mapped = [u if u.shape[1] == dim else
              u @ rng.standard_normal((u.shape[1], dim)).astype(np.float32) / np.float32(np.sqrt(dim))
              for u in units]
    return np.mean(mapped, axis=0).astype(np.float32)


# --- a cell's fusion block ----------------------------------------------------------------------
LATE_METHODS = ("normsum", "rrf")
NORMALISATIONS = ("minmax", "zscore")
_KEYS = {
    "early": {"point", "operator", "seed"},
    "intermediate": {"point", "representation", "operator", "attention", "align_weight", "temperature"},
    "late": {"point", "method", "norm", "grid_step", "rrf_k", "content_only"},
}
MODEL_PARAMS = ("representation", "operator", "attention", "align_weight", "temperature")


@dataclass(frozen=True)
class FusionConfig:
    """Where and how modalities are fused; only the keys of the chosen `point` may be given.

    early: operator (concat | mean), seed (of the random projection of `mean`).
    intermediate: representation (joint | coordinated), operator, attention (item | global),
      align_weight (InfoNCE between modality projections, coordinated only), temperature.
    late: method (normsum | rrf), norm (minmax | zscore, per user over unseen items), grid_step
      (weights searched on validation over the simplex in steps of this size; null = equal
      weights), rrf_k, content_only (per-modality models without ID embeddings).
    """

    point: str = "intermediate"
    operator: str = "concat"
    seed: int = 0
    representation: str = "joint"
    attention: str = "item"
    align_weight: float = 0.0
    temperature: float = 0.2
    method: str = "normsum"
    norm: str = "minmax"
    grid_step: float | None = 0.25
    rrf_k: float = 60.0
    content_only: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "point", POINTS.canonical(self.point))
        object.__setattr__(self, "operator", OPERATORS.canonical(self.operator))
        if self.point == "early" and self.operator not in EARLY_OPERATORS:
            raise ConfigError(f"fusion.operator: early fusion supports {EARLY_OPERATORS}, got {self.operator!r}")
        from .representation import REPRESENTATIONS
        object.__setattr__(self, "representation", REPRESENTATIONS.canonical(self.representation))
        _choice("attention", self.attention, ATTENTION_SCOPES)
        _choice("method", self.method, LATE_METHODS)
        _choice("norm", self.norm, NORMALISATIONS)
        if self.align_weight < 0 or self.temperature <= 0 or self.rrf_k < 0:
            raise ConfigError("fusion: align_weight and rrf_k must be >= 0 and temperature > 0, got "
                              f"{self.align_weight}, {self.rrf_k}, {self.temperature}")
        if self.point == "intermediate" and self.representation == "joint" and self.operator != "concat":
            raise ConfigError(f"fusion.operator {self.operator!r}: a joint representation fuses by concatenating "
                              "features before its one projection; operators apply to 'coordinated'")
        if self.grid_step is not None:
            from .late import simplex_grid
            simplex_grid(2, self.grid_step)  # checks the step

    @classmethod
    def parse(cls, mapping: Mapping[str, Any] | None, where: str = "fusion") -> "FusionConfig | None":
        """The config of a cell's `fusion` mapping (None when empty: the cell fuses nothing)."""
        if not mapping:
            return None
        mapping = dict(mapping)
        check_keys(mapping, set().union(*_KEYS.values()), where)
        if "point" not in mapping:
            raise ConfigError(f"{where}: missing required key 'point' (early, intermediate or late)")
        point = POINTS.canonical(mapping["point"])
        check_keys(mapping, _KEYS[point], f"{where} (point {point!r})")
        return from_mapping(cls, {**mapping, "point": point}, where)

    def to_mapping(self) -> dict[str, Any]:
        """The keys of this point with their (canonical) values: what a cell stores."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name in _KEYS[self.point]}

    def model_params(self) -> dict[str, Any]:
        """Hyper-parameters an intermediate-fusion model receives ({} for other points)."""
        return {k: getattr(self, k) for k in MODEL_PARAMS} if self.point == "intermediate" else {}

    def transform(self, handled):
        """Early fusion of handled data: its modalities become one modality 'fused'; other points
        return `handled` unchanged."""
        if self.point != "early" or not handled.modalities:
            return handled
        from ..data.modality import Modality

        mods = handled.modalities
        names = list(mods)
        present = np.logical_or.reduce([mods[n].present for n in names])
        fused = Modality("fused", "other", early_fuse([mods[n].features for n in names], self.operator, self.seed),
                         present, source=f"early fusion: {self.operator}({', '.join(names)}) of L2-normalised rows",
                         info={"fused_from": names, "operator": self.operator})
        return replace(handled, modalities={"fused": fused})


def _choice(key: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        import difflib
        close = difflib.get_close_matches(str(value), allowed, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ConfigError(f"fusion.{key}: unknown value {value!r}.{hint} Expected one of {allowed}")
