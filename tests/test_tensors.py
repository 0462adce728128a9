"""Tensor helpers with cheap backward passes: same values and gradients as the plain torch forms."""
import pytest
import torch
from torch.nn import functional as F

from mmstudy.tensors import gather_rows, mean_square, normalize_rows


def values_and_grads(fn, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    x = x.clone().requires_grad_(True)
    out = fn(x)
    probe = torch.linspace(-1, 1, out.numel()).reshape(out.shape)
    (grad,) = torch.autograd.grad((out * probe).sum(), x)
    return out.detach(), grad


def test_gather_rows_equals_separate_gathers():
    torch.manual_seed(0)
    table = torch.randn(30, 4)
    a, b, c = torch.tensor([0, 5, 5, 29]), torch.tensor([7]), torch.tensor([1, 0, 2])
    parts = values_and_grads(lambda t: torch.cat(gather_rows(t, a, b, c)), table)
    plain = values_and_grads(lambda t: torch.cat([t[a], t[b], t[c]]), table)
    for mine, reference in zip(parts, plain):
        assert torch.equal(mine, reference)
    assert [len(p) for p in gather_rows(table, a, b, c)] == [4, 1, 3]


def test_normalize_rows_equals_f_normalize_including_zero_rows():
    torch.manual_seed(0)
    x = torch.randn(50, 8)
    x[3] = 0.0
    mine, reference = values_and_grads(normalize_rows, x), values_and_grads(lambda t: F.normalize(t, dim=1), x)
    for a, b in zip(mine, reference):
        assert torch.allclose(a, b, atol=1e-6)
    assert torch.equal(normalize_rows(x)[3], torch.zeros(8))


@pytest.mark.parametrize("shape", [(1,), (40, 7), (3, 4, 5)])
def test_mean_square_equals_pow_mean(shape):
    torch.manual_seed(0)
    x = torch.randn(*shape)
    mine, reference = values_and_grads(mean_square, x), values_and_grads(lambda t: t.pow(2).mean(), x)
    for a, b in zip(mine, reference):
        assert torch.allclose(a, b, atol=1e-6)
