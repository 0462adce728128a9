"""The one interface every recommender implements, and the inputs it is built from."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn

from ..errors import ConfigError
from ..hashing import fingerprint
from ..registry import Registry
from ..schema.content_dropout import configure_content_dropout

MODELS: Registry[type["Recommender"]] = Registry("model")


@dataclass
class ModelInput:
    """Everything a model may read: training interactions and item features, nothing else.

    `features[name]` is a float32 (n_items x d) tensor whose missing rows (present False) were
    already filled by the chosen missing-modality strategy (zeros by default). Models never see
    validation or test interactions. `feature_keys[name]` is the content hash of features+mask,
    used to key derived structures (kNN graphs) in `cache`.
    """

    train: sp.csr_matrix
    features: dict[str, torch.Tensor] = field(default_factory=dict)
    present: dict[str, torch.Tensor] = field(default_factory=dict)
    feature_keys: dict[str, str] = field(default_factory=dict)
    device: torch.device = torch.device("cpu")
    seed: int = 0
    cache: Any = None  # a mmstudy.models.cache.DerivedCache, or None for no caching
    content_dropout: float = 0.0  # share of content rows dropped per training epoch (modality_dropout)

    @property
    def n_users(self) -> int:
        return int(self.train.shape[0])

    @property
    def n_items(self) -> int:
        return int(self.train.shape[1])

    @property
    def modality_names(self) -> list[str]:
        return list(self.features)


@dataclass
class Batch:
    """A training batch of (user, positive item, sampled negative item) index triples."""

    users: torch.Tensor
    pos: torch.Tensor
    neg: torch.Tensor


class Recommender(nn.Module):
    """Base class: subclasses set `defaults`, build parameters in `__init__`, implement `loss`
    and `representations` (or override `score`).

    Contract with training/evaluation:
    - `loss(batch)` returns a scalar for one mini-batch (regularisation included);
    - `on_epoch_start(epoch, generator)` may resample structures (e.g. edge dropout);
    - `prepare_eval()` is called once under `torch.no_grad()` before a full-ranking pass and
      caches whatever `score` needs (e.g. propagated embeddings);
    - `score(users)` returns a (len(users) x n_items) tensor of scores.
    """

    defaults: ClassVar[dict[str, Any]] = {}
    multimodal: ClassVar[bool] = False
    uses_negatives: ClassVar[bool] = True
    min_modalities: ClassVar[int] = 0
    cf_counterpart: ClassVar[str | None] = None  # e.g. VBPR -> "BPR-MF" (multimodal gain over CF)

    def __init__(self, data: ModelInput, **params: Any):
        super().__init__()
        self.params = self.resolve_params(params)
        if self.multimodal and len(data.features) < max(1, self.min_modalities):
            raise ConfigError(f"model {type(self).__name__} needs at least {max(1, self.min_modalities)} "
                              f"modality feature matrix, got {len(data.features)}")
        self.n_users, self.n_items = data.n_users, data.n_items
        self.device_ = data.device
        self._eval_cache: tuple[torch.Tensor, torch.Tensor] | None = None

    @classmethod
    def resolve_params(cls, params: dict[str, Any]) -> dict[str, Any]:
        """Merge `params` into `defaults`; unknown keys raise a ConfigError naming them."""
        unknown = sorted(set(params) - set(cls.defaults))
        if unknown:
            import difflib
            close = difflib.get_close_matches(unknown[0], list(cls.defaults), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ConfigError(f"unknown hyper-parameter {unknown[0]!r} for model {cls.__name__}.{hint} "
                              f"Known: {sorted(cls.defaults)}")
        out = dict(cls.defaults)
        for key, value in params.items():
            default = cls.defaults[key]
            if isinstance(default, bool) or default is None:
                out[key] = value
            elif isinstance(default, (int, float)) and not isinstance(value, bool):
                out[key] = type(default)(value) if not (isinstance(default, int) and isinstance(value, float)
                                                        and not value.is_integer()) else value
            else:
                out[key] = value
        return out

    def param_fingerprint(self) -> str:
        return fingerprint({"model": type(self).__name__, "params": self.params})

    # --- training -----------------------------------------------------------------------------
    def loss(self, batch: Batch) -> torch.Tensor:
        raise NotImplementedError

    def on_epoch_start(self, epoch: int, generator: torch.Generator) -> None:
        """Hook called before each training epoch (default: nothing)."""

    # --- evaluation ---------------------------------------------------------------------------
    def representations(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(user embeddings, item embeddings) whose dot product is the score."""
        raise NotImplementedError

    def prepare_eval(self) -> None:
        self._eval_cache = self.representations()

    def train(self, mode: bool = True) -> "Recommender":
        if mode:
            self._eval_cache = None  # parameters will change: cached representations are stale
        return super().train(mode)

    def score(self, users: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        """Scores of `users` for every item (len(users) x n_items), written into `out` when given
        (full-ranking evaluation reuses one block instead of allocating one per user batch)."""
        if self._eval_cache is None:
            self.prepare_eval()
        user_emb, item_emb = self._eval_cache
        return torch.mm(user_emb[users], item_emb.T, out=out)

    def n_parameters(self) -> int:
        return int(sum(p.numel() for p in self.parameters() if p.requires_grad))


def bpr_loss(pos_scores: torch.Tensor, neg_scores: torch.Tensor) -> torch.Tensor:
    """Bayesian personalised ranking loss: mean of -log sigmoid(pos - neg)."""
    return -torch.nn.functional.logsigmoid(pos_scores - neg_scores).mean()


def l2_reg(*tensors: torch.Tensor) -> torch.Tensor:
    """Sum of squared L2 norms divided by the batch size of the first tensor (MMRec/LightGCN style)."""
    return sum(t.pow(2).sum() for t in tensors) / max(1, tensors[0].shape[0])


def make_model(name: str, data: ModelInput, **params: Any) -> Recommender:
    """Instantiate a registered model by (case-insensitive) name."""
    cls = MODELS.get(name)
    with torch.random.fork_rng(devices=[]):  # deterministic initialisation, global RNG untouched
        torch.manual_seed(data.seed)
        model = cls(data, **params).to(data.device)
    if data.content_dropout:  # robustness training: every content module drops rows while training
        widths = [int(f.shape[1]) for f in data.features.values()]
        if not configure_content_dropout(model, data.content_dropout, widths, data.seed) and cls.multimodal:
            raise ConfigError(f"content dropout (strategy 'modality_dropout') needs model {cls.__name__}'s content "
                              "to pass through a ContentDropout module (e.g. FeatureProjection); it has none")
    return model


def dense_features(data: ModelInput, names: list[str] | None = None) -> list[torch.Tensor]:
    """The feature tensors of the named modalities (all, by default), in a fixed order."""
    names = data.modality_names if names is None else names
    return [data.features[n] for n in names]


def as_numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy()
