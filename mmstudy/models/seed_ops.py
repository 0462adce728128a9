"""Per-seed building blocks of seed batches (`models.seed_batch`): tables stacked on a leading seed
axis, (B, n, d), indexed per seed by (B, k) index tensors.

Profiling the batches on CPU (Last.fm-2K, one thread) showed their steps bound by passes over the
(B, k, d) gathered rows, which outgrow the caches that one model's rows fit in: autograd's BPR
loss made about twice the passes it needs (a split's backward concatenating, a multiplication and a
power per term and their backward). `seed_bpr` computes the loss and its gradient by hand in about
half the passes; the gradient is the same function (its rounding differs).
"""
from __future__ import annotations

import torch
from torch.nn import functional as F

from ..tensors import rows


def flat_index(index: torch.Tensor, n: int) -> torch.Tensor:
    """Rows of a (B * n, d) view of a (B, n, d) table: index[b, j] + b * n."""
    return index + torch.arange(index.shape[0], device=index.device).unsqueeze(1) * n


def seed_rows(table: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """(B, k, d): row index[b, j] of table[b] for a (B, n, d) table, in one gather."""
    b, n = table.shape[:2]
    return rows(table.reshape(b * n, -1), flat_index(index, n).reshape(-1)).view(*index.shape, -1)


def seed_squares(rows_: torch.Tensor) -> torch.Tensor:
    """(B,) sums of squares of (B, k, d) rows (one pass forward and backward, unlike pow(2).sum())."""
    return torch.linalg.vector_norm(rows_, dim=(1, 2)).square()


def project(features: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """(B, n, d): every seed's linear projection of `features`, shared (n, f) or per seed (B, n, f),
    with (B, d, f) weights and (B, d) biases: one matrix product for all seeds."""
    if features.dim() == 3:
        return torch.baddbmm(bias.unsqueeze(1), features, weight.transpose(1, 2))
    b, d = bias.shape
    out = torch.addmm(bias.reshape(b * d), features, weight.reshape(b * d, -1).T)
    return out.view(-1, b, d).transpose(0, 1)


def seed_bpr(users: torch.Tensor, items: torch.Tensor, user: torch.Tensor, pos: torch.Tensor, neg: torch.Tensor,
             reg_weight: float = 0.0) -> torch.Tensor:
    """(B,) per-seed BPR losses, mean of -log sigmoid(<u, p> - <u, n>) over each seed's k triples,
    plus `reg_weight` * (|u|^2 + |p|^2 + |n|^2) / k on the scored rows (`base.l2_reg`).

    `users` (B, n_users, d) and `items` (B, n_items, d) are the tables (they may be one tensor, e.g.
    a node table, with items offset in the indices); `user`, `pos`, `neg` are (B, k) row indices.
    """
    return _SeedBPR.apply(users, items, user, pos, neg, float(reg_weight))


class _SeedBPR(torch.autograd.Function):
    """`seed_bpr` with a hand-written backward: the gradient rows computed in a few passes and
    added into one zero gradient per table."""

    @staticmethod
    def forward(ctx, users, items, user, pos, neg, reg):
        k = user.shape[1]
        u, p, n = seed_rows(users, user), seed_rows(items, pos), seed_rows(items, neg)
        diff = p - n
        x = (u * diff).sum(2)
        loss = F.softplus(-x).mean(1)  # -log sigmoid(x)
        if reg:
            loss = loss + reg * (seed_squares(u) + seed_squares(p) + seed_squares(n)) / k
        ctx.save_for_backward(u, p, n, diff, x, user, pos, neg)
        ctx.reg, ctx.same, ctx.shapes = reg, users is items, (users.shape, items.shape)
        return loss

    @staticmethod
    def backward(ctx, grad):
        u, p, n, diff, x, user, pos, neg = ctx.saved_tensors
        b, k, d = u.shape
        slope = (torch.sigmoid(-x) * (grad / -k).unsqueeze(1)).unsqueeze(2)  # d loss / d x, (B, k, 1)
        su = slope * u
        if ctx.reg:
            c = (2 * ctx.reg / k) * grad.view(b, 1, 1)
            gu, gp, gn = torch.addcmul(u * c, slope, diff), torch.addcmul(su, c, p), (n * c).sub_(su)
        else:
            gu, gp, gn = slope * diff, su, su.neg()
        users_shape, items_shape = ctx.shapes
        g_items = _scatter(items_shape, (pos, gp), (neg, gn), *([(user, gu)] if ctx.same else []))
        g_users = None if ctx.same else _scatter(users_shape, (user, gu))
        return (g_items if ctx.same else g_users), (None if ctx.same else g_items), None, None, None, None


def _scatter(shape: torch.Size, *parts: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    """A zero (B, n, d) gradient with each part's (B, k, d) rows added at its (B, k) indices."""
    b, n, d = shape
    out = parts[0][1].new_zeros(b * n, d)
    for index, values in parts:
        out.index_add_(0, flat_index(index, n).reshape(-1), values.reshape(-1, d))
    return out.view(b, n, d)
