"""`autoencoder` and `graph_autoencoder`: masked autoencoders that reconstruct missing modalities.

After the learned baselines of Malitesta et al. (IEEE TKDE 2026, see `mmstudy.missing.learned`):
their autoencoder maps one modality to another on the items that have both, their graph
autoencoder does so through a GCN over the training co-interaction graph. Here both are one
masked autoencoder over all modalities at once, so any observed subset predicts any missing one.
Per item the input is its own content x = [z_m] + [1{m observed}] (`BlockScaler` encodings:
centred, unit RMS row norm per block, 0 where absent), and the output every block z_m:

* ``autoencoder``: out = relu(x W1 + b1) W2 + b2 (the item's other modalities only).
* ``graph_autoencoder``: the encoder also reads the item's neighbourhood on the training
  co-interaction graph (degree-normalised adjacency A, sparse products only, no torch_geometric):
  per block the observed-neighbour means over 1 and 2 hops, g1 = A z / A o and
  g2 = (A A z - d * z) / (A A o - d * o) with o the presence and d = diag(A A) (the walks back to
  the item itself are removed, so an item never reads its own content through the graph), and the
  observed masses A o, A A o - d * o. These aggregates are fixed (SGC-style), computed once;
  out = a1 g1 + a2 g2 + relu([x, masses] W1 + b1) W2 + b2 with learned per-block hop weights
  a1, a2, so an untrained model (a1 = 1, a2 = 0, zero decoder) is the observed-neighbour mean and
  training learns the hop mix and the correction from the item's own other modalities: a masked
  item is reconstructed from its 2-hop neighbourhood even when it has no other modality.

Training uses the training-observed rows only (full batch, Adam, seeded; fitted once per
`handle_missing` call and shared by the modalities it imputes). In each epoch a share `drop` of
the rows hides its own content with a missingness pattern drawn from the masked items' actual
patterns (which modalities they lack), so training asks exactly what imputation asks; the loss is
the squared error of the hidden blocks per hidden block (unit-RMS blocks: a relative squared
error). A seeded 10% of the rows is held out with fixed patterns, and the state with the best
held-out loss (checked every 5 epochs, from the untrained start) is kept, so `epochs` is a
maximum. Defaults (hidden 64, 100 epochs, lr 0.01, no weight decay, drop 0.5) were the best or
within noise of the best on the synthetic data and Last.fm-2K; each is a grid key chosen on
validation. Fallback to the observed mean (counted): an item with no other observed modality
(autoencoder), and additionally no observed row within two hops (graph_autoencoder).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn

from ..errors import ConfigError
from ..sparse import to_torch_csr
from .imputers import register
from .learned import BlockScaler, ImputationContext, LearnedImputer, presence

HELD_OUT = 0.1  # share of the fit rows held out to pick the training epoch
CHECK_EVERY = 5  # epochs between held-out checks


@dataclass(frozen=True)
class _Autoencoder(LearnedImputer):
    """Shared hyper-parameters, training and imputation of the two autoencoders."""
    uses_graph: ClassVar[bool] = False
    hidden: int = 64  # width of the hidden layer
    epochs: int = 100  # most training epochs (the best held-out state is kept)
    lr: float = 0.01
    weight_decay: float = 0.0
    drop: float = 0.5  # share of rows hiding their content per epoch
    param_grid: ClassVar[dict[str, list]] = {"hidden": [64, 256], "epochs": [50, 100, 200],
                                             "weight_decay": [0.0, 1e-4]}

    def __post_init__(self) -> None:
        for key in ("hidden", "epochs"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ConfigError(f"{self.name} {key} must be an integer >= 1, got {value!r}")
        checks = {"lr": self.lr > 0 if _number(self.lr) else False,
                  "weight_decay": self.weight_decay >= 0 if _number(self.weight_decay) else False,
                  "drop": 0 < self.drop <= 1 if _number(self.drop) else False}
        bounds = {"lr": "> 0", "weight_decay": ">= 0", "drop": "in (0, 1]"}
        for key, ok in checks.items():
            if not ok:
                raise ConfigError(f"{self.name} {key} must be a number {bounds[key]}, got {getattr(self, key)!r}")

    def _fit_fill(self, modality, context, graph):
        if self not in context.fitted:  # one joint model serves every modality of this call
            context.fitted[self] = self._fit_predict(context, graph)
        scaler, names, out, no_input = context.fitted[self]
        column = names.index(modality.name)
        start = sum(context.modalities[n].dim for n in names[:column])
        missing = ~modality.present
        values = scaler.decode(modality.name, out[missing, start:start + modality.dim])
        others = np.delete(presence(context.modalities, names), column, axis=1).sum(axis=1) > 0
        return values, (no_input & ~others)[missing]

    def _fit_predict(self, context: ImputationContext, graph):
        """(scaler, modality names, encoded reconstruction of every item, items without neighbour input)."""
        names = list(context.modalities)
        scaler = BlockScaler.fit(context.view)
        blocks = torch.repeat_interleave(torch.eye(len(names)), torch.tensor([context.modalities[n].dim for n in names]),
                                         dim=1)  # (modalities x width) one-hot: per-block masks and sums by matmul
        x = torch.from_numpy(scaler.encode(context.modalities, names))
        present = torch.from_numpy(presence(context.modalities, names))
        train_x = torch.from_numpy(scaler.encode(context.view, names))
        observed = torch.from_numpy(presence(context.view, names))
        # the aggregates read observed rows of other items only; the fit view's and the full data's
        # agree (items without training interactions have no edge), so training sees what imputation sees
        train_graph = neighbourhood(graph.adjacency, train_x, observed, blocks) if self.uses_graph else None
        graph_in = neighbourhood(graph.adjacency, x, present, blocks) if self.uses_graph else None
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(context.seed)
            net = _Net(blocks.shape[1], len(names), self.hidden, graph_in)
        generator = torch.Generator().manual_seed(context.seed)
        patterns = torch.unique(present[present.sum(dim=1) < len(names)], dim=0)  # how real items miss content
        self._train(net, train_x, observed, patterns, blocks, train_graph, generator)
        with torch.no_grad():
            out = net(x, present, blocks, graph_in).numpy()
        no_input = np.ones(len(x), dtype=bool) if graph_in is None else (graph_in[1].sum(dim=1) <= 0).numpy()
        return scaler, names, out, no_input

    def _train(self, net: "_Net", x: torch.Tensor, observed: torch.Tensor, patterns: torch.Tensor,
               blocks: torch.Tensor, graph_in, generator: torch.Generator) -> None:
        """Adam on the hidden-block loss of all rows but a seeded held-out share; the state with the
        best held-out loss (checked every few epochs, from the untrained start) is kept."""
        held = (torch.rand(observed.shape[0], 1, generator=generator) < HELD_OUT) & (observed.sum(1, keepdim=True) > 0)
        held_keep = torch.where(held, hide(observed, patterns, generator, share=1.0), observed)
        optimizer = torch.optim.Adam(net.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        best = (float("inf"), None)
        for epoch in range(self.epochs + 1):
            if epoch % CHECK_EVERY == 0 or epoch == self.epochs:
                with torch.no_grad():
                    score = float(_loss(net(x * (held_keep @ blocks), held_keep, blocks, graph_in), x,
                                        observed - held_keep, blocks))
                if score < best[0]:
                    best = (score, {k: v.clone() for k, v in net.state_dict().items()})
            if epoch == self.epochs:
                break
            keep = torch.where(held, observed, hide(observed, patterns, generator, share=self.drop))
            loss = _loss(net(x * (keep @ blocks), keep, blocks, graph_in), x, observed - keep, blocks)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        if best[1] is not None and (observed - held_keep).sum() > 0:  # else nothing held out: keep the last
            net.load_state_dict(best[1])


def hide(observed: torch.Tensor, patterns: torch.Tensor, generator: torch.Generator, share: float) -> torch.Tensor:
    """The presence left after a `share` of the rows hides its content with one of the real
    missingness `patterns` (rows of presence flags, drawn uniformly)."""
    chosen = torch.randint(len(patterns), (observed.shape[0],), generator=generator)
    rows = torch.rand(observed.shape[0], 1, generator=generator) < share
    return torch.where(rows, observed * patterns[chosen], observed)


def neighbourhood(adjacency: sp.csr_matrix, x: torch.Tensor, present: torch.Tensor,
                  blocks: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """([g1, g2] observed-neighbour means over 1 and 2 hops per block, their observed masses), from
    other items only: the 2-hop walks back to the item itself are subtracted (A is symmetric)."""
    back = torch.from_numpy(np.asarray(adjacency.multiply(adjacency).sum(axis=1), dtype=np.float32))
    a = to_torch_csr(adjacency)
    both = torch.cat([x, present], dim=1)
    one = a @ both
    two = a @ one - back * both
    width, means, masses = x.shape[1], [], []
    for part in (one, two):
        mass = part[:, width:] * (part[:, width:] > 1e-6)  # 0 where no observed neighbour (or round-off)
        means.append(part[:, :width] / (mass @ blocks).clamp_min(1e-6) * ((mass > 0).float() @ blocks))
        masses.append(mass)
    return torch.cat(means, dim=1), torch.cat(masses, dim=1)


def _loss(out: torch.Tensor, x: torch.Tensor, hidden: torch.Tensor, blocks: torch.Tensor) -> torch.Tensor:
    """Squared error of the hidden (row, block) entries, per hidden block (unit-RMS blocks: an RSE)."""
    return (((out - x).square() @ blocks.T) * hidden).sum() / hidden.sum().clamp_min(1.0)


class _Net(nn.Module):
    """Encoder/decoder of `_Autoencoder`. With graph input, out = a1 g1 + a2 g2 + decoder(h): the
    observed-neighbour means weighted per block by learned hop weights (a1 = 1, a2 = 0 and a zero
    decoder at the start: the 1-hop neighbour mean), corrected from the item's own content and its
    neighbour masses. The aggregates never enter the encoder itself: at their width (3x the
    content's) an MLP memorises the training rows instead of learning how to impute."""

    def __init__(self, width: int, n_blocks: int, hidden: int, graph_in):
        super().__init__()
        extra = 0 if graph_in is None else graph_in[1].shape[1]
        self.encoder = nn.Linear(width + n_blocks + extra, hidden)
        self.decoder = nn.Linear(hidden, width)
        self.hops = None
        if graph_in is not None:
            self.hops = nn.Parameter(torch.cat([torch.ones(1, n_blocks), torch.zeros(1, n_blocks)]))
            nn.init.zeros_(self.decoder.weight)
            nn.init.zeros_(self.decoder.bias)

    def forward(self, x: torch.Tensor, keep: torch.Tensor, blocks: torch.Tensor, graph_in) -> torch.Tensor:
        if graph_in is None:
            return self.decoder(torch.relu(self.encoder(torch.cat([x, keep], dim=1))))
        means, masses = graph_in
        width = x.shape[1]
        skip = means[:, :width] * (self.hops[0] @ blocks) + means[:, width:] * (self.hops[1] @ blocks)
        return skip + self.decoder(torch.relu(self.encoder(torch.cat([x, keep, masses], dim=1))))


def _number(value) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float, np.floating, np.integer))


@register("autoencoder", "ae", "denoising_autoencoder")
@dataclass(frozen=True)
class Autoencoder(_Autoencoder):
    """Masked autoencoder over the concatenated modalities: a modality from the item's others."""
    min_modalities: ClassVar[int] = 2


@register("graph_autoencoder", "gae", "graph_ae")
@dataclass(frozen=True)
class GraphAutoencoder(_Autoencoder):
    """Masked graph autoencoder over the training co-interaction graph: a modality from the item's
    other modalities and its 2-hop neighbourhood."""
    needs_graph: ClassVar[bool] = True
    uses_graph: ClassVar[bool] = True
